// qrsim run: inference of a trained constrained network on the SystemC tile(s).
//
//   qrsim run --hw configs/hw/dynapse2.toml --net CHECKPOINT [--task fmnist-rows]
//   qrsim run --learn --hw dynapse2 [--epochs N] [--hw-set learn.update=stochastic] ...
//             [--test-samples N] [--report R.json] [--vcd FILE [--vcd-neurons 0,1,2]]
//   (--vcd traces inference and on-chip training alike; a flag that does nothing in the
//   chosen mode, e.g. --ann with --learn, is refused with exit 2)
//   qrsim run --net CONVERTED --task fmnist-rate --ann ANN.json   (also: agreement with the ANN)
//
// The checkpoint's weights are decomposed into CAM entries (hw_models/checkpoint_loader),
// written into the tiles through their checked interface, and the test split runs sample
// by sample as AER input. Prints accuracy (tile and float), energy per inference split
// into static and dynamic (and by action, pJ), the step time against the step period,
// memory by component (bits), SOPs and simulated time.
//
// SystemC needs its kernel started by sc_elab_and_sim, which calls sc_main: the command's
// callback stores the parsed command, starts the kernel, and sc_main (below) runs it.
// Exceptions cross back to run_cli so errors keep the CLI's one-line format and exit codes.
#include "apps/cli.hpp"
#include "apps/energy_report.hpp"
#include "apps/flags.hpp"
#include "apps/learn_run.hpp"
#include "apps/path_guard.hpp"
#include "apps/progress.hpp"
#include "apps/report.hpp"
#include "common/checkpoint.hpp"
#include "hw_models/checkpoint_loader.hpp"
#include "hw_models/chip.hpp"
#include "hw_models/rule_catalog.hpp"
#include "learning_rules/ann.hpp"
#include "learning_rules/trainer.hpp"

#include <systemc>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <sstream>
#include <utility>

namespace qrsim::app {

namespace {

struct RunCommand {
    ConfigFlags flags;
    std::string hw = "dynapse2";
    std::string net;
    std::string ann;  // the ANN a converted network came from: report the tile's agreement with it
    std::string report;
    VcdFlags vcd;
    bool learn = false;  // on-chip training (apps/cmd_learn.cpp)
    int epochs = 1;
    bool eval_every_epoch = false;
    std::vector<std::string> hw_set;
};

const RunCommand* g_pending = nullptr;
std::exception_ptr g_error;

// "0,1,2": each a whole decimal number (std::stoi would read "1x" as 1 and "-1" as a slot).
std::vector<int> parse_neuron_list(const std::string& text) {
    std::vector<int> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        int v = -1;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v < 0)
            throw UsageError("--vcd-neurons " + text + ": '" + item + "' is not a neuron index (expected e.g. 0,1,2)");
        out.push_back(v);
    }
    if (out.empty()) throw UsageError("--vcd-neurons: give at least one neuron index, e.g. 0,1,2");
    return out;
}

// The ANN a network was converted from, on the same test images (fmnist-rate encodes them
// in order): its predictions, for the tile's agreement, and its accuracy.
struct AnnReference {
    std::vector<int> predictions;
    double accuracy = 0;
};

AnnReference ann_reference(const std::string& path, const Config& config, const TaskInfo& info) {
    AnnReference r;
    if (path.empty()) return r;
    if (info.name != "fmnist-rate")
        throw UsageError("--ann compares with the ANN a network was converted from: it needs --task fmnist-rate");
    const Ann ann = load_ann(path);
    const ImageSet images = load_fmnist_images(config.task.data_dir, Split::test, config.task.test_samples);
    if (ann.n_in() != images.x.cols() || ann.n_out() != info.n_classes)
        throw std::runtime_error("--ann " + path + " has " + std::to_string(ann.n_in()) + " inputs and " +
                                 std::to_string(ann.n_out()) + " outputs, the task's images have " +
                                 std::to_string(images.x.cols()) + " pixels and " + std::to_string(info.n_classes) +
                                 " classes");
    r.predictions = ann.predict(images.x);
    for (size_t i = 0; i < r.predictions.size(); ++i) r.accuracy += r.predictions[i] == images.labels[i];
    r.accuracy /= std::max<size_t>(r.predictions.size(), 1);
    return r;
}

// What one inference run measured; counts are over the whole run.
struct TileRun {
    int samples = 0, correct = 0, agree = 0;
    double float_accuracy = 0;
    ActionCounters counters;
    nlohmann::json energy, energy_run, static_power, step_timing;  // energy: per inference
    MemoryMap memory;
    double sim_time_s = 0, wall_s = 0;
    double per_sample() const { return samples > 0 ? 1.0 / samples : 0; }
    double accuracy() const { return correct * per_sample(); }
};

