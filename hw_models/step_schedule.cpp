#include "hw_models/step_schedule.hpp"

#include <algorithm>

namespace qrsim {

StepSchedule::StepSchedule(int slots, int neurons_per_core, uint32_t seed, int first_core)
    : neurons_per_core_(neurons_per_core),
      role_(slots, NeuronRole::unused),
      config_(slots),
      state_(slots),
      bias_(slots, 0),
      y_sum_(slots, 0),
      y_window_(slots),
      input_(slots, 0) {
    const int cores = (slots + neurons_per_core - 1) / neurons_per_core;
    for (int c = 0; c < cores; ++c) {
        const uint32_t global_core = static_cast<uint32_t>(first_core + c);
        fw::Lfsr32 h, r;
        h.seed(fw::lfsr_seed(seed, 2 * global_core));
        r.seed(fw::lfsr_seed(seed, 2 * global_core + 1));
        lfsr_hidden_.push_back(h);
        lfsr_readout_.push_back(r);
    }
}

void StepSchedule::place(int slot, NeuronRole role, const fw::NeuronConfig& config, int32_t bias) {
    role_[slot] = role;
    config_[slot] = config;
    bias_[slot] = bias;
    hidden_slots_.clear();
    readout_slots_.clear();
    for (int s = 0; s < slots(); ++s) {
        if (role_[s] == NeuronRole::hidden) hidden_slots_.push_back(s);
        else if (role_[s] == NeuronRole::readout) readout_slots_.push_back(s);
    }
}

void StepSchedule::begin_sample(int n_steps, int readout_begin) {
    std::fill(state_.begin(), state_.end(), fw::NeuronState{});
    std::fill(y_sum_.begin(), y_sum_.end(), 0);
    for (std::vector<int32_t>& w : y_window_) w.clear();
    n_steps_ = n_steps;
    readout_begin_ = readout_begin;
}

int32_t* StepSchedule::clear_input() {
    std::fill(input_.begin(), input_.end(), 0);
    return input_.data();
}

}  // namespace qrsim
