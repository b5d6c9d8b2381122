// qrsim run: inference of a trained constrained network on the SystemC tile(s).
//
//   qrsim run --hw configs/hw/dynapse2.toml --net CHECKPOINT [--task fmnist-rows]
//   qrsim run --learn --hw dynapse2 [--epochs N] [--hw-set learn.update=stochastic] ...
//             [--test-samples N] [--report R.json] [--vcd FILE [--vcd-neurons 0,1,2]]
//   qrsim run --net CONVERTED --task fmnist-rate --ann ANN.json   (also: agreement with the ANN)
//
// The checkpoint's weights are decomposed into CAM entries (hw_models/checkpoint_loader),
// written into the tiles through their checked interface, and the test split runs sample
// by sample as AER input. Prints accuracy (tile and float), energy per inference by action
// (pJ), memory by component (bits), SOPs and simulated time.
//
// SystemC needs its kernel started by sc_elab_and_sim, which calls sc_main: the command's
// callback stores the parsed command, starts the kernel, and sc_main (below) runs it.
// Exceptions cross back to run_cli so errors keep the CLI's one-line format and exit codes.
#include "apps/cli.hpp"
#include "apps/flags.hpp"
#include "apps/path_guard.hpp"
#include "apps/learn_run.hpp"
#include "apps/progress.hpp"
#include "apps/report.hpp"
#include "hw_models/checkpoint_loader.hpp"
#include "hw_models/chip.hpp"
#include "learning_rules/ann.hpp"
#include "learning_rules/checkpoint.hpp"
#include "learning_rules/trainer.hpp"

#include <systemc>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>

namespace qrsim::app {

namespace {

struct RunCommand {
    ConfigFlags flags;
    std::string hw = "dynapse2";
    std::string net;
    std::string ann;  // the ANN a converted network came from: report the tile's agreement with it
    std::string report;
    std::string vcd;
    std::string vcd_neurons;
    bool learn = false;  // on-chip training (apps/cmd_learn.cpp)
    int epochs = 1;
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

void run_on_tile(const RunCommand& cmd) {
    const auto start = std::chrono::steady_clock::now();
    // Flags and configs first (exit 2 before any runtime failure), then the checkpoint.
    const std::vector<int> vcd_neurons = cmd.vcd_neurons.empty() ? std::vector<int>{} : parse_neuron_list(cmd.vcd_neurons);
    HwConfig hw = load_hw_config(cmd.hw, cmd.hw_set);
    if (!cmd.vcd.empty()) {
        hw.vcd_file = cmd.vcd;
        hw.vcd_neurons = {0, 1, 2, 3};
    }
    if (!vcd_neurons.empty()) {
        if (hw.vcd_file.empty()) throw UsageError("--vcd-neurons needs --vcd FILE (or vcd.file in the hw config)");
        hw.vcd_neurons = vcd_neurons;
    }
    const EnergyTable energy_table = EnergyTable::load(hw.energy_table);
    const Checkpoint cp = load_checkpoint(cmd.net);
    Config config = cmd.flags.resolve(raw_from_json(cp.config, "checkpoint " + cmd.net + " config"));
    config.network = cp.params;
    PathGuard paths;
    paths.input("--net", cmd.net);
    paths.input("--ann", cmd.ann);
    cmd.flags.add_inputs(paths, config);
    add_hw_paths(paths, hw, cmd.vcd.empty() ? "hw config vcd.file" : "--vcd");
    paths.output("--report", cmd.report);
    paths.check();
    if (!hw.vcd_file.empty())
        check_traced_neurons(hw.vcd_neurons, cp.params.n_rec + cp.params.n_out,
                             cmd.vcd_neurons.empty() ? (cmd.vcd.empty() ? hw.source + ": vcd.neurons" : "--vcd (default 0,1,2,3)")
                                                     : "--vcd-neurons " + cmd.vcd_neurons);

    const std::unique_ptr<Task> task = make_task(config.task);
    const TaskInfo& info = task->info();
    if (info.n_inputs != cp.params.n_in || info.n_classes != cp.params.n_out)
        throw std::runtime_error("network in " + cmd.net + " has " + std::to_string(cp.params.n_in) + " inputs and " +
                                 std::to_string(cp.params.n_out) + " outputs, task " + info.name + " has " +
                                 std::to_string(info.n_inputs) + " and " + std::to_string(info.n_classes));
    // The ANN's predictions on the same test images (fmnist-rate encodes them in order).
    std::vector<int> ann_pred;
    double ann_accuracy = 0;
    if (!cmd.ann.empty()) {
        if (info.name != "fmnist-rate")
            throw UsageError("--ann compares with the ANN a network was converted from: it needs --task fmnist-rate");
        const Ann ann = load_ann(cmd.ann);
        const ImageSet images = load_fmnist_images(config.task.data_dir, Split::test, config.task.test_samples);
        if (ann.n_in() != images.x.cols() || ann.n_out() != info.n_classes)
            throw std::runtime_error("--ann " + cmd.ann + " has " + std::to_string(ann.n_in()) + " inputs and " +
                                     std::to_string(ann.n_out()) + " outputs, the task's images have " +
                                     std::to_string(images.x.cols()) + " pixels and " +
                                     std::to_string(info.n_classes) + " classes");
        ann_pred = ann.predict(images.x);
        for (size_t i = 0; i < ann_pred.size(); ++i) ann_accuracy += ann_pred[i] == images.labels[i];
        ann_accuracy /= std::max<size_t>(ann_pred.size(), 1);
    }
    const TileNetwork net = network_from_checkpoint(cp, hw);
    paths.create_output_dirs();  // the VCD is opened with the chip
    Chip chip(hw, net, "chip");
    const int n = task->size(Split::test);
    std::fprintf(stderr, "qrsim run: %s on %s (%d tile%s, K=%d), %d neurons + %d readout, %zu CAM entries, %d test samples\n",
                 info.name.c_str(), hw.name.c_str(), hw.tiles(), hw.tiles() == 1 ? "" : "s", hw.fanin, net.n_rec,
                 net.n_out, net.n_entries(), n);

    int correct = 0, agree = 0;
    SpikeSample sample;
    {
        ProgressDisplay progress(stderr);
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            task->encode(Split::test, i, sample);
            const int prediction = chip.run_sample(sample, info.readout_begin).prediction;
            correct += prediction == sample.label;
            if (!ann_pred.empty()) agree += prediction == ann_pred.at(i);
            Progress p;
            p.epoch = 1;
            p.epochs = 1;
            p.samples_done = i + 1;
            p.samples_total = n;
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            p.samples_per_s = s > 0 ? (i + 1) / s : 0;
            p.running_accuracy = double(correct) / (i + 1);
            progress.update(p);
        }
        progress.finish_line();
    }
    chip.close_trace();  // renames the complete VCD into place
    const double accuracy = n > 0 ? double(correct) / n : 0;

