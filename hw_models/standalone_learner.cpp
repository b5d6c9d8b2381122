#include "hw_models/standalone_learner.hpp"

#include <algorithm>
#include <stdexcept>

namespace qrsim {

StandaloneLearner::StandaloneLearner(const HwConfig& hw, const TileNetwork& net, const fw::LearnParams& params)
    : hw_(hw), net_(net), fanin_(hw.entry_layout(), hw.neurons_per_tile(), hw.fanin, hw.neurons_per_core, 0) {
    check_fits(net, hw);
    if (net.n_neurons() > hw.neurons_per_tile()) throw std::runtime_error("standalone learner: network exceeds one tile");
    const int slots = hw.neurons_per_tile();
    // The tile's expanded LUT: the groups back to back (Tile::set_lut).
    for (int g = 0; g < net.n_luts(); ++g) lut_.insert(lut_.end(), net.lut(g).table.begin(), net.lut(g).table.end());
    fanin_.set_lut_stride(static_cast<int>(net.hidden.table.size()));
    for (int j = 0; j < net.n_neurons(); ++j) {
        fanin_.set_group(j, net.lut_group(j));
        for (const EntryCode& e : net.fanin[j]) fanin_.append(j, e.pre, e.code);
    }
    bias_.assign(slots, 0);
    std::copy(net.bias.begin(), net.bias.end(), bias_.begin());
    acc_.assign(slots, 0);
    y_sum_.assign(slots, 0);
    state_.assign(slots, fw::NeuronState{});
    for (int c = 0; c < hw.cores; ++c) {
        fw::Lfsr32 h, r;
        h.seed(fw::lfsr_seed(hw.seed, 2 * c));
        r.seed(fw::lfsr_seed(hw.seed, 2 * c + 1));
        lfsr_hidden_.push_back(h);
        lfsr_readout_.push_back(r);
    }
    engine_ = std::make_unique<LearningEngine>(hw, params, *this);
    engine_->init();
}

void StandaloneLearner::write_bias(int slot, int32_t value) {
    if (slot < net_.n_rec || slot >= net_.n_neurons() || !fw::fits_signed(value, hw_.membrane_bits))
        throw std::runtime_error("standalone learner: bias write refused at slot " + std::to_string(slot));
    bias_[slot] = value;
}

int StandaloneLearner::run_sample(const SpikeSample& sample, int readout_begin, bool learn) {
    const int T = sample.n_steps();
    std::fill(state_.begin(), state_.end(), fw::NeuronState{});
    std::fill(y_sum_.begin(), y_sum_.end(), 0);
    spikes_.clear();
    if (learn) engine_->begin_sample(sample.label);
    const int npc = hw_.neurons_per_core;
    for (int t = 0; t <= T; ++t) {
        // The packet of step t: z_{t-1} (sent by the tile at the last activation) and x_t.
        events_.assign(spikes_.begin(), spikes_.end());
        if (t < T)
            for (int e = sample.step_begin[t]; e < sample.step_begin[t + 1]; ++e) events_.push_back(sample.channels[e]);
        if (fanin_.dirty()) fanin_.build_index(net_.n_addresses());
        std::fill(acc_.begin(), acc_.end(), 0);
        const uint32_t* off = fanin_.offsets();
        const IndexTarget* tg = fanin_.targets();
        for (uint32_t a : events_)
            for (uint32_t i = off[a]; i < off[a + 1]; ++i) acc_[tg[i].slot] += lut_[tg[i].lut];
        spikes_.clear();
        if (t < T)
            for (int j = 0; j < net_.n_rec; ++j)
                if (fw::neuron_step(net_.config_of(j), state_[j], acc_[j], bias_[j], lfsr_hidden_[j / npc]))
                    spikes_.push_back(static_cast<uint32_t>(net_.n_in + j));
        if (t >= 1) {
            for (int s = net_.n_rec; s < net_.n_neurons(); ++s) {
                int32_t y = state_[s].v;
                fw::readout_step(net_.readout, y, acc_[s], bias_[s], lfsr_readout_[s / npc]);
                state_[s].v = y;
                if (t - 1 >= readout_begin) y_sum_[s] += y;
            }
        }
        if (learn) {
            if (t >= 1) engine_->signal_step(t - 1);
            if (t < T) engine_->trace_step(t);
        }
    }
    if (learn) engine_->end_sample();
    const auto first = y_sum_.begin() + net_.n_rec;
    return static_cast<int>(std::max_element(first, first + net_.n_out) - first);
}

}  // namespace qrsim
