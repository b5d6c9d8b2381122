// Address-event packets: all events of one source for one timestep travel together (one
// TLM transaction per packet, never one per spike).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qrsim {

struct AerPacket {
    int step = 0;                     // the sample step whose neuron update consumes it
    std::vector<uint32_t> addresses;  // source addresses (see hw_models/network.hpp)
};

// Events whose address has no row in a routing or fan-in table. They cannot be delivered,
// and a silent drop would let a wiring bug (a sample with more channels than the network has
// inputs, a router and a tile built for different address spaces) pass as a quiet network:
// they are counted per sample and the chip stops the run with what was counted.
class OutsideEvents {
public:
    void clear() { count_ = 0; }
    void add(uint32_t address, int step) {
        if (count_++ == 0) {
            first_address_ = address;
            first_step_ = step;
        }
    }
    uint64_t count() const { return count_; }
    // "": none. `where` names the table, e.g. "mesh router"; `size` is its number of rows.
    std::string message(const std::string& where, uint64_t size) const {
        if (count_ == 0) return "";
        return where + ": " + std::to_string(count_) + " AER event" + (count_ == 1 ? "" : "s") +
               " outside its address table (" + std::to_string(size) + " rows) in this sample (first: address " +
               std::to_string(first_address_) + " at step " + std::to_string(first_step_) +
               "); the input has more channels than the network has inputs, or the tables were built for another network";
    }

private:
    uint64_t count_ = 0;
    uint32_t first_address_ = 0;
    int first_step_ = 0;
};

// One recorded spike of a recurrent neuron.
struct SpikeEvent {
    int step;
    int neuron;  // global id
    bool operator==(const SpikeEvent& o) const { return step == o.step && neuron == o.neuron; }
    bool operator<(const SpikeEvent& o) const { return step != o.step ? step < o.step : neuron < o.neuron; }
};

}  // namespace qrsim
