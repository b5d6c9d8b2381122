#include "hw_models/memory_report.hpp"

#include <algorithm>
#include <stdexcept>

namespace qrsim {

int refractory_bits(int steps) {
    int b = 0;
    while ((1 << b) <= steps) ++b;
    return b;
}

namespace {
int ceil_log2(int64_t n) {
    int b = 0;
    while ((int64_t{1} << b) < n) ++b;
    return b;
}
}  // namespace

MemoryMap tile_memory_map(const HwConfig& hw) {
    MemoryMap m;
    const int64_t n = hw.neurons_per_tile();
    const int64_t k = hw.fanin;
    const fw::EntryLayout l = hw.entry_layout();
    const int64_t trace_set = [&] {
        int64_t s = 0;
        for (int b : hw.trace_bits) s += b;
        return s;
    }();
    // A CAM stores the presynaptic tag with each entry; a directly addressed synapse
    // memory (row per presynaptic address, ReckOn / Loihi style) stores only the code.
    m.bits["cam"] = hw.lookup == SynapseLookup::cam ? n * k * fw::entry_bits(l) : n * k * hw.code_bits();
    m.bits["weight_lut"] = int64_t{hw.cores} * hw.lut_groups *
                           fw::lut_stored(static_cast<fw::CodeKind>(hw.kind), hw.weight_bits) * hw.lut_bits;
    if (hw.lut_groups > 2) m.bits["lut_select"] = n * ceil_log2(hw.lut_groups);
    // The refractory counter is sized for up to 15 steps (4 bits), a hardware constant.
    m.bits["neuron_state"] = n * (hw.membrane_bits + hw.adaptation_bits + 4 + 1);
    m.bits["neuron_bias"] = n * hw.membrane_bits;
    m.bits["neuron_params"] = int64_t{hw.cores} * 3 * (2 * hw.membrane_bits + 2 * 16 + 8);
    m.bits["routing"] = n * 4 * (1 + ceil_log2(int64_t{hw.tiles()} * hw.cores));
    m.bits["lfsr"] = int64_t{hw.cores} * 2 * 32;
    switch (hw.trace_placement) {
        case TracePlacement::none: m.bits["traces"] = 0; break;
        case TracePlacement::presynaptic:
            m.bits["traces"] = std::min<int64_t>(int64_t{1} << hw.address_bits, n * k) * trace_set;
            break;
        case TracePlacement::synapse: m.bits["traces"] = n * k * trace_set; break;
    }
    m.cam_total = m.bits["cam"];
    for (const auto& [name, b] : m.bits)
        if (name != "cam") m.sram_total += b;
    return m;
}

void check_capacity(const HwConfig& hw) {
    const MemoryMap m = tile_memory_map(hw);
    if (m.cam_total > hw.cam_bits)
        throw std::runtime_error(hw.source + ": capacity exceeded: component cam needs " + std::to_string(m.cam_total) +
                                 " bits (" + std::to_string(hw.neurons_per_tile()) + " neurons x K=" +
                                 std::to_string(hw.fanin) + " x " + std::to_string(fw::entry_bits(hw.entry_layout())) +
                                 " bits), memory.cam_bits = " + std::to_string(hw.cam_bits));
    if (m.sram_total > hw.sram_bits) {
        std::string largest;
        int64_t lb = -1;
        for (const auto& [name, b] : m.bits)
            if (name != "cam" && b > lb) lb = b, largest = name;
        throw std::runtime_error(hw.source + ": capacity exceeded: SRAM components need " + std::to_string(m.sram_total) +
                                 " bits (largest: " + largest + " " + std::to_string(lb) + " bits), memory.sram_bits = " +
                                 std::to_string(hw.sram_bits));
    }
}

}  // namespace qrsim
