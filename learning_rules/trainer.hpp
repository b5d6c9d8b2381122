// The float reference trainer: minibatch training of an RsnnWeights on a Task with BPTT
// or e-prop, Adam or SGD. Deterministic for a given seed and thread count.
#pragma once

#include "common/checkpoint.hpp"
#include "common/constraint_spec.hpp"
#include "common/epoch_progress.hpp"
#include "common/rsnn.hpp"
#include "common/task.hpp"
#include "learning_rules/constrained_group.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace qrsim {

struct TrainOptions {
    std::string rule = "bptt";           // "bptt" | "eprop"
    std::string feedback = "symmetric";  // e-prop learning signal: "symmetric" | "random"
    std::string optimizer = "adam";      // "adam" | "sgd" | "signum"
    double learning_rate = 0.005;
    double momentum = 0.9;               // sgd and signum
    int batch_size = 32;
    int epochs = 1;
    double reg_rate_hz = 10.0;           // firing-rate regularisation target
    double reg_coeff = 0.0;              // 0 disables it
    double lr_decay = 0.8;               // learning rate multiplied by this after each epoch
    int threads = 1;
    // How weights are parameterised and constrained (learning_rules/constrained_group.hpp):
    // "dense" (plain float), "qr" (Quantized Rewiring), "deepr" (DEEP R), or "prune-round"
    // (train dense, then keep the largest K entries per neuron rounded to the levels).
    std::string method = "dense";
    ConstraintSpec constraint;
    // How the dynapse1 levels are chosen from the initial weights: "ladder" (large = 4 x
    // small) or "optimised" (the paper's Nelder-Mead choice; qr with dynapse1 only).
    std::string bases = "ladder";
    double deepr_l1 = 1e-5;
    double deepr_temperature = 1e-12;
};

struct EpochResult {
    int epoch = 0;
    double train_accuracy = 0;
    double train_loss = 0;
    double samples_per_s = 0;
    double wall_s = 0;
};

// How the constraint held: over training (checked after every update) and now.
struct ConstraintReport {
    long long violations_during_training = 0;  // sum over updates of weights breaking the spec
    int max_fanin_during_training = 0;         // the most entries any row could use after an update
    long long updates_checked = 0;
    long long violations = 0;                  // of the effective (evaluation) weights now
    int max_fanin = 0;
    long long entries = 0;
    GroupQuant hidden_levels, readout_levels;  // the levels (scale / bases) of both groups
    // bases "optimised": the cost of the chosen and of the ladder's levels, per group
    std::optional<BaseChoiceInfo> hidden_base_choice, readout_base_choice;
};

struct EvalResult {
    double accuracy = 0;
    double loss = 0;
    int samples = 0;
    double mean_rate_hz = 0;  // mean firing rate of the recurrent neurons
    // confusion[label][prediction]: counts. Shows what an accuracy hides, e.g. below chance
    // on balanced classes, where the predictions avoid each image's own class.
    std::vector<std::vector<int>> confusion;
};

// Initial weights: Gaussian, scaled by fan-in (Bellec et al. 2020), zero diagonal.
RsnnWeights initial_weights(const RsnnParams& params, uint64_t seed);

class Trainer {
public:
    Trainer(const RsnnParams& params, const TrainOptions& options, uint64_t seed);
    ~Trainer();

    // Restarts training from these weights (e.g. a checkpoint); projects them if constrained.
    void set_weights(const RsnnWeights& weights);
    const RsnnParams& params() const;

    // One pass over the task's training split in a seeded shuffled order.
    EpochResult train_epoch(const Task& task, const ProgressCallback& progress = {});
    EvalResult evaluate(const Task& task, Split split, int max_samples = -1) const;

    // The weights the network runs with at evaluation: quantized to nearest levels under a
    // constraint (and cut, for prune-round).
    RsnnWeights effective_weights() const;
    // The same weights as a checkpoint, with the constraint and the levels (scale / bases)
    // of both groups in extra.constraint, so the tile can rebuild its fan-in tables.
    Checkpoint deployable_checkpoint(const nlohmann::json& config = nlohmann::json::object()) const;
    ConstraintReport constraint_report() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Evaluates exactly these weights (e.g. a checkpoint's), whatever constraint produced them.
// A float network projected onto a chip constraint after the fact (the prune-round
// baseline: levels from the largest K weights per row, nearest level, top K entries), with
// the levels in extra.constraint so the tile can run it. Recurrent self-connections go.
Checkpoint prune_and_round_checkpoint(const Checkpoint& checkpoint, const ConstraintSpec& spec);

// The network a Quantized Rewiring e-prop run under `constraint` starts from for this seed
// (the same weights Trainer(params, {rule eprop, method qr}, seed) holds before its first
// update), as a deployable checkpoint: what on-chip training from scratch loads, so the chip
// and the float trainer start from one network.
Checkpoint initial_qr_checkpoint(const RsnnParams& params, const ConstraintSpec& constraint, uint64_t seed);

EvalResult evaluate_weights(const RsnnParams& params, const RsnnWeights& weights, const Task& task, Split split,
                            int max_samples = -1, int threads = 1);

}  // namespace qrsim
