#include "hw_models/onchip_training.hpp"

#include "hw_models/checkpoint_loader.hpp"
#include "learning_rules/checkpoint.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

namespace qrsim {

ConstraintSpec tile_constraint(const HwConfig& hw) {
    ConstraintSpec spec;
    spec.kind = hw.kind;
    spec.fanin = hw.fanin;
    spec.weight_bits = hw.weight_bits;
    return spec;
}

TileNetwork initial_tile_network(const HwConfig& hw, const RsnnParams& params, uint64_t seed,
                                 RsnnWeights* float_weights) {
    TrainOptions o;
    o.rule = "eprop";
    o.method = "qr";
    o.constraint = tile_constraint(hw);
    const Trainer trainer(params, o, seed);
    const Checkpoint cp = trainer.deployable_checkpoint();
    if (float_weights) *float_weights = cp.weights;
    return network_from_checkpoint(cp, hw);
}

OnChipEpoch train_on_chip_epoch(Chip& chip, const Task& task, int epoch, uint64_t seed,
                                const std::function<void(const Progress&)>& progress) {
    const int n = task.size(Split::train);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    chip.set_learning(true);
    SpikeSample sample;
    int correct = 0;
    const auto t0 = std::chrono::steady_clock::now();
    Progress p;
    p.epoch = epoch;
    p.samples_total = n;
    for (int i = 0; i < n; ++i) {
        task.encode(Split::train, order[i], sample);
        correct += chip.run_sample(sample, task.info().readout_begin).prediction == sample.label;
        if (progress && ((i + 1) % 64 == 0 || i + 1 == n)) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            p.samples_done = i + 1;
            p.samples_per_s = s > 0 ? (i + 1) / s : 0;
            p.running_accuracy = double(correct) / (i + 1);
            progress(p);
        }
    }
    OnChipEpoch r;
    r.epoch = epoch;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.train_accuracy = n > 0 ? double(correct) / n : 0;
    r.samples_per_s = r.wall_s > 0 ? n / r.wall_s : 0;
    return r;
}

double evaluate_on_chip(Chip& chip, const Task& task, Split split, int max_samples) {
    const int n = max_samples < 0 ? task.size(split) : std::min(max_samples, task.size(split));
    chip.set_learning(false);
    SpikeSample sample;
    int correct = 0;
    for (int i = 0; i < n; ++i) {
        task.encode(split, i, sample);
        correct += chip.run_sample(sample, task.info().readout_begin).prediction == sample.label;
    }
    chip.set_learning(true);
    return n > 0 ? double(correct) / n : 0;
}

}  // namespace qrsim
