// The float reference trainer: minibatch training of an RsnnWeights on a Task with BPTT
// or e-prop, Adam or SGD. Deterministic for a given seed and thread count.
#pragma once

#include "learning_rules/rsnn.hpp"
#include "learning_rules/task.hpp"

#include <functional>
#include <memory>
#include <string>

namespace qrsim {

struct TrainOptions {
    std::string rule = "bptt";           // "bptt" | "eprop"
    std::string feedback = "symmetric";  // e-prop learning signal: "symmetric" | "random"
    std::string optimizer = "adam";      // "adam" | "sgd"
    double learning_rate = 0.005;
    double momentum = 0.9;               // sgd only
    int batch_size = 32;
    int epochs = 1;
    double reg_rate_hz = 10.0;           // firing-rate regularisation target
    double reg_coeff = 0.0;              // 0 disables it
    double lr_decay = 1.0;               // learning rate multiplied by this after each epoch
    int threads = 1;
};

// Progress of a running epoch, for the CLI's display.
struct Progress {
    int epoch = 0;          // 1-based
    int epochs = 0;
    int samples_done = 0;
    int samples_total = 0;
    double samples_per_s = 0;
    double running_accuracy = 0;  // over the samples of this epoch so far
    double running_loss = 0;
};
using ProgressCallback = std::function<void(const Progress&)>;

struct EpochResult {
    int epoch = 0;
    double train_accuracy = 0;
    double train_loss = 0;
    double samples_per_s = 0;
    double wall_s = 0;
};

struct EvalResult {
    double accuracy = 0;
    double loss = 0;
    int samples = 0;
    double mean_rate_hz = 0;  // mean firing rate of the recurrent neurons
};

// Initial weights: Gaussian, scaled by fan-in (Bellec et al. 2020), zero diagonal.
RsnnWeights initial_weights(const RsnnParams& params, uint64_t seed);

class Trainer {
public:
    Trainer(const RsnnParams& params, const TrainOptions& options, uint64_t seed);
    ~Trainer();

    RsnnWeights& weights();
    const RsnnParams& params() const;

    // One pass over the task's training split in a seeded shuffled order.
    EpochResult train_epoch(const Task& task, const ProgressCallback& progress = {});
    EvalResult evaluate(const Task& task, Split split, int max_samples = -1) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace qrsim
