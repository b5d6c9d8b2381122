// The per-step schedule of a population of neurons: the one definition that the SystemC tile
// (hw_models/tile.cpp) and the plain reference loop (hw_models/reference_loop.cpp) both run.
// What they do differently is everything around it: the tile finds a step's synaptic input
// through its CAM's inverted index, holds a slice of the network and exchanges spikes with
// the other tiles as AER packets through the mesh router in SystemC time; the reference loop
// holds the whole network and sums the input from plain target lists. Comparing the two
// tests that machinery, not a second copy of this schedule.
//
// Step t = 0 .. T of a sample (T = n_steps; step T only drains the readout pipeline):
//   1. the caller has summed step t's packet into input(): the inputs x_t and the recurrent
//      spikes z_{t-1} (readout units' fan-in holds recurrent addresses only);
//   2. hidden neurons compute step t (t < T); each spike goes to the caller;
//   3. readout units compute y_{t-1} (t >= 1): the readout runs one step behind as a pipeline
//      stage, so y equals the float model's y_t = kappa y_{t-1} + W_out z_t + b without a
//      same-step round trip through the mesh; y is summed, and kept, over the window
//      t - 1 >= readout_begin;
//   4. learning, if attached: signal_step(t - 1) (y_{t-1} is known now), then trace_step(t).
// Hidden and readout units draw stochastic rounding from separate per-core LFSRs seeded by the
// global core index, so the draws do not depend on the pipeline or on how the network is split
// over tiles.
#pragma once

#include "firmware/lfsr.hpp"
#include "firmware/neuron_core.hpp"
#include "hw_models/learning_engine.hpp"

#include <cstdint>
#include <vector>

namespace qrsim {

enum class NeuronRole : uint8_t { unused, hidden, readout };

class StepSchedule {
public:
    // `slots` neurons on cores of `neurons_per_core`; the first core is global core `first_core`
    // of the chip (its LFSRs are seeded from `seed` and the global core index).
    StepSchedule(int slots, int neurons_per_core, uint32_t seed, int first_core);

    // Unchecked: the tile checks every load against its config before placing.
    void place(int slot, NeuronRole role, const fw::NeuronConfig& config, int32_t bias);
    void set_bias(int slot, int32_t bias) { bias_[slot] = bias; }

    void begin_sample(int n_steps, int readout_begin);  // zero state, readout sums and windows
    // The accumulators of this step's synaptic input, zeroed: the caller adds into them.
    int32_t* clear_input();

    struct Phases {
        bool hidden = false;   // the hidden neurons computed step t
        bool readout = false;  // the readout units computed y_{t-1}
    };
    // Runs step t (see the header comment); on_spike(slot) for every hidden spike, in slot order.
    template <class OnSpike>
    Phases step(int t, OnSpike&& on_spike, LearningEngine* learning) {
        Phases ran;
        const int32_t* in = input_.data();
        if (t < n_steps_) {
            for (int s : hidden_slots_)
                if (fw::neuron_step(config_[s], state_[s], in[s], bias_[s], lfsr_hidden_[s / neurons_per_core_]))
                    on_spike(s);
            ran.hidden = true;
        }
        if (t >= 1) {
            const bool in_window = t - 1 >= readout_begin_;
            for (int s : readout_slots_) {
                int32_t y = state_[s].v;
                fw::readout_step(config_[s], y, in[s], bias_[s], lfsr_readout_[s / neurons_per_core_]);
                state_[s].v = y;
                if (in_window) {
                    y_sum_[s] += y;
                    y_window_[s].push_back(y);
                }
            }
            ran.readout = true;
        }
        if (learning) {
            if (ran.readout) learning->signal_step(t - 1);
            if (ran.hidden) learning->trace_step(t);
        }
        return ran;
    }

    int slots() const { return static_cast<int>(role_.size()); }
    NeuronRole role(int slot) const { return role_[slot]; }
    const fw::NeuronConfig& config(int slot) const { return config_[slot]; }
    const fw::NeuronState& state(int slot) const { return state_[slot]; }
    int32_t bias(int slot) const { return bias_[slot]; }
    int64_t readout_sum(int slot) const { return y_sum_[slot]; }
    // y of each window step of this sample (for the loss).
    const std::vector<int32_t>& readout_window(int slot) const { return y_window_[slot]; }
    const std::vector<int>& hidden_slots() const { return hidden_slots_; }
    const std::vector<int>& readout_slots() const { return readout_slots_; }

private:
    int neurons_per_core_;
    std::vector<NeuronRole> role_;
    std::vector<fw::NeuronConfig> config_;
    std::vector<fw::NeuronState> state_;
    std::vector<int32_t> bias_;
    std::vector<int64_t> y_sum_;
    std::vector<std::vector<int32_t>> y_window_;  // by slot: y of each window step
    std::vector<int32_t> input_;
    std::vector<int> hidden_slots_, readout_slots_;
    std::vector<fw::Lfsr32> lfsr_hidden_, lfsr_readout_;
    int n_steps_ = -1, readout_begin_ = 0;
};

}  // namespace qrsim
