#include "hw_models/fanin_table.hpp"

#include <stdexcept>

namespace qrsim {

FaninTable::FaninTable(const fw::EntryLayout& layout, int slots, int fanin, int neurons_per_core, int first_global)
    : layout_(layout), slots_(slots), fanin_(fanin), neurons_per_core_(neurons_per_core), first_global_(first_global),
      entries_(static_cast<size_t>(slots) * fanin, 0u), group_(slots, 0) {
    if (slots > 65536) throw std::runtime_error("tile: more than 65536 neuron slots per tile is not supported");
}

void FaninTable::refuse(int slot, const std::string& what) const {
    throw std::runtime_error("fan-in table refused write: neuron " + std::to_string(first_global_ + slot) + " (K=" +
                             std::to_string(fanin_) + "): " + what);
}

void FaninTable::check(int slot, int entry, int32_t address, int32_t code) const {
    if (slot < 0 || slot >= slots_)
        throw std::runtime_error("fan-in table refused write: slot " + std::to_string(slot) + " outside the tile's [0, " +
                                 std::to_string(slots_ - 1) + "]");
    if (entry < 0 || entry >= fanin_)
        refuse(slot, "entry " + std::to_string(entry) + " outside [0, " + std::to_string(fanin_ - 1) + "]");
    if (!fw::address_valid(layout_, address))
        refuse(slot, "address " + std::to_string(address) + " outside [0, " +
                         std::to_string(fw::max_unsigned(layout_.address_bits)) + "] (" +
                         std::to_string(layout_.address_bits) + "-bit tags)");
    if (!fw::code_valid(layout_.kind, layout_.weight_bits, code)) {
        const char* kinds[] = {"none", "uniform", "dynapse1", "dynapse2"};
        std::string range = "[" + std::to_string(fw::code_min(layout_.kind, layout_.weight_bits)) + ", " +
                            std::to_string(fw::code_max(layout_.kind, layout_.weight_bits)) + "]";
        if (layout_.kind == fw::code_dynapse2) range += " without 0 (sign x mask, mask 1..15)";
        refuse(slot, "code " + std::to_string(code) + " outside " + range + " for " + kinds[layout_.kind] +
                         (layout_.kind == fw::code_uniform ? " " + std::to_string(layout_.weight_bits) + "-bit" : ""));
    }
}

void FaninTable::write(int slot, int entry, int32_t address, int32_t code) {
    check(slot, entry, address, code);
    entries_[static_cast<size_t>(slot) * fanin_ + entry] = fw::pack_entry(layout_, address, code);
    dirty_ = true;
}

void FaninTable::clear(int slot, int entry, int32_t address) {
    if (slot < 0 || slot >= slots_ || entry < 0 || entry >= fanin_)
        refuse(slot, "clear of entry " + std::to_string(entry) + " outside [0, " + std::to_string(fanin_ - 1) + "]");
    if (!fw::address_valid(layout_, address))
        refuse(slot, "dormant entry " + std::to_string(entry) + " with address " + std::to_string(address) +
                         " outside the " + std::to_string(layout_.address_bits) + "-bit tag");
    const int cb = fw::code_bits(layout_.kind, layout_.weight_bits);
    entries_[static_cast<size_t>(slot) * fanin_ + entry] = static_cast<uint32_t>(address) << cb;
    dirty_ = true;
}

int FaninTable::used(int slot) const {
    int n = 0;
    for (int e = 0; e < fanin_; ++e) n += valid(slot, e);
    return n;
}

void FaninTable::append(int slot, int32_t address, int32_t code) {
    if (slot >= 0 && slot < slots_)
        for (int e = 0; e < fanin_; ++e)
            if (!valid(slot, e)) return write(slot, e, address, code);
    check(slot, 0, address, code);
    refuse(slot, "all K=" + std::to_string(fanin_) + " entries in use, cannot add address " + std::to_string(address) +
                     " code " + std::to_string(code));
}

void FaninTable::build_index(int n_addresses) {
    offsets_.assign(n_addresses + 1, 0);
    for (int s = 0; s < slots_; ++s)
        for (int e = 0; e < fanin_; ++e)
            if (valid(s, e)) {
                const int32_t a = address(s, e);
                if (a >= n_addresses)
                    refuse(s, "entry " + std::to_string(e) + " address " + std::to_string(a) +
                                  " is beyond the network's " + std::to_string(n_addresses) + " addresses");
                ++offsets_[a + 1];
            }
    for (int a = 0; a < n_addresses; ++a) offsets_[a + 1] += offsets_[a];
    targets_.resize(offsets_.back());
    std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
    const int cores = this->cores();
    core_sops_.assign(static_cast<size_t>(n_addresses) * cores, 0);
    // Slot-major order keeps each address's targets sorted by slot: sequential writes to
    // the accumulator array in the hot loop.
    for (int s = 0; s < slots_; ++s)
        for (int e = 0; e < fanin_; ++e)
            if (valid(s, e)) {
                const int32_t a = address(s, e);
                const int lut = group_[s] * lut_stride_ + fw::lut_index(layout_.kind, layout_.weight_bits, code(s, e));
                targets_[fill[a]++] = IndexTarget{static_cast<uint16_t>(s), static_cast<uint16_t>(lut)};
                ++core_sops_[static_cast<size_t>(a) * cores + s / neurons_per_core_];
            }
    cam_cost_.assign(n_addresses, 0);
    for (int a = 0; a < n_addresses; ++a)
        for (int c = 0; c < cores; ++c) cam_cost_[a] += core_sops_[static_cast<size_t>(a) * cores + c] > 0;
    dirty_ = false;
}

}  // namespace qrsim
