// On-chip training from scratch, shared by `qrsim run --learn`, bench_learn and the
// testbenches: the float trainer's initial Quantized Rewiring network (the same seed gives
// the same weights the float QR e-prop run starts from) is decomposed into CAM entries and
// loaded; the chip then learns sample by sample with its firmware.
#pragma once

#include "hw_models/chip.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/network.hpp"
#include "learning_rules/rsnn.hpp"
#include "learning_rules/task.hpp"
#include "learning_rules/trainer.hpp"

#include <functional>

namespace qrsim {

// The constraint spec the tile enforces (kind, K, weight bits).
ConstraintSpec tile_constraint(const HwConfig& hw);

// The float trainer's initial weights under the tile's constraint (method qr), as a
// TileNetwork. Also returns the float weights and levels when asked.
TileNetwork initial_tile_network(const HwConfig& hw, const RsnnParams& params, uint64_t seed,
                                 RsnnWeights* float_weights = nullptr);

struct OnChipEpoch {
    int epoch = 0;
    double train_accuracy = 0;  // of the predictions made while learning
    double train_loss = 0;      // the float trainer's loss on the chip's readout, mean per sample
    double samples_per_s = 0;
    double wall_s = 0;
};

// The float trainer's loss (cross-entropy of the readout's softmax, averaged over the window:
// learning_rules/rsnn_stepper.hpp ReadoutLoss) on the readout values the chip computed.
double readout_loss(const SampleResult& r, const TaskInfo& info, int label, int membrane_frac_bits);

// One pass over the training split (shuffled by seed and epoch) with learning on.
OnChipEpoch train_on_chip_epoch(Chip& chip, const Task& task, int epoch, uint64_t seed,
                                const std::function<void(const Progress&)>& progress = {});

struct OnChipEval {
    double accuracy = 0, loss = 0;  // loss: as OnChipEpoch::train_loss
    int samples = 0;
};
// Accuracy and loss with learning off.
OnChipEval evaluate_on_chip(Chip& chip, const Task& task, Split split, int max_samples = -1);

}  // namespace qrsim
