// The rv32 learning core's HAL: fw::Hal over the core's memory map (firmware/core_map.hpp).
// Built only for rv32imc; core_main.cpp hands it to the rules, and the fault images of the
// tests call it as a misbehaving rule would.
#pragma once

#include "firmware/core_map.hpp"
#include "firmware/learning.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {
namespace rv32 {

inline volatile uint32_t& reg(uint32_t address) { return *reinterpret_cast<volatile uint32_t*>(address); }

// Words [index, index + count) of memory `mem`. The tile checks every word against the
// memory's size, but only from the address: a range past the memory's window would land in
// the next memory's window as a legal-looking access. The HAL reports such a range to the
// bounds trap instead, and the tile stops the run naming the memory and the index.
inline volatile int32_t* region(uint8_t mem, uint32_t index, uint32_t count, bool store) {
    if (index >= core_map::region_words || count > core_map::region_words - index)
        reg(core_map::bounds_trap_address(mem, store)) = index;
    return reinterpret_cast<volatile int32_t*>(core_map::region_address(mem, index));
}

inline void hal_read(void*, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst) {
    volatile int32_t* src = region(mem, index, count, false);
    for (uint32_t i = 0; i < count; ++i) dst[i] = src[i];
}
inline void hal_write(void*, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src) {
    volatile int32_t* dst = region(mem, index, count, true);
    for (uint32_t i = 0; i < count; ++i) dst[i] = src[i];
}
inline int cam_command(uint32_t slot, uint32_t entry, int32_t address, int32_t code, uint32_t command) {
    reg(core_map::cam_base + core_map::cam_slot) = slot;
    reg(core_map::cam_base + core_map::cam_entry) = entry;
    reg(core_map::cam_base + core_map::cam_address) = static_cast<uint32_t>(address);
    reg(core_map::cam_base + core_map::cam_code) = static_cast<uint32_t>(code);
    reg(core_map::cam_base + core_map::cam_command) = command;
    return static_cast<int>(reg(core_map::cam_base + core_map::cam_status));
}
inline int hal_write_entry(void*, uint32_t slot, uint32_t entry, int32_t address, int32_t code) {
    return cam_command(slot, entry, address, code, 1);
}
inline int hal_clear_entry(void*, uint32_t slot, uint32_t entry, int32_t address) {
    return cam_command(slot, entry, address, 0, 2);
}
inline uint32_t hal_event_count(void*) { return reg(core_map::info_base + core_map::info_event_count); }

inline constexpr Hal kHal = {nullptr, &hal_read, &hal_write, &hal_write_entry, &hal_clear_entry, &hal_event_count};

}  // namespace rv32
}  // namespace fw
}  // namespace qrsim
