// fmnist-rate: Fashion-MNIST for networks converted from ANNs (layerwise_conversion.hpp).
// Every pixel is one input channel spiking REGULARLY at a rate proportional to its
// intensity (rate p/255 spikes per step, integer arithmetic, no randomness), plus one
// always-on channel that spikes every step: the converted network's neurons realise the
// ANN's biases as a synapse from it (the RSNN has no per-neuron bias).
//
//   channel c < rows*cols: spike at step t iff n_c(t) > n_c(t-1), n_c(t) = ((t+1) p_c + 127) / 255
//   channel rows*cols:     spike at every step
//
// The readout window [readout_begin, steps) starts after the network's pipeline delay.
#pragma once

#include "common/task.hpp"

#include <memory>

namespace qrsim {

struct RateCoding {
    int steps = 64;          // presentation time T per image
    int readout_begin = 16;  // first step of the readout window
};

// The presentation `qrsim` uses for task "fmnist-rate" (make_task): the task config has no
// key for it, so every command that runs a converted network sees this one.
inline constexpr RateCoding kRateCoding{};

// Throws std::runtime_error naming the field on bad options or data files.
std::unique_ptr<Task> make_rate_task(const TaskOptions& options, const RateCoding& coding = kRateCoding);

// Spikes channel `pixel` of value p emits in steps [0, t): the count the encoder produces.
inline int rate_code_count(int pixel, int t) { return (t * pixel + 127) / 255; }

}  // namespace qrsim
