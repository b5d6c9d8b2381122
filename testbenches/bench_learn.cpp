// bench_learn: on-chip training samples/s (SystemC tile + learning firmware) with the
// firmware on the tile's rv32 ISS and as the native host build, on the same run (same
// network, same samples), and the float e-prop trainer on the same network (fmnist-rows,
// 128 LIF, the tile's constraint, method qr, one thread), printed side by side; then the
// on-chip test accuracy of what each learnt (identical: the two cores are bit-exact).
// Not a test: a measurement. Goals: ISS >= 25 % of native; native >= 30 % of float.
//
//   bench_learn [--hw PRESET|FILE] [--train N] [--test N] [--epochs E] [--set TABLE.KEY=VALUE]...
#include "hw_models/checkpoint_loader.hpp"
#include "hw_models/onchip_training.hpp"
#include "learning_rules/trainer.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <systemc>

namespace {

struct Options {
    std::string hw = "dynapse2";
    int train = 2000;
    int test = 1000;
    int epochs = 1;
    bool skip_float = false;
    std::vector<std::string> sets;
};

Options parse(int argc, char** argv) {
    Options o;
    CLI::App app("bench_learn: on-chip training samples/s vs the float e-prop trainer");
    app.add_option("--hw", o.hw, "hardware preset or file")->capture_default_str();
    app.add_option("--train", o.train, "training samples")->check(CLI::Range(1, 1 << 30))->capture_default_str();
    app.add_option("--test", o.test, "test samples")->check(CLI::Range(1, 1 << 30))->capture_default_str();
    app.add_option("--epochs", o.epochs, "on-chip epochs")->check(CLI::Range(1, 1 << 30))->capture_default_str();
    app.add_option("--set", o.sets, "override a hw config key")->type_name("TABLE.KEY=VALUE");
    app.add_flag("--no-float", o.skip_float, "skip the float trainer");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));  // --help: the usage and 0; a bad option: one error line and non-zero
    }
    return o;
}

int run(int argc, char** argv) {
    using namespace qrsim;
    const Options o = parse(argc, argv);
    const HwConfig hw = load_hw_config(o.hw, o.sets);
    TaskOptions to;
    to.train_samples = o.train;
    to.test_samples = o.test;
    const auto task = make_task(to);
    RsnnParams p;
    p.n_in = task->info().n_inputs;
    p.n_rec = 128;
    p.n_out = task->info().n_classes;
    const uint64_t seed = 1;

    const TileNetwork net = network_from_checkpoint(initial_qr_checkpoint(p, hw.constraint(), seed), hw);
    // Both chips are built before the first sc_start (SystemC elaborates once).
    HwConfig hw_iss = hw, hw_native = hw;
    hw_iss.learn.core = "iss";
    hw_native.learn.core = "native";
    Chip iss(hw_iss, net, "iss"), native(hw_native, net, "native");
    const fw::LearnParams lp = make_learn_params(hw, net, p, task->info());
    LearningEngine& engine = iss.enable_learning(lp);
    native.enable_learning(lp);
    std::printf("fmnist-rows, %d LIF, %s K=%d, rule %s, placement %s, update %s, feedback %s, traces [%d, %d] bits, %d train samples\n",
                p.n_rec, hw.name.c_str(), hw.fanin, hw.learn.rule.c_str(),
                lp.placement == fw::place_synapse ? "synapse" : "presynaptic", hw.learn.update.c_str(),
                hw.learn.feedback.c_str(), lp.eps_bits, lp.bar_bits, task->size(Split::train));
    double rate[2] = {0, 0};
    for (int e = 1; e <= o.epochs; ++e) {
        for (int c = 0; c < 2; ++c) {
            Chip& chip = c == 0 ? iss : native;
            const OnChipEpoch r = train_on_chip_epoch(chip, *task, e, seed);
            rate[c] = r.samples_per_s;
            const double acc = evaluate_on_chip(chip, *task, Split::test).accuracy;
            std::printf("epoch %d, %-6s core: train acc %.2f %%, test acc %.2f %% (%d samples), %.1f samples/s\n", e,
                        c == 0 ? "ISS" : "native", 100 * r.train_accuracy, 100 * acc, task->size(Split::test),
                        r.samples_per_s);
            std::fflush(stdout);
        }
    }
    const double instr = static_cast<double>(engine.counters()[Action::core_instr]);
    std::printf("%-34s %10.1f samples/s  (%.1f %% of native; %.0f M instructions/s simulated)\n",
                "on-chip, firmware on the rv32 ISS", rate[0], 100 * rate[0] / rate[1],
                instr / (o.epochs * static_cast<double>(task->size(Split::train))) * rate[0] / 1e6);
    std::printf("%-34s %10.1f samples/s\n", "on-chip, native firmware", rate[1]);
    const double chip_rate = rate[1];
    if (!o.skip_float) {
        TrainOptions fo;
        fo.rule = "eprop";
        fo.feedback = hw.learn.feedback;
        fo.method = "qr";
        fo.constraint = hw.constraint();
        fo.batch_size = hw.learn.batch;
        Trainer trainer(p, fo, seed);
        const EpochResult r = trainer.train_epoch(*task);
        std::printf("%-34s %10.1f samples/s  (native on-chip: %.0f %% of float)\n", "float e-prop (qr, 1 thread)",
                    r.samples_per_s, 100 * chip_rate / r.samples_per_s);
    }
    return 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_learn: error: %s\n", e.what());
        return 1;
    }
}
