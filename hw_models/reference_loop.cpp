#include "hw_models/reference_loop.hpp"

#include <algorithm>

namespace qrsim {

ReferenceLoop::ReferenceLoop(const TileNetwork& net, int neurons_per_core, uint32_t seed)
    : net_(net), npc_(neurons_per_core) {
    // Inverted index straight from the entry lists, weights resolved through the LUT once.
    offsets_.assign(net.n_addresses() + 1, 0);
    out_offsets_.assign(net.n_rec + 1, 0);
    for (int j = 0; j < net.n_neurons(); ++j)
        for (const EntryCode& e : net.fanin[j]) {
            if (net.is_readout(j)) ++out_offsets_[e.pre - net.n_in + 1];
            else ++offsets_[e.pre + 1];
        }
    for (size_t a = 1; a < offsets_.size(); ++a) offsets_[a] += offsets_[a - 1];
    for (size_t a = 1; a < out_offsets_.size(); ++a) out_offsets_[a] += out_offsets_[a - 1];
    targets_.resize(offsets_.back());
    out_targets_.resize(out_offsets_.back());
    std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1), out_fill(out_offsets_.begin(), out_offsets_.end() - 1);
    for (int j = 0; j < net.n_neurons(); ++j) {
        const GroupLut& lut = net.lut_of(j);
        for (const EntryCode& e : net.fanin[j]) {
            const int32_t w = lut.table[fw::lut_index(lut.kind, lut.weight_bits, e.code)];
            if (net.is_readout(j)) out_targets_[out_fill[e.pre - net.n_in]++] = Target{j - net.n_rec, w};
            else targets_[fill[e.pre]++] = Target{j, w};
        }
    }
    state_.resize(net.n_rec);
    y_.assign(net.n_out, 0);
    input_.assign(net.n_rec, 0);
    out_input_.assign(net.n_out, 0);
    const int cores = (net.n_neurons() + npc_ - 1) / npc_;
    lfsr_hidden_.resize(cores);
    lfsr_readout_.resize(cores);
    for (int c = 0; c < cores; ++c) {
        lfsr_hidden_[c].seed(fw::lfsr_seed(seed, 2 * static_cast<uint32_t>(c)));
        lfsr_readout_[c].seed(fw::lfsr_seed(seed, 2 * static_cast<uint32_t>(c) + 1));
    }
}

ReferenceLoop::Result ReferenceLoop::run(const SpikeSample& sample, int readout_begin, std::vector<SpikeEvent>* spikes) {
    std::fill(state_.begin(), state_.end(), fw::NeuronState{});
    std::fill(y_.begin(), y_.end(), 0);
    spiked_.clear();
    Result r;
    r.readout.assign(net_.n_out, 0);
    const int n_in = net_.n_in;
    uint64_t sops = 0;
    for (int t = 0; t < sample.n_steps(); ++t) {
        std::fill(input_.begin(), input_.end(), 0);
        int32_t* in = input_.data();
        const Target* tg = targets_.data();
        auto add = [&](uint32_t a) {
            const uint32_t b = offsets_[a], e = offsets_[a + 1];
            sops += e - b;
            for (uint32_t i = b; i < e; ++i) in[tg[i].neuron] += tg[i].weight;
        };
        for (int k = sample.step_begin[t]; k < sample.step_begin[t + 1]; ++k) add(sample.channels[k]);
        for (int j : spiked_) add(static_cast<uint32_t>(n_in + j));

        spiked_.clear();
        for (int j = 0; j < net_.n_rec; ++j)
            if (fw::neuron_step(net_.config_of(j), state_[j], in[j], net_.bias[j], lfsr_hidden_[j / npc_])) {
                spiked_.push_back(j);
                if (spikes) spikes->push_back(SpikeEvent{t, j});
            }

        std::fill(out_input_.begin(), out_input_.end(), 0);
        for (int j : spiked_) {
            const uint32_t b = out_offsets_[j], e = out_offsets_[j + 1];
            sops += e - b;
            for (uint32_t i = b; i < e; ++i) out_input_[out_targets_[i].neuron] += out_targets_[i].weight;
        }
        for (int o = 0; o < net_.n_out; ++o) {
            const int g = net_.n_rec + o;
            fw::readout_step(net_.readout, y_[o], out_input_[o], net_.bias[g], lfsr_readout_[g / npc_]);
            if (t >= readout_begin) r.readout[o] += y_[o];
        }
    }
    sops_ += sops;
    r.prediction = static_cast<int>(std::max_element(r.readout.begin(), r.readout.end()) - r.readout.begin());
    return r;
}

}  // namespace qrsim