// The test split through the chip, sample by sample, with a progress display.
void run_test_split(Chip& chip, const Task& task, const AnnReference& ann, TileRun& r) {
    const TaskInfo& info = task.info();
    r.samples = task.size(Split::test);
    SpikeSample sample;
    ProgressDisplay progress(stderr);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < r.samples; ++i) {
        task.encode(Split::test, i, sample);
        const int prediction = chip.run_sample(sample, info.readout_begin).prediction;
        r.correct += prediction == sample.label;
        if (!ann.predictions.empty()) r.agree += prediction == ann.predictions.at(i);
        Progress p;
        p.epoch = 1;
        p.epochs = 1;
        p.samples_done = i + 1;
        p.samples_total = r.samples;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        p.samples_per_s = s > 0 ? (i + 1) / s : 0;
        p.running_accuracy = double(r.correct) / (i + 1);
        progress.update(p);
    }
    progress.finish_line();
}

void print_tile_run(const TileRun& r, const HwConfig& hw, const std::string& table, const std::string& task,
                    const AnnReference& ann) {
    const double per = r.per_sample();
    std::printf("tile accuracy %.2f %% (float %.2f %%) on %d test samples of %s\n", 100 * r.accuracy(),
                100 * r.float_accuracy, r.samples, task.c_str());
    std::printf("energy per inference (pJ, table %s; static power %.1f uW):\n", table.c_str(),
                r.static_power["watts"].get<double>() * 1e6);
    for (const auto& [name, pj] : r.energy.items())
        if (name != "total" && name != "static" && name != "dynamic")
            std::printf("  %-16s %14.1f\n", name.c_str(), pj.get<double>());
    for (const char* k : {"dynamic", "static", "total"}) std::printf("  %-16s %14.1f\n", k, r.energy[k].get<double>());
    print_energy_split(stdout, "energy per inference", r.energy);
    print_step_timing(stdout, "step time", r.step_timing);
    std::printf("memory (bits, %d tile%s):\n", hw.tiles(), hw.tiles() == 1 ? "" : "s");
    for (const auto& [name, bits] : r.memory.bits) std::printf("  %-16s %14lld\n", name.c_str(), static_cast<long long>(bits));
    std::printf("SOPs %llu (%.0f per inference), simulated time %.3f s, wall time %.1f s\n",
                static_cast<unsigned long long>(r.counters[Action::sop]), r.counters[Action::sop] * per, r.sim_time_s,
                r.wall_s);
    if (!ann.predictions.empty())
        std::printf("agreement with the ANN %.2f %% (ANN accuracy %.2f %%)\n", 100.0 * r.agree * per, 100 * ann.accuracy);
    if (!hw.vcd_file.empty()) std::printf("vcd: %s\n", hw.vcd_file.c_str());
}

nlohmann::json tile_run_report(const TileRun& r, const RunCommand& cmd, const Config& config, const HwConfig& hw,
                               const AnnReference& ann) {
    const double per = r.per_sample();
    nlohmann::json report = base_report("run", config);
    report["test_accuracy"] = r.accuracy();
    report["float_test_accuracy"] = r.float_accuracy;
    report["test_samples"] = r.samples;
    if (!ann.predictions.empty()) {
        report["ann"] = cmd.ann;
        report["ann_accuracy"] = ann.accuracy;
        report["agreement_ann"] = r.agree * per;
    }
    // energy_pj: per inference, by action, dynamic, static and total; energy_run_pj: the
    // whole run.
    report["energy_pj"] = r.energy;
    report["energy_run_pj"] = r.energy_run;
    report["energy_per_inference_pj"] = r.energy["total"];
    report["static_power"] = r.static_power;
    report["step_timing"] = r.step_timing;
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [name, bits] : r.memory.bits) m[name] = bits;
    report["memory_bits"] = m;
    nlohmann::json c = nlohmann::json::object();
    for (int a = 0; a < kActionCount; ++a) c[action_name(static_cast<Action>(a))] = r.counters.n[a];
    report["actions"] = c;
    report["sops"] = r.counters[Action::sop];
    report["sim_time_s"] = r.sim_time_s;
    report["wall_time_s"] = r.wall_s;
    report["hw"] = hw_report(hw);
    report["checkpoint"] = cmd.net;
    return report;
}

// The hw config, the checkpoint and the resolved config of an inference run: flags and
// configs first (exit 2 before any runtime failure), then the checkpoint, then every path.
struct RunInputs {
    HwConfig hw;
    EnergyTable energy_table;
    Checkpoint cp;
    Config config;
    PathGuard paths;
};

