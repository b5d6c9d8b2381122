// The plain C++ fixed-point reference: the same network as the chip, the same neuron
// arithmetic (firmware/neuron_core.hpp) and the same per-step schedule (step_schedule.hpp),
// but one flat population in a direct loop: no SystemC, no CAM or inverted index, no AER
// packets, no partition over tiles. Each step's input is summed from target lists built
// straight from the network's entry lists. The chip, on one tile or on a mesh, must match it
// spike for spike; the benchmark measures both.
#pragma once

#include "common/task.hpp"
#include "hw_models/aer.hpp"
#include "hw_models/network.hpp"
#include "hw_models/step_schedule.hpp"

#include <cstdint>
#include <vector>

namespace qrsim {

class ReferenceLoop {
public:
    // `neurons_per_core` and `seed` fix the per-core LFSRs as the chip lays them out (global
    // neuron j on core j / neurons_per_core).
    ReferenceLoop(const TileNetwork& net, int neurons_per_core, uint32_t seed);

    struct Result {
        int prediction = -1;
        std::vector<int64_t> readout;  // n_out sums over the window
    };
    // `spikes` (optional) receives every recurrent spike (step, neuron) in order. Throws, as
    // the chip does, if the sample has events outside the network's address table.
    Result run(const SpikeSample& sample, int readout_begin, std::vector<SpikeEvent>* spikes = nullptr);

    uint64_t synaptic_events() const { return sops_; }

private:
    struct Target {
        int32_t neuron;
        int32_t weight;
    };
    TileNetwork net_;
    StepSchedule neurons_;
    std::vector<uint32_t> offsets_;  // by address: the neurons (hidden and readout) it reaches
    std::vector<Target> targets_;
    std::vector<int> spiked_, spiked_before_;
    uint64_t sops_ = 0;
};

}  // namespace qrsim
