// bench_learn: on-chip training samples/s (SystemC tile + learning firmware) vs the float
// e-prop trainer on the same network (fmnist-rows, 128 LIF, the tile's constraint, method
// qr, one thread), printed side by side; then the on-chip test accuracy of what it learnt.
// Not a test: a measurement. Goal: on-chip at >= 30 % of the float trainer's speed.
//
//   bench_learn [--hw PRESET|FILE] [--train N] [--test N] [--epochs E] [--set TABLE.KEY=VALUE]...
#include "hw_models/onchip_training.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

    const TileNetwork net = initial_tile_network(hw, p, seed);
    Chip chip(hw, net, "bench");
    LearningEngine& engine = chip.enable_learning(make_learn_params(hw, net, p, task->info()));
    std::printf("fmnist-rows, %d LIF, %s K=%d, rule %s, placement %s, update %s, feedback %s, traces [%d, %d] bits, %d train samples\n",
                p.n_rec, hw.name.c_str(), hw.fanin, hw.learn.rule.c_str(),
                engine.params().placement == fw::place_synapse ? "synapse" : "presynaptic", hw.learn.update.c_str(),
                hw.learn.feedback.c_str(), engine.params().eps_bits, engine.params().bar_bits, task->size(Split::train));
    if (std::getenv("BENCH_LEARN_DEBUG")) {
        const fw::LearnParams& lp = engine.params();
        std::printf("debug: lr %d>>%d readout %d>>%d bias %d>>%d signal_shift %d acc_shift %d hf %d eps_frac %d bar_frac %d\n",
                    lp.lr_mult, lp.lr_shift, lp.readout_lr_mult, lp.readout_lr_shift, lp.bias_lr_mult, lp.bias_lr_shift,
                    lp.signal_shift, lp.acc_shift, lp.hidden_frac, lp.eps_frac, lp.bar_frac);
        chip.record_spikes(true);
        chip.set_learning(false);
        SpikeSample s;
        task->encode(Split::train, 0, s);
        const SampleResult r = chip.run_sample(s, task->info().readout_begin);
        std::printf("debug: %zu spikes in sample 0, readout sums:", chip.take_spikes().size());
        for (auto v : r.readout) std::printf(" %lld", static_cast<long long>(v));
        std::printf("\nhidden lut:");
        for (auto v : net.hidden.stored) std::printf(" %d", v);
        std::printf(" readout lut:");
        for (auto v : net.out.stored) std::printf(" %d", v);
        std::printf(" v_th %d\n", net.lif.v_th);
        chip.record_spikes(false);
        chip.set_learning(true);
    }
    double chip_rate = 0;
    for (int e = 1; e <= o.epochs; ++e) {
        const OnChipEpoch r = train_on_chip_epoch(chip, *task, e, seed);
        chip_rate = r.samples_per_s;
        const double acc = evaluate_on_chip(chip, *task, Split::test);
        std::printf("epoch %d: on-chip train acc %.2f %%, test acc %.2f %% (%d samples), %.0f samples/s, updates %u, refused %llu\n",
                    e, 100 * r.train_accuracy, 100 * acc, task->size(Split::test), r.samples_per_s, engine.updates(),
                    static_cast<unsigned long long>(engine.refused()));
        std::fflush(stdout);
    }
    if (!o.skip_float) {
        TrainOptions fo;
        fo.rule = "eprop";
        fo.feedback = hw.learn.feedback;
        fo.method = "qr";
        fo.constraint = tile_constraint(hw);
        fo.batch_size = hw.learn.batch;
        Trainer trainer(p, fo, seed);
        const EpochResult r = trainer.train_epoch(*task);
        std::printf("%-28s %10.0f samples/s\n", "float e-prop (qr, 1 thread)", r.samples_per_s);
        std::printf("%-28s %10.0f samples/s  (%.0f %% of float)\n", "on-chip (SystemC + firmware)", chip_rate,
                    100 * chip_rate / r.samples_per_s);
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
