// The fan-in tables (CAMs) of one tile: per neuron slot K entries {valid, presynaptic
// address, weight code}, packed as firmware/memory_map.hpp lays them out. Every write is
// checked against the spec (K, address range, code range) and refused with one line naming
// the neuron, K, the code and the allowed range; nothing is ever clamped.
//
// The hardware searches every CAM of a core for each incoming event. The model gets the
// same result from an inverted index (address -> contiguous {slot, LUT index} list) built
// from the entries whenever they changed, and counts cam_search as the hardware performs
// them: one per event per core it is delivered to (the cores holding an entry for it).
#pragma once

#include "firmware/memory_map.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace qrsim {

struct IndexTarget {
    uint16_t slot;
    uint16_t lut;  // index into the tile's expanded LUT (group offset + fw::lut_index)
};

class FaninTable {
public:
    FaninTable(const fw::EntryLayout& layout, int slots, int fanin, int neurons_per_core, int first_global_neuron);

    // Checked writes. `slot` is the tile-local neuron; entry in [0, K).
    void write(int slot, int entry, int32_t address, int32_t code);
    // Turns an entry dormant: valid bit off, the tag `address` kept (checked like a write).
    void clear(int slot, int entry, int32_t address = 0);
    // Writes the first free entry; refuses when all K are in use.
    void append(int slot, int32_t address, int32_t code);

    bool valid(int slot, int entry) const { return fw::entry_is_valid(layout_, at(slot, entry)); }
    int32_t address(int slot, int entry) const { return fw::entry_address(layout_, at(slot, entry)); }
    int32_t code(int slot, int entry) const { return fw::entry_code(layout_, at(slot, entry)); }
    int used(int slot) const;
    // The packed entry as stored (firmware/memory_map.hpp layout), for the learning HAL.
    uint32_t raw(int slot, int entry) const { return at(slot, entry); }

    // Which LUT group a slot reads (0: hidden, 1: readout, 2..: further hidden layers; under
    // mismatch every slot its own, after those) and
    // the size of one group's expanded LUT: group g starts at g x stride in the tile's table.
    void set_group(int slot, int group) { group_[slot] = static_cast<uint16_t>(group); dirty_ = true; }
    void set_lut_stride(int stride) { lut_stride_ = stride; dirty_ = true; }

    // The inverted index for addresses [0, n_addresses); rebuilt only after writes.
    void build_index(int n_addresses);
    bool dirty() const { return dirty_; }
    int n_addresses() const { return static_cast<int>(offsets_.size()) - 1; }
    const uint32_t* offsets() const { return offsets_.data(); }
    const IndexTarget* targets() const { return targets_.data(); }
    // cam_search actions one event of this address causes: the cores that hold at least
    // one entry for it.
    const uint32_t* cam_cost() const { return cam_cost_.data(); }
    // Entries of each core for each address (address-major, cores() per address): the
    // synaptic operations one event costs each core, for the step timing.
    const uint32_t* core_sops() const { return core_sops_.data(); }
    int cores() const { return (slots_ + neurons_per_core_ - 1) / neurons_per_core_; }
    bool subscribes(int address) const { return address < n_addresses() && offsets_[address + 1] > offsets_[address]; }

    int slots() const { return slots_; }
    int fanin() const { return fanin_; }
    const fw::EntryLayout& layout() const { return layout_; }

private:
    uint32_t at(int slot, int entry) const { return entries_[static_cast<size_t>(slot) * fanin_ + entry]; }
    [[noreturn]] void refuse(int slot, const std::string& what) const;
    void check(int slot, int entry, int32_t address, int32_t code) const;

    fw::EntryLayout layout_;
    int slots_, fanin_, neurons_per_core_, first_global_;
    std::vector<uint32_t> entries_;  // slots x K packed entries
    std::vector<uint16_t> group_;
    int lut_stride_ = 0;
    bool dirty_ = true;
    std::vector<uint32_t> offsets_{0};
    std::vector<IndexTarget> targets_;
    std::vector<uint32_t> cam_cost_;
    std::vector<uint32_t> core_sops_;
};

}  // namespace qrsim