RunInputs load_run_inputs(const RunCommand& cmd) {
    HwConfig hw = load_hw_config(cmd.hw, cmd.hw_set);
    const std::string traced_source = cmd.vcd.apply(hw);
    // The table priced for this config now: its errors are config errors (exit 2).
    EnergyTable energy_table = EnergyTable::load(hw.energy_table);
    (void)EnergyModel(energy_table, hw);
    RunInputs in{std::move(hw), std::move(energy_table), load_checkpoint(cmd.net), {}, {}};
    in.config = cmd.flags.resolve(raw_from_json(in.cp.config, "checkpoint " + cmd.net + " config"));
    in.config.network = in.cp.params;
    in.paths.input("--net", cmd.net);
    in.paths.input("--ann", cmd.ann);
    cmd.flags.add_inputs(in.paths, in.config);
    add_hw_paths(in.paths, in.hw, cmd.vcd.output_name());
    in.paths.output("--report", cmd.report);
    in.paths.check();
    if (!in.hw.vcd_file.empty())
        check_traced_neurons(in.hw.vcd_neurons, in.cp.params.n_rec + in.cp.params.n_out, traced_source);
    return in;
}

void check_network_fits_task(const RsnnParams& p, const TaskInfo& info, const std::string& net_path) {
    if (info.n_inputs != p.n_in || info.n_classes != p.n_out)
        throw std::runtime_error("network in " + net_path + " has " + std::to_string(p.n_in) + " inputs and " +
                                 std::to_string(p.n_out) + " outputs, task " + info.name + " has " +
                                 std::to_string(info.n_inputs) + " and " + std::to_string(info.n_classes));
}

void run_on_tile(const RunCommand& cmd) {
    const auto start = std::chrono::steady_clock::now();
    RunInputs in = load_run_inputs(cmd);
    const std::unique_ptr<Task> task = make_task(in.config.task);
    const TaskInfo& info = task->info();
    check_network_fits_task(in.cp.params, info, cmd.net);
    const AnnReference ann = ann_reference(cmd.ann, in.config, info);
    const TileNetwork net = network_from_checkpoint(in.cp, in.hw);
    in.paths.create_output_dirs();  // the VCD is opened with the chip
    Chip chip(in.hw, net, "chip");
    std::fprintf(stderr, "qrsim run: %s on %s (%d tile%s, K=%d), %d neurons + %d readout, %zu CAM entries, %d test samples\n",
                 info.name.c_str(), in.hw.name.c_str(), in.hw.tiles(), in.hw.tiles() == 1 ? "" : "s", in.hw.fanin, net.n_rec,
                 net.n_out, net.n_entries(), task->size(Split::test));
    print_mismatch(stderr, in.hw);

    TileRun r;
    run_test_split(chip, *task, ann, r);
    chip.close_trace();  // renames the complete VCD into place
    // The float network the tile was loaded from, on the same samples.
    r.float_accuracy =
        evaluate_weights(in.cp.params, in.cp.weights, *task, Split::test, r.samples, in.config.train.threads).accuracy;
    r.counters = chip.counters();
    r.memory = chip.memory();
    r.sim_time_s = chip.sim_time_s();
    const EnergyModel& costs = chip.costs();
    r.energy = energy_json(costs, r.counters, r.sim_time_s, costs.tile_memory_bits(), r.per_sample());
    r.energy_run = energy_json(costs, r.counters, r.sim_time_s, costs.tile_memory_bits(), 1.0);
    r.static_power = static_power_json(costs, costs.tile_memory_bits());
    r.step_timing = step_timing_json(chip.step_stats());
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    print_tile_run(r, in.hw, in.energy_table.name(), info.name, ann);
    if (!cmd.report.empty()) {
        write_report(cmd.report, tile_run_report(r, cmd, in.config, in.hw, ann));
        std::printf("report: %s\n", cmd.report.c_str());
    }
}

// A flag that means nothing in the chosen mode is refused, not ignored: a user who asks for
// a VCD or an ANN comparison and gets none would read the run as having done it.
void refuse_unused_flags(const CLI::App& sub, const RunCommand& cmd) {
    const auto refuse = [&sub](const char* flag, const char* why) {
        if (sub.get_option(flag)->count() > 0) throw UsageError(std::string(flag) + ": " + why);
    };
    if (cmd.learn) {
        refuse("--ann", "compares a converted network with its ANN during inference; drop --learn "
                        "(qrsim run --net CONVERTED --ann ANN)");
        refuse("--threads", "run --learn simulates the tile on one thread; drop --threads");
    } else {
        refuse("--epochs", "passes of on-chip training: only with --learn (inference runs the test split once)");
        refuse("--train-samples", "on-chip training samples: only with --learn (inference reads --test-samples)");
        refuse("--eval-every-epoch", "tests between epochs of on-chip training: only with --learn");
    }
    if (!cmd.net.empty()) {
        refuse("--neurons", "the network's size comes from --net; drop --neurons");
        refuse("--alif", "the network's neuron kinds come from --net; drop --alif");
    }
}

}  // namespace

