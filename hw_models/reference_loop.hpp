// The plain C++ fixed-point reference: the same network as the tile, the same firmware
// arithmetic (fw::neuron_step, fw::readout_step, LFSR layout), but a direct loop with no
// SystemC, no CAM, no AER and no pipelining: per step, inputs and z_{t-1} drive the
// recurrent neurons, then z_t drives the readout in the same step. The tile must match it
// spike for spike; the benchmark measures both.
#pragma once

#include "common/task.hpp"
#include "firmware/lfsr.hpp"
#include "hw_models/aer.hpp"
#include "hw_models/network.hpp"

#include <cstdint>
#include <vector>

namespace qrsim {

class ReferenceLoop {
public:
    // `neurons_per_core` and `seed` fix the per-core LFSRs exactly as the tile lays them out.
    ReferenceLoop(const TileNetwork& net, int neurons_per_core, uint32_t seed);

    struct Result {
        int prediction = -1;
        std::vector<int64_t> readout;  // n_out sums over the window
    };
    // `spikes` (optional) receives every recurrent spike (step, neuron) in order.
    Result run(const SpikeSample& sample, int readout_begin, std::vector<SpikeEvent>* spikes = nullptr);

    uint64_t synaptic_events() const { return sops_; }

private:
    struct Target {
        int32_t neuron;
        int32_t weight;
    };
    TileNetwork net_;
    int npc_;
    std::vector<uint32_t> offsets_;  // by address: targets in the recurrent population
    std::vector<Target> targets_;
    std::vector<uint32_t> out_offsets_;  // by recurrent neuron: targets among readout units
    std::vector<Target> out_targets_;
    std::vector<fw::NeuronState> state_;
    std::vector<int32_t> y_, input_, out_input_;
    std::vector<fw::Lfsr32> lfsr_hidden_, lfsr_readout_;
    std::vector<int> spiked_, spiked_prev_;
    uint64_t sops_ = 0;
};

}  // namespace qrsim
