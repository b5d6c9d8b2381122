// qrsim run --learn: trains ON CHIP (SystemC tile + learning firmware) on the task's
// training split, from scratch (the float trainer's initial Quantized Rewiring network for
// the seed) or from --net CHECKPOINT, with a progress display; then evaluates the test
// split with learning off. Prints accuracy, energy per training sample (static, and the
// dynamic energy of inference and learning by action, pJ), energy per test inference, the
// step time against the step period in training and in the test, and memory by component
// split into inference and learning (bits).
#include "apps/core_report.hpp"
#include "apps/energy_report.hpp"
#include "apps/flags.hpp"
#include "apps/learn_run.hpp"
#include "apps/learning_curve.hpp"
#include "apps/path_guard.hpp"
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
#include <map>
#include <memory>
#include <utility>

namespace qrsim::app {

namespace {

// The hw config, task and network of the run, every flag and path checked first.
struct LearnSetup {
    HwConfig hw;
    EnergyTable table;
    PathGuard paths;
    std::unique_ptr<Task> task;
    RsnnParams params;
    TileNetwork net;
};

LearnSetup prepare_learning(const LearnRunOptions& o) {
    HwConfig hw = load_hw_config(o.hw, o.hw_set);
    const std::string traced_source = o.vcd.apply(hw);
    // The table priced for this config now: its errors are config errors (exit 2).
    EnergyTable table = EnergyTable::load(hw.energy_table);
    (void)EnergyModel(table, hw);
    LearnSetup su{std::move(hw), std::move(table), o.paths, nullptr, o.config.network, {}};
    su.paths.input("--net", o.net);
    add_hw_paths(su.paths, su.hw, o.vcd.output_name());
    su.paths.output("--report", o.report);
    su.paths.check();
    su.task = make_task(o.config.task);
    const TaskInfo& info = su.task->info();
    if (!o.net.empty()) {
        const Checkpoint cp = load_checkpoint(o.net);
        su.params = cp.params;
        su.net = network_from_checkpoint(cp, su.hw);
    } else {
        su.params.n_in = info.n_inputs;
        su.params.n_out = info.n_classes;
        su.net = network_from_checkpoint(initial_qr_checkpoint(su.params, su.hw.constraint(), o.config.seed), su.hw);
    }
    if (!su.hw.vcd_file.empty()) check_traced_neurons(su.hw.vcd_neurons, su.net.n_rec + su.net.n_out, traced_source);
    return su;
}

void print_learning_setup(const LearnSetup& su, const LearningEngine& engine, int epochs) {
    const HwConfig& hw = su.hw;
    const fw::LearnParams& lp = engine.params();
    char momentum[32] = "";
    if (lp.momentum) std::snprintf(momentum, sizeof momentum, " (momentum %g)", hw.learn.momentum);
    std::fprintf(stderr, "qrsim run --learn: %s on %s (K=%d), rule %s, traces %s [%d, %d] bits, update %s%s, feedback %s, %d epochs\n",
                 su.task->info().name.c_str(), hw.name.c_str(), hw.fanin, engine.rule().name,
                 lp.placement == fw::place_synapse ? "per synapse" : "per presynaptic neuron", lp.eps_bits, lp.bar_bits,
                 update_name(lp.update), momentum, feedback_name(lp.feedback), epochs);
    print_mismatch(stderr, hw);
}

int64_t total_bits(const std::map<std::string, int64_t>& bits) {
    int64_t total = 0;
    for (const auto& [k, b] : bits) total += b;
    return total;
}

// What the epochs on chip measured, apart from the test passes --eval-every-epoch adds: the
// per-epoch history, the learning curve, the inference energy, simulated time and step times.
struct TrainingRun {
    explicit TrainingRun(double step_s) : steps(step_s) {}
    nlohmann::json history = nlohmann::json::array();
    LearningCurve curve;
    OnChipEpoch last;
    int trained = 0;
    double train_seconds = 0;  // wall time
    ActionCounters inf_train{};
    double train_s = 0;  // simulated time
    StepTimeStats steps;
};

// The epochs on chip, the learning rates decayed per epoch as the float trainer decays them.
// `leaking_bits`: the memory whose static energy each epoch's history entry reports.
TrainingRun train_epochs(Chip& chip, LearningEngine& engine, const LearnSetup& su, const LearnRunOptions& o,
                         int64_t leaking_bits) {
    const HwConfig& hw = su.hw;
    const Task& task = *su.task;
    const TaskInfo& info = task.info();
    const EnergyModel& costs = chip.costs();
    TrainingRun tr(hw.step_ns * 1e-9);
    for (int e = 1; e <= o.epochs; ++e) {
        if (e > 1) engine.set_learning_rates(make_learn_params(hw, su.net, su.params, info, std::pow(hw.learn.lr_decay, e - 1)));
        const ActionCounters inf0 = chip.counters(), learn0 = engine.counters();
        const double sim0 = chip.sim_time_s();
        chip.clear_step_stats();
        {
            ProgressDisplay progress(stderr);
            tr.last = train_on_chip_epoch(chip, task, e, o.config.seed, [&](const Progress& pr) {
                Progress q = pr;
                q.epochs = o.epochs;
                progress.update(q);
                tr.curve.add(q);
            });
        }
        const OnChipEpoch& last = tr.last;
        const int n = task.size(Split::train);
        tr.curve.end_epoch(n);
        tr.trained += n;
        tr.train_seconds += last.wall_s;
        tr.inf_train += chip.counters() - inf0;
        const double epoch_s = chip.sim_time_s() - sim0;
        tr.train_s += epoch_s;
        tr.steps.merge(chip.step_stats());
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
            const OnChipEval t = evaluate_on_chip(chip, task, Split::test);
            entry["test_accuracy"] = t.accuracy;
            entry["test_loss"] = t.loss;
            std::fprintf(stderr, ", test accuracy %.2f %%", 100 * t.accuracy);
        }
        std::fputc('\n', stderr);
        tr.history.push_back(std::move(entry));
    }
    return tr;
}

// What a learning run measured after training: the test, energy split into static and the
// dynamic energy of inference and learning, step times, memory.
struct LearnResults {
    int64_t learn_bits = 0;    // the learning engine's memories
    int64_t leaking_bits = 0;  // the tile's and the learning engine's: what leaks
    double hidden_used = 0, readout_used = 0;  // mean CAM entries in use per neuron
    nlohmann::json core, train_timing, test_timing;
    OnChipEval test;
    int n_test = 0;
    ActionCounters inf_test{};
    double test_s = 0;  // simulated time of the test
    // Per training sample (e_inf, e_learn) and per test inference (e_test).
    nlohmann::json e_inf, e_learn, e_test;
    double static_train = 0, dynamic_train = 0;
    MemoryMap mem;
    std::map<std::string, int64_t> lmem;
    int64_t inf_bits = 0, core_bits = 0, scratch_bits = 0, state_bits = 0;
    double wall = 0;
};

// How much of the fan-in budget learning left in use (dormant entries are cleared).
void measure_fanin_in_use(Chip& chip, const TileNetwork& net, LearnResults& r) {
    FaninTable& fanin = chip.tile(0).fanin_table();
    for (int s = 0; s < net.n_rec; ++s) r.hidden_used += fanin.used(s);
    for (int k = 0; k < net.n_out; ++k) r.readout_used += fanin.used(net.n_rec + k);
    r.hidden_used /= std::max(1, net.n_rec);
    r.readout_used /= std::max(1, net.n_out);
}

nlohmann::json core_summary(const LearningEngine& engine, const LearnSetup& su, const Chip& chip, int trained) {
    CoreRun core_run;
    core_run.engine = &engine;
    core_run.samples = static_cast<uint64_t>(trained);
    core_run.steps_per_sample = su.task->info().n_steps + 1;
    core_run.step_s = su.hw.step_ns * 1e-9;
    core_run.sim_time_s = chip.sim_time_s();
    return core_report(core_run);
}

// The test split with learning off, its energy and step times apart from training's; the last
// epoch's history entry gets its accuracy and loss.
void test_after_training(Chip& chip, const Task& task, TrainingRun& tr, LearnResults& r) {
    chip.clear_step_stats();
    const ActionCounters before_test = chip.counters();
    const double sim_before_test = chip.sim_time_s();
    r.test = evaluate_on_chip(chip, task, Split::test);
    r.inf_test = chip.counters() - before_test;
    r.test_s = chip.sim_time_s() - sim_before_test;
    r.test_timing = step_timing_json(chip.step_stats());
    if (!tr.history.empty()) {
        tr.history.back()["test_accuracy"] = r.test.accuracy;
        tr.history.back()["test_loss"] = r.test.loss;
    }
    r.n_test = task.size(Split::test);
}

void price_energy(const EnergyModel& costs, const TrainingRun& tr, const ActionCounters& learn, LearnResults& r) {
    const double per_train = tr.trained > 0 ? 1.0 / tr.trained : 0, per_test = r.n_test > 0 ? 1.0 / r.n_test : 0;
    r.e_inf = energy_json(costs, tr.inf_train, 0, r.leaking_bits, per_train);
    r.e_learn = energy_json(costs, learn, 0, r.leaking_bits, per_train);
    r.e_test = energy_json(costs, r.inf_test, r.test_s, r.leaking_bits, per_test);
    r.static_train = energy_split(costs, ActionCounters{}, tr.train_s, r.leaking_bits).static_pj * per_train;
    r.dynamic_train = r.e_inf["dynamic"].get<double>() + r.e_learn["dynamic"].get<double>();
}

void measure_memory(const Chip& chip, const LearningEngine& engine, LearnResults& r) {
    r.mem = chip.memory();
    r.lmem = engine.memory_bits();
    r.inf_bits = total_bits(r.mem.bits);
    for (const char* k : {"learn.core_ram", "learn.core_rom"}) r.core_bits += r.lmem.at(k);
    // The rule's own state (traces, hidden parameters, accumulators, moments) is what an
    // update mode costs; its working buffers are what its code needs in the core's RAM;
    // the rest of the core's program and data memory is the same for every rule.
    r.scratch_bits = r.lmem.at("learn.scratch");
    r.state_bits = r.learn_bits - r.core_bits - r.scratch_bits;
}

void print_learning_results(const LearnResults& r, const TrainingRun& tr, const LearnSetup& su, const EnergyModel& costs,
                            const LearningEngine& engine, int epochs) {
    const HwConfig& hw = su.hw;
    std::printf("on-chip test accuracy %.2f %% on %d samples of %s after %d epochs (%d training samples)\n",
                100 * r.test.accuracy, r.n_test, su.task->info().name.c_str(), epochs, tr.trained);
    std::printf("energy per training sample (pJ, table %s; static power %.1f uW):  %14s %14s\n", su.table.name().c_str(),
                costs.static_w(r.leaking_bits) * 1e6, "inference", "learning");
    for (const auto& [name, pj] : r.e_inf.items())
        if (name != "total" && name != "static")
            std::printf("  %-16s %14.1f %14.1f\n", name.c_str(), pj.get<double>(), r.e_learn[name].get<double>());
    std::printf("  %-16s %14.1f (inference and learning)\n", "static", r.static_train);
    std::printf("  %-16s %14.1f\n", "total", r.dynamic_train + r.static_train);
    std::printf("energy per training sample: %.3f uJ = static %.3f uJ (%.1f %%) + dynamic inference %.3f uJ + "
                "dynamic learning %.3f uJ\n",
                (r.dynamic_train + r.static_train) * 1e-6, r.static_train * 1e-6,
                100 * r.static_train / std::max(1e-30, r.dynamic_train + r.static_train),
                r.e_inf["dynamic"].get<double>() * 1e-6, r.e_learn["dynamic"].get<double>() * 1e-6);
    print_energy_split(stdout, "energy per test inference", r.e_test);
    print_step_timing(stdout, "step time in training", r.train_timing);
    print_step_timing(stdout, "step time in the test", r.test_timing);
    const double inf_pct = 100.0 / std::max<int64_t>(1, r.inf_bits);
    std::printf("memory (bits): inference %lld; learning state %lld (%.1f %% of inference) + the rule's working buffers %lld "
                "+ the rest of the learning core's RAM and ROM %lld = %lld (%.1f %%)\n",
                static_cast<long long>(r.inf_bits), static_cast<long long>(r.state_bits), r.state_bits * inf_pct,
                static_cast<long long>(r.scratch_bits), static_cast<long long>(r.core_bits),
                static_cast<long long>(r.learn_bits), r.learn_bits * inf_pct);
    for (const auto& [name, bits] : r.mem.bits) std::printf("  inference %-20s %12lld\n", name.c_str(), static_cast<long long>(bits));
    for (const auto& [name, bits] : r.lmem) std::printf("  learning  %-20s %12lld\n", name.c_str(), static_cast<long long>(bits));
    print_core_summary(stdout, r.core);
    std::printf("fan-in in use after learning (mean of K=%d): hidden %.1f, readout %.1f\n", hw.fanin, r.hidden_used,
                r.readout_used);
    std::printf("firmware writes refused by the tile: %llu; weight updates: %u; wall time %.1f s\n",
                static_cast<unsigned long long>(engine.refused()), engine.updates(), r.wall);
    if (!hw.vcd_file.empty()) std::printf("vcd: %s\n", hw.vcd_file.c_str());
}

// The rule that ran: its name, update, feedback, settings and image.
nlohmann::json learn_summary(const LearnResults& r, const HwConfig& hw, const LearningEngine& engine, int epochs) {
    const fw::LearnParams& lp = engine.params();
    const fw::RuleInfo& ri = engine.rule();
    nlohmann::json settings = nlohmann::json::object();
    for (uint32_t i = 0; i < ri.n_settings; ++i)
        settings[ri.settings[i].key] = ri.settings[i].type == fw::setting_boolean ? nlohmann::json(lp.settings[i] != 0)
                                                                                  : nlohmann::json(lp.settings[i]);
    return {{"rule", std::string(ri.name)}, {"update", update_name(lp.update)}, {"momentum", hw.learn.momentum},
            {"feedback", feedback_name(lp.feedback)}, {"settings", settings}, {"firmware", engine.on_iss() ? hw.learn.firmware : "native"},
            {"placement", lp.placement == fw::place_synapse ? "synapse" : "presynaptic"},
            {"trace_bits", {lp.eps_bits, lp.bar_bits}}, {"epochs", epochs}, {"refused_writes", engine.refused()},
            {"updates", engine.updates()},
            {"fanin_used_mean", {{"hidden", r.hidden_used}, {"readout", r.readout_used}}}};
}

nlohmann::json learning_report(const LearnResults& r, const TrainingRun& tr, const LearnSetup& su,
                               const EnergyModel& costs, const LearningEngine& engine, const LearnRunOptions& o) {
    const HwConfig& hw = su.hw;
    nlohmann::json rep = base_report("run", o.config);
    rep["core"] = r.core;
    rep["learn"] = learn_summary(r, hw, engine, o.epochs);
    rep["test_accuracy"] = r.test.accuracy;
    rep["test_loss"] = r.test.loss;
    rep["test_samples"] = r.n_test;
    rep["epochs"] = o.epochs;
    rep["train_accuracy"] = tr.last.train_accuracy;
    rep["train_loss"] = tr.last.train_loss;
    rep["train_samples_per_s"] = tr.train_seconds > 0 ? tr.trained / tr.train_seconds : 0.0;
    rep["train_seconds"] = tr.train_seconds;
    rep["epoch_history"] = tr.history;
    rep["train_curve"] = tr.curve.points();
    nlohmann::json mi = nlohmann::json::object(), ml = nlohmann::json::object();
    for (const auto& [k, b] : r.mem.bits) mi[k] = b;
    for (const auto& [k, b] : r.lmem) ml[k] = b;
    // Dynamic energy by action for the tile's inference and the learning engine; the
    // static energy of the training time once, for both.
    nlohmann::json ei = r.e_inf, el = r.e_learn;
    for (nlohmann::json* e : {&ei, &el}) {
        e->erase("static");
        (*e)["total"] = (*e)["dynamic"];
    }
    rep["energy_per_training_sample_pj"] = {{"inference", ei}, {"learning", el}, {"static", r.static_train},
                                            {"dynamic", r.dynamic_train}, {"total", r.dynamic_train + r.static_train}};
    rep["energy_per_test_inference_pj"] = r.e_test;
    rep["energy_per_inference_pj"] = r.e_test["total"];
    rep["static_power"] = static_power_json(costs, r.leaking_bits);
    rep["step_timing"] = {{"training", r.train_timing}, {"test", r.test_timing}};
    rep["memory_bits"] = {{"inference", mi}, {"learning", ml}, {"inference_total", r.inf_bits}, {"learning_total", r.learn_bits},
                          {"learning_state", r.state_bits}, {"learning_scratch", r.scratch_bits}};
    rep["wall_time_s"] = r.wall;
    rep["hw"] = hw_report(hw);
    return rep;
}

}  // namespace

