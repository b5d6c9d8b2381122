#include "hw_models/reference_loop.hpp"

#include <algorithm>
#include <stdexcept>

namespace qrsim {

ReferenceLoop::ReferenceLoop(const TileNetwork& net, int neurons_per_core, uint32_t seed)
    : net_(net), neurons_(net.n_neurons(), neurons_per_core, seed, 0) {
    // Target lists by presynaptic address straight from the entry lists, each weight
    // resolved through its group's LUT once.
    offsets_.assign(net.n_addresses() + 1, 0);
    for (int j = 0; j < net.n_neurons(); ++j)
        for (const EntryCode& e : net.fanin[j]) ++offsets_[e.pre + 1];
    for (size_t a = 1; a < offsets_.size(); ++a) offsets_[a] += offsets_[a - 1];
    targets_.resize(offsets_.back());
    std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
    for (int j = 0; j < net.n_neurons(); ++j) {
        const GroupLut& lut = net.lut_of(j);
        for (const EntryCode& e : net.fanin[j])
            targets_[fill[e.pre]++] = Target{j, lut.table[fw::lut_index(lut.kind, lut.weight_bits, e.code)]};
        neurons_.place(j, net.is_readout(j) ? NeuronRole::readout : NeuronRole::hidden, net.config_of(j), net.bias[j]);
    }
}

ReferenceLoop::Result ReferenceLoop::run(const SpikeSample& sample, int readout_begin, std::vector<SpikeEvent>* spikes) {
    const int T = sample.n_steps();
    const uint32_t n_addresses = static_cast<uint32_t>(net_.n_addresses());
    neurons_.begin_sample(T, readout_begin);
    spiked_before_.clear();
    OutsideEvents outside;
    uint64_t sops = 0;
    for (int t = 0; t <= T; ++t) {
        int32_t* in = neurons_.clear_input();
        auto add = [&](uint32_t a) {
            if (a >= n_addresses) return outside.add(a, t);
            const uint32_t b = offsets_[a], e = offsets_[a + 1];
            sops += e - b;
            for (uint32_t i = b; i < e; ++i) in[targets_[i].neuron] += targets_[i].weight;
        };
        if (t < T)
            for (int k = sample.step_begin[t]; k < sample.step_begin[t + 1]; ++k) add(sample.channels[k]);
        for (int j : spiked_before_) add(static_cast<uint32_t>(net_.n_in + j));
        spiked_.clear();
        neurons_.step(
            t,
            [&](int j) {
                spiked_.push_back(j);
                if (spikes) spikes->push_back(SpikeEvent{t, j});
            },
            nullptr);
        spiked_.swap(spiked_before_);
    }
    if (const std::string e = outside.message("reference loop", n_addresses); !e.empty()) throw std::runtime_error(e);
    sops_ += sops;
    Result r;
    for (int o = 0; o < net_.n_out; ++o) r.readout.push_back(neurons_.readout_sum(net_.n_rec + o));
    r.prediction = static_cast<int>(std::max_element(r.readout.begin(), r.readout.end()) - r.readout.begin());
    return r;
}

}  // namespace qrsim
