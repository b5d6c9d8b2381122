// qrsim run --learn: trains ON CHIP (SystemC tile + learning firmware) on the task's
// training split, from scratch (the float trainer's initial Quantized Rewiring network for
// the seed) or from --net CHECKPOINT, with a progress display; then evaluates the test
// split with learning off. Prints accuracy, energy per training sample (static, and the
// dynamic energy of inference and learning by action, pJ), energy per test inference, the
// step time against the step period in training and in the test, and memory by component
// split into inference and learning (bits).
#include "apps/flags.hpp"
#include "apps/path_guard.hpp"
#include "apps/learn_run.hpp"
#include "apps/learning_curve.hpp"
#include "apps/core_report.hpp"
#include "apps/energy_report.hpp"
#include "apps/progress.hpp"
#include "apps/report.hpp"
#include "common/checkpoint.hpp"
#include "hw_models/checkpoint_loader.hpp"
#include "hw_models/onchip_training.hpp"
#include "hw_models/rule_catalog.hpp"
#include "learning_rules/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace qrsim::app {

void run_learning(const LearnRunOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    HwConfig hw = load_hw_config(o.hw, o.hw_set);
    const std::string traced_source = o.vcd.apply(hw);
    // The table priced for this config now: its errors are config errors (exit 2).
    const EnergyTable table = EnergyTable::load(hw.energy_table);
    (void)EnergyModel(table, hw);
    PathGuard paths = o.paths;
    paths.input("--net", o.net);
    add_hw_paths(paths, hw, o.vcd.output_name());
    paths.output("--report", o.report);
    paths.check();
    const std::unique_ptr<Task> task = make_task(o.config.task);
    const TaskInfo& info = task->info();
    RsnnParams p = o.config.network;
    TileNetwork net;
    if (!o.net.empty()) {
        const Checkpoint cp = load_checkpoint(o.net);
        p = cp.params;
        net = network_from_checkpoint(cp, hw);
    } else {
        p.n_in = info.n_inputs;
        p.n_out = info.n_classes;
        net = network_from_checkpoint(initial_qr_checkpoint(p, hw.constraint(), o.config.seed), hw);
    }
    if (!hw.vcd_file.empty()) check_traced_neurons(hw.vcd_neurons, net.n_rec + net.n_out, traced_source);
    paths.create_output_dirs();  // the VCD (vcd.file) is opened with the chip
    Chip chip(hw, net, "chip");
    LearningEngine& engine = chip.enable_learning(make_learn_params(hw, net, p, info));
    const fw::LearnParams& lp = engine.params();
    const std::string rule = engine.rule().name;
    std::fprintf(stderr, "qrsim run --learn: %s on %s (K=%d), rule %s, traces %s [%d, %d] bits, update %s, feedback %s, %d epochs\n",
                 info.name.c_str(), hw.name.c_str(), hw.fanin, rule.c_str(),
                 lp.placement == fw::place_synapse ? "per synapse" : "per presynaptic neuron", lp.eps_bits, lp.bar_bits,
                 update_name(lp.update), feedback_name(lp.feedback), o.epochs);
    nlohmann::json history = nlohmann::json::array();
    LearningCurve curve;
    OnChipEpoch last;
    int trained = 0;
    double train_seconds = 0;
    // A chip that learns leaks through its learning memories too, in training and in the test.
    const EnergyModel& costs = chip.costs();
    int64_t learn_bits = 0;
    for (const auto& [k, b] : engine.memory_bits()) learn_bits += b;
    const int64_t leaking_bits = costs.tile_memory_bits() + learn_bits;
    // Inference energy, simulated time and step times while training, apart from the test
    // passes --eval-every-epoch adds.
    ActionCounters inf_train{};
    double train_s = 0;
    StepTimeStats train_steps(hw.step_ns * 1e-9);
    for (int e = 1; e <= o.epochs; ++e) {
        if (e > 1) engine.set_learning_rates(make_learn_params(hw, net, p, info, std::pow(hw.learn.lr_decay, e - 1)));
        const ActionCounters inf0 = chip.counters(), learn0 = engine.counters();
        const double sim0 = chip.sim_time_s();
        chip.clear_step_stats();
        {
            ProgressDisplay progress(stderr);
            last = train_on_chip_epoch(chip, *task, e, o.config.seed, [&](const Progress& pr) {
                Progress q = pr;
                q.epochs = o.epochs;
                progress.update(q);
                curve.add(q);
            });
        }
        const int n = task->size(Split::train);
        curve.end_epoch(n);
        trained += n;
        train_seconds += last.wall_s;
        inf_train += chip.counters() - inf0;
        const double epoch_s = chip.sim_time_s() - sim0;
        train_s += epoch_s;
        train_steps.merge(chip.step_stats());
        const double per = n > 0 ? 1.0 / n : 0;
        nlohmann::json entry = {
            {"epoch", e},
            {"train_accuracy", last.train_accuracy},
            {"train_loss", last.train_loss},
            {"samples_per_s", last.samples_per_s},
            {"wall_s", last.wall_s},
            {"learning_energy_per_sample_pj", costs.energy_pj(engine.counters() - learn0).at("dynamic") * per},
            {"inference_energy_per_sample_pj", costs.energy_pj(chip.counters() - inf0).at("dynamic") * per},
            {"static_energy_per_sample_pj", energy_split(costs, {}, epoch_s, leaking_bits).static_pj * per}};
        std::fprintf(stderr, "epoch %d: on-chip train accuracy %.2f %%, loss %.4f, %.0f samples/s", e,
                     100 * last.train_accuracy, last.train_loss, last.samples_per_s);
        if (o.eval_every_epoch && e < o.epochs) {  // the last epoch's test is the run's test below
            const OnChipEval t = evaluate_on_chip(chip, *task, Split::test);
            entry["test_accuracy"] = t.accuracy;
            entry["test_loss"] = t.loss;
            std::fprintf(stderr, ", test accuracy %.2f %%", 100 * t.accuracy);
        }
        std::fputc('\n', stderr);
        history.push_back(std::move(entry));
    }
    // How much of the fan-in budget learning left in use (dormant entries are cleared).
    FaninTable& fanin = chip.tile(0).fanin_table();
    double hidden_used = 0, readout_used = 0;
    for (int s = 0; s < net.n_rec; ++s) hidden_used += fanin.used(s);
    for (int k = 0; k < net.n_out; ++k) readout_used += fanin.used(net.n_rec + k);
    hidden_used /= std::max(1, net.n_rec);
    readout_used /= std::max(1, net.n_out);
    const ActionCounters learn = engine.counters();
    CoreRun core_run;
    core_run.engine = &engine;
    core_run.samples = static_cast<uint64_t>(trained);
    core_run.steps_per_sample = info.n_steps + 1;
    core_run.step_s = hw.step_ns * 1e-9;
    core_run.sim_time_s = chip.sim_time_s();
    const nlohmann::json core = core_report(core_run);
    const nlohmann::json train_timing = step_timing_json(train_steps);
    chip.clear_step_stats();
    const ActionCounters before_test = chip.counters();
    const double sim_before_test = chip.sim_time_s();
    const OnChipEval test = evaluate_on_chip(chip, *task, Split::test);
    const double acc = test.accuracy;
    const ActionCounters inf_test = chip.counters() - before_test;
    const double test_s = chip.sim_time_s() - sim_before_test;
    const nlohmann::json test_timing = step_timing_json(chip.step_stats());
    if (!history.empty()) {
        history.back()["test_accuracy"] = test.accuracy;
        history.back()["test_loss"] = test.loss;
    }
    chip.close_trace();  // the run is complete: the VCD goes into place
    const int n_test = task->size(Split::test);
    const double per_train = trained > 0 ? 1.0 / trained : 0, per_test = n_test > 0 ? 1.0 / n_test : 0;
    const MemoryMap mem = chip.memory();
    const auto lmem = engine.memory_bits();
    int64_t inf_bits = 0, core_bits = 0;
    for (const auto& [k, b] : mem.bits) inf_bits += b;
    for (const char* k : {"learn.core_ram", "learn.core_rom"}) core_bits += lmem.at(k);
    const nlohmann::json e_inf = energy_json(costs, inf_train, 0, leaking_bits, per_train),
                         e_learn = energy_json(costs, learn, 0, leaking_bits, per_train),
                         e_test = energy_json(costs, inf_test, test_s, leaking_bits, per_test);
    const double static_train = energy_split(costs, ActionCounters{}, train_s, leaking_bits).static_pj * per_train;
    const double dynamic_train = e_inf["dynamic"].get<double>() + e_learn["dynamic"].get<double>();
    // The rule's own state (traces, hidden parameters, accumulators, moments) is what an
    // update mode costs; its working buffers are what its code needs in the core's RAM;
    // the rest of the core's program and data memory is the same for every rule.
    const int64_t scratch_bits = lmem.at("learn.scratch");
    const int64_t state_bits = learn_bits - core_bits - scratch_bits;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::printf("on-chip test accuracy %.2f %% on %d samples of %s after %d epochs (%d training samples)\n", 100 * acc,
                n_test, info.name.c_str(), o.epochs, trained);
    std::printf("energy per training sample (pJ, table %s; static power %.1f uW):  %14s %14s\n", table.name().c_str(),
                costs.static_w(leaking_bits) * 1e6, "inference", "learning");
    for (const auto& [name, pj] : e_inf.items())
        if (name != "total" && name != "static")
            std::printf("  %-16s %14.1f %14.1f\n", name.c_str(), pj.get<double>(), e_learn[name].get<double>());
    std::printf("  %-16s %14.1f (inference and learning)\n", "static", static_train);
    std::printf("  %-16s %14.1f\n", "total", dynamic_train + static_train);
    std::printf("energy per training sample: %.3f uJ = static %.3f uJ (%.1f %%) + dynamic inference %.3f uJ + "
                "dynamic learning %.3f uJ\n",
                (dynamic_train + static_train) * 1e-6, static_train * 1e-6,
                100 * static_train / std::max(1e-30, dynamic_train + static_train), e_inf["dynamic"].get<double>() * 1e-6,
                e_learn["dynamic"].get<double>() * 1e-6);
    print_energy_split(stdout, "energy per test inference", e_test);
    print_step_timing(stdout, "step time in training", train_timing);
    print_step_timing(stdout, "step time in the test", test_timing);
    const double inf_pct = 100.0 / std::max<int64_t>(1, inf_bits);
    std::printf("memory (bits): inference %lld; learning state %lld (%.1f %% of inference) + the rule's working buffers %lld "
                "+ the rest of the learning core's RAM and ROM %lld = %lld (%.1f %%)\n",
                static_cast<long long>(inf_bits), static_cast<long long>(state_bits), state_bits * inf_pct,
                static_cast<long long>(scratch_bits), static_cast<long long>(core_bits), static_cast<long long>(learn_bits),
                learn_bits * inf_pct);
    for (const auto& [name, bits] : mem.bits) std::printf("  inference %-20s %12lld\n", name.c_str(), static_cast<long long>(bits));
    for (const auto& [name, bits] : lmem) std::printf("  learning  %-20s %12lld\n", name.c_str(), static_cast<long long>(bits));
    print_core_summary(stdout, core);
    std::printf("fan-in in use after learning (mean of K=%d): hidden %.1f, readout %.1f\n", hw.fanin, hidden_used,
                readout_used);
    std::printf("firmware writes refused by the tile: %llu; weight updates: %u; wall time %.1f s\n",
                static_cast<unsigned long long>(engine.refused()), engine.updates(), wall);
    if (!hw.vcd_file.empty()) std::printf("vcd: %s\n", hw.vcd_file.c_str());

    if (!o.report.empty()) {
        nlohmann::json rep = base_report("run", o.config);
        rep["core"] = core;
        nlohmann::json settings = nlohmann::json::object();
        const fw::RuleInfo& ri = engine.rule();
        for (uint32_t i = 0; i < ri.n_settings; ++i)
            settings[ri.settings[i].key] = ri.settings[i].type == fw::setting_boolean ? nlohmann::json(lp.settings[i] != 0)
                                                                                      : nlohmann::json(lp.settings[i]);
        rep["learn"] = {{"rule", rule}, {"update", update_name(lp.update)}, {"feedback", feedback_name(lp.feedback)},
                        {"settings", settings}, {"firmware", engine.on_iss() ? hw.learn.firmware : "native"},
                        {"placement", lp.placement == fw::place_synapse ? "synapse" : "presynaptic"},
                        {"trace_bits", {lp.eps_bits, lp.bar_bits}}, {"epochs", o.epochs}, {"refused_writes", engine.refused()},
                        {"updates", engine.updates()},
                        {"fanin_used_mean", {{"hidden", hidden_used}, {"readout", readout_used}}}};
        rep["test_accuracy"] = acc;
        rep["test_loss"] = test.loss;
        rep["test_samples"] = n_test;
        rep["epochs"] = o.epochs;
        rep["train_accuracy"] = last.train_accuracy;
        rep["train_loss"] = last.train_loss;
        rep["train_samples_per_s"] = train_seconds > 0 ? trained / train_seconds : 0.0;
        rep["train_seconds"] = train_seconds;
        rep["epoch_history"] = history;
        rep["train_curve"] = curve.points();
        nlohmann::json mi = nlohmann::json::object(), ml = nlohmann::json::object();
        for (const auto& [k, b] : mem.bits) mi[k] = b;
        for (const auto& [k, b] : lmem) ml[k] = b;
        // Dynamic energy by action for the tile's inference and the learning engine; the
        // static energy of the training time once, for both.
        nlohmann::json ei = e_inf, el = e_learn;
        for (nlohmann::json* e : {&ei, &el}) {
            e->erase("static");
            (*e)["total"] = (*e)["dynamic"];
        }
        rep["energy_per_training_sample_pj"] = {{"inference", ei}, {"learning", el}, {"static", static_train},
                                                {"dynamic", dynamic_train}, {"total", dynamic_train + static_train}};
        rep["energy_per_test_inference_pj"] = e_test;
        rep["energy_per_inference_pj"] = e_test["total"];
        rep["static_power"] = static_power_json(costs, leaking_bits);
        rep["step_timing"] = {{"training", train_timing}, {"test", test_timing}};
        rep["memory_bits"] = {{"inference", mi}, {"learning", ml}, {"inference_total", inf_bits}, {"learning_total", learn_bits},
                              {"learning_state", state_bits}, {"learning_scratch", scratch_bits}};
        rep["wall_time_s"] = wall;
        rep["hw"] = {{"name", hw.name}, {"source", hw.source}, {"fanin", hw.fanin}};
        paths.create_output_dirs();
        write_report(o.report, rep);
        std::printf("report: %s\n", o.report.c_str());
    }
}

}  // namespace qrsim::app