std::string VcdFlags::apply(HwConfig& hw) const {
    const std::vector<int> listed = neurons.empty() ? std::vector<int>{} : parse_neuron_list(neurons);
    if (!file.empty()) {
        hw.vcd_file = file;
        hw.vcd_neurons = {0, 1, 2, 3};
    }
    if (!listed.empty()) {
        if (hw.vcd_file.empty()) throw UsageError("--vcd-neurons needs --vcd FILE (or vcd.file in the hw config)");
        hw.vcd_neurons = listed;
        return "--vcd-neurons " + neurons;
    }
    return file.empty() ? hw.source + ": vcd.neurons" : "--vcd (default 0,1,2,3)";
}

void check_traced_neurons(const std::vector<int>& neurons, int n_neurons, const std::string& source) {
    for (int n : neurons)
        if (n < 0 || n >= n_neurons)
            throw UsageError(source + ": neuron " + std::to_string(n) + " does not exist (the network has neurons 0.." +
                             std::to_string(n_neurons - 1) + ": recurrent, then readout)");
}

void register_run(CLI::App& app) {
    auto cmd = std::make_shared<RunCommand>();
    CLI::App* sub = app.add_subcommand("run", "Run inference of a trained network on the SystemC tile(s)");
    sub->add_option("--hw", cmd->hw, "hardware preset name or file (configs/hw/*.toml)")->type_name("PRESET|FILE");
    sub->add_option("--net", cmd->net, "checkpoint of a network trained under the tile's constraint "
                                       "(required without --learn; with --learn: start from it)")
        ->type_name("FILE");
    sub->add_option("--ann", cmd->ann, "the ANN the network was converted from (qrsim convert --ann-save): also report "
                                       "how often the tile's predictions agree with the ANN's (task fmnist-rate)")
        ->type_name("FILE");
    cmd->flags.add_to(*sub, ConfigFlags::data | ConfigFlags::network);
    sub->add_flag("--learn", cmd->learn, "train on chip with the learning firmware ([learn] in the hw config), then test");
    sub->add_option("--epochs", cmd->epochs, "--learn: passes over the training split")->check(CLI::PositiveNumber);
    sub->add_flag("--eval-every-epoch", cmd->eval_every_epoch,
                  "--learn: evaluate on the test split after every epoch (epoch_history), not only after the last");
    sub->add_option("--hw-set", cmd->hw_set, "override a hw config key, e.g. --hw-set learn.update=stochastic "
                                             "--hw-set traces.placement=synapse (configs/hw/README.md)")
        ->type_name("TABLE.KEY=VALUE");
    sub->add_option("--report", cmd->report, "write a JSON report here")->type_name("FILE.json");
    sub->add_option("--vcd", cmd->vcd.file, "write spikes and membranes of a few neurons to this VCD file (GTKWave)")
        ->type_name("FILE.vcd");
    sub->add_option("--vcd-neurons", cmd->vcd.neurons, "neurons to trace (default 0,1,2,3)")->type_name("LIST");
    // --help lists the rules --learn can run (learn.rule) and their settings.
    sub->footer("On-chip " + describe_rules(builtin_rules()) +
                "\nA rule built with scripts/build_rule: --hw-set learn.firmware=RULE.elf (qrsim rules --firmware RULE.elf).");
    sub->callback([cmd, sub] {
        refuse_unused_flags(*sub, *cmd);
        g_pending = cmd.get();
        g_error = nullptr;
        setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
        char arg0[] = "qrsim";
        char* argv[] = {arg0, nullptr};
        sc_core::sc_elab_and_sim(1, argv);
        g_pending = nullptr;
        if (g_error) std::rethrow_exception(g_error);
    });
}

}  // namespace qrsim::app

// Entry point SystemC's kernel calls from sc_elab_and_sim (see the header comment).
int sc_main(int, char**) {
    try {
        if (const auto* cmd = qrsim::app::g_pending) {
            if (cmd->learn) {
                qrsim::app::LearnRunOptions o;
                o.config = cmd->flags.resolve();
                cmd->flags.add_inputs(o.paths, o.config);
                o.hw = cmd->hw;
                o.hw_set = cmd->hw_set;
                o.net = cmd->net;
                o.report = cmd->report;
                o.epochs = cmd->epochs;
                o.eval_every_epoch = cmd->eval_every_epoch;
                o.vcd = cmd->vcd;
                qrsim::app::run_learning(o);
            } else {
                if (cmd->net.empty()) throw qrsim::app::UsageError("run: --net CHECKPOINT is required (or use --learn)");
                qrsim::app::run_on_tile(*cmd);
            }
        }
    } catch (...) {
        qrsim::app::g_error = std::current_exception();
    }
    return 0;
}