    // The float network the tile was loaded from, on the same samples.
    const EvalResult fl = evaluate_weights(cp.params, cp.weights, *task, Split::test, n, config.train.threads);

    const ActionCounters counters = chip.counters();
    const auto energy = energy_table.energy_pj(counters);
    const MemoryMap memory = chip.memory();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double per = n > 0 ? 1.0 / n : 0;

    std::printf("tile accuracy %.2f %% (float %.2f %%) on %d test samples of %s\n", 100 * accuracy, 100 * fl.accuracy, n,
                info.name.c_str());
    std::printf("energy per inference (pJ, table %s):\n", energy_table.name().c_str());
    for (const auto& [name, pj] : energy)
        if (name != "total") std::printf("  %-16s %14.1f\n", name.c_str(), pj * per);
    std::printf("  %-16s %14.1f\n", "total", energy.at("total") * per);
    std::printf("memory (bits, %d tile%s):\n", hw.tiles(), hw.tiles() == 1 ? "" : "s");
    for (const auto& [name, bits] : memory.bits) std::printf("  %-16s %14lld\n", name.c_str(), static_cast<long long>(bits));
    std::printf("SOPs %llu (%.0f per inference), simulated time %.3f s, wall time %.1f s\n",
                static_cast<unsigned long long>(counters[Action::sop]), counters[Action::sop] * per, chip.sim_time_s(), wall);
    if (!ann_pred.empty())
        std::printf("agreement with the ANN %.2f %% (ANN accuracy %.2f %%)\n", 100.0 * agree * per, 100 * ann_accuracy);
    if (!hw.vcd_file.empty()) std::printf("vcd: %s\n", hw.vcd_file.c_str());

    if (!cmd.report.empty()) {
        nlohmann::json report = base_report("run", config);
        report["test_accuracy"] = accuracy;
        report["float_test_accuracy"] = fl.accuracy;
        report["test_samples"] = n;
        if (!ann_pred.empty()) {
            report["ann"] = cmd.ann;
            report["ann_accuracy"] = ann_accuracy;
            report["agreement_ann"] = agree * per;
        }
        // energy_pj: per inference, by action and total; energy_run_pj: the whole run.
        nlohmann::json e_run = nlohmann::json::object(), e_inf = nlohmann::json::object();
        for (const auto& [name, pj] : energy) {
            e_run[name] = pj;
            e_inf[name] = pj * per;
        }
        report["energy_pj"] = e_inf;
        report["energy_run_pj"] = e_run;
        report["energy_per_inference_pj"] = e_inf["total"];
        nlohmann::json m = nlohmann::json::object();
        for (const auto& [name, bits] : memory.bits) m[name] = bits;
        report["memory_bits"] = m;
        nlohmann::json c = nlohmann::json::object();
        for (int a = 0; a < kActionCount; ++a) c[action_name(static_cast<Action>(a))] = counters.n[a];
        report["actions"] = c;
        report["sops"] = counters[Action::sop];
        report["sim_time_s"] = chip.sim_time_s();
        report["wall_time_s"] = wall;
        report["hw"] = {{"name", hw.name}, {"source", hw.source}, {"tiles", hw.tiles()}, {"fanin", hw.fanin}};
        report["checkpoint"] = cmd.net;
        write_report(cmd.report, report);
        std::printf("report: %s\n", cmd.report.c_str());
    }
}

}  // namespace

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
    sub->add_option("--hw-set", cmd->hw_set, "override a hw config key, e.g. --hw-set learn.update=stochastic "
                                             "--hw-set traces.placement=synapse (configs/hw/README.md)")
        ->type_name("TABLE.KEY=VALUE");
    sub->add_option("--report", cmd->report, "write a JSON report here")->type_name("FILE.json");
    sub->add_option("--vcd", cmd->vcd, "write spikes and membranes of a few neurons to this VCD file (GTKWave)")
        ->type_name("FILE.vcd");
    sub->add_option("--vcd-neurons", cmd->vcd_neurons, "neurons to trace (default 0,1,2,3)")->type_name("LIST");
    sub->callback([cmd] {
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
