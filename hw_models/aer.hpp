// Address-event packets: all events of one source for one timestep travel together (one
// TLM transaction per packet, never one per spike).
#pragma once

#include <cstdint>
#include <vector>

namespace qrsim {

struct AerPacket {
    int step = 0;                     // the sample step whose neuron update consumes it
    std::vector<uint32_t> addresses;  // source addresses (see hw_models/network.hpp)
};

// One recorded spike of a recurrent neuron.
struct SpikeEvent {
    int step;
    int neuron;  // global id
    bool operator==(const SpikeEvent& o) const { return step == o.step && neuron == o.neuron; }
    bool operator<(const SpikeEvent& o) const { return step != o.step ? step < o.step : neuron < o.neuron; }
};

}  // namespace qrsim