void run_learning(const LearnRunOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    LearnSetup su = prepare_learning(o);
    su.paths.create_output_dirs();  // the VCD (vcd.file) is opened with the chip
    Chip chip(su.hw, su.net, "chip");
    LearningEngine& engine = chip.enable_learning(make_learn_params(su.hw, su.net, su.params, su.task->info()));
    print_learning_setup(su, engine, o.epochs);
    const EnergyModel& costs = chip.costs();

    LearnResults r;
    // A chip that learns leaks through its learning memories too, in training and in the test.
    r.learn_bits = total_bits(engine.memory_bits());
    r.leaking_bits = costs.tile_memory_bits() + r.learn_bits;
    TrainingRun tr = train_epochs(chip, engine, su, o, r.leaking_bits);
    measure_fanin_in_use(chip, su.net, r);
    const ActionCounters learn = engine.counters();
    r.core = core_summary(engine, su, chip, tr.trained);
    r.train_timing = step_timing_json(tr.steps);
    test_after_training(chip, *su.task, tr, r);
    chip.close_trace();  // the run is complete: the VCD goes into place
    price_energy(costs, tr, learn, r);
    measure_memory(chip, engine, r);
    r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    print_learning_results(r, tr, su, costs, engine, o.epochs);
    if (!o.report.empty()) {
        su.paths.create_output_dirs();
        write_report(o.report, learning_report(r, tr, su, costs, engine, o));
        std::printf("report: %s\n", o.report.c_str());
    }
}

}  // namespace qrsim::app
