// On-chip training epochs, shared by `qrsim run --learn`, bench_learn and the testbenches:
// the chip learns sample by sample with its firmware, then is tested with learning off.
// Training from scratch starts from the float trainer's initial Quantized Rewiring network
// (learning_rules/trainer.hpp initial_qr_checkpoint, loaded by network_from_checkpoint), so
// the same seed gives the chip and the float QR e-prop run the same weights.
#pragma once

#include "common/epoch_progress.hpp"
#include "common/task.hpp"
#include "hw_models/chip.hpp"

namespace qrsim {

struct OnChipEpoch {
    int epoch = 0;
    double train_accuracy = 0;  // of the predictions made while learning
    double train_loss = 0;      // the float trainer's loss on the chip's readout, mean per sample
    double samples_per_s = 0;
    double wall_s = 0;
};

// The float trainer's loss (cross-entropy of the readout's softmax, averaged over the window:
// common/readout_loss.hpp ReadoutLoss) on the readout values the chip computed.
double readout_loss(const SampleResult& r, const TaskInfo& info, int label, int membrane_frac_bits);

// One pass over the training split (shuffled by seed and epoch) with learning on.
OnChipEpoch train_on_chip_epoch(Chip& chip, const Task& task, int epoch, uint64_t seed,
                                const ProgressCallback& progress = {});

struct OnChipEval {
    double accuracy = 0, loss = 0;  // loss: as OnChipEpoch::train_loss
    int samples = 0;
};
// Accuracy and loss with learning off.
OnChipEval evaluate_on_chip(Chip& chip, const Task& task, Split split, int max_samples = -1);

}  // namespace qrsim
