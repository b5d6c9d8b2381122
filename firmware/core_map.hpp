// The learning core's address space, shared by the firmware image (firmware/rv32/) and the
// instruction-set simulator that runs it inside the tile (hw_models/rv32_core.hpp).
//
//   0x0000_0000  ROM      code and read-only data (.text, .rodata, .data's load image)
//   0x1000_0000  RAM      stack (grows down from __stack_top towards RAM_BASE; below
//                         RAM_BASE nothing is mapped, so an overflow faults), then .data,
//                         .bss and the scratch pool the firmware carves at init
//   0x3000_0000  MAILBOX  hook number, argument, status, the rule name and LearnParams
//   0x3000_1000  CAM      the checked fan-in write port (registers below)
//   0x3000_2000  INFO     read-only registers: event count of this step, end of RAM; and
//                         the HAL's bounds trap (below)
//   0x4000_0000  REGIONS  one window per fw::LearnMem: word i of memory m at
//                         REGION_BASE + m * REGION_STRIDE + 4 i. Every access is
//                         bounds-checked against the memory's size, counted in bits for
//                         the energy report and, on writes, checked against its width. An
//                         index past the window would address the next memory: the HAL
//                         (firmware/rv32/hal.hpp) reports it to the bounds trap instead.
// Anything else faults. Words are 32-bit little-endian; accesses outside RAM must be aligned
// 32-bit loads and stores.
#pragma once

#include <stdint.h>

namespace qrsim {
namespace fw {
namespace core_map {

constexpr uint32_t rom_base = 0x00000000u;
constexpr uint32_t ram_base = 0x10000000u;
constexpr uint32_t mailbox_base = 0x30000000u;
constexpr uint32_t cam_base = 0x30001000u;
constexpr uint32_t info_base = 0x30002000u;
constexpr uint32_t mmio_size = 0x1000u;
constexpr uint32_t region_base = 0x40000000u;
constexpr uint32_t region_stride = 0x00400000u;  // 1 Mi words per learning memory
constexpr uint32_t region_words = region_stride / 4;

// Mailbox word offsets (bytes). The host writes hook and arg, the firmware status.
constexpr uint32_t mb_hook = 0x00;
constexpr uint32_t mb_arg = 0x04;
constexpr uint32_t mb_status = 0x08;
constexpr uint32_t mb_detail = 0x0C;  // a number that explains a non-zero status
constexpr uint32_t mb_updates = 0x10; // the rule's weight updates so far (LearnContext::updates)
constexpr uint32_t mb_scratch_words = 0x14;  // hook_describe: the rule's working memory, words
constexpr uint32_t mb_rule_name = 0x40;  // NUL-terminated, at most mb_rule_name_bytes
constexpr uint32_t mb_rule_name_bytes = 64;
constexpr uint32_t mb_params = 0x100;    // the LearnParams struct, byte for byte
constexpr uint32_t mb_params_bytes = 0x200;
constexpr uint32_t mb_memory_bits = 0x300;  // hook_describe: bits by LearnMem, 64-bit (low word first)
constexpr uint32_t mb_memory_bits_bytes = 0x100;

// Mailbox words the firmware may write (everything else is the tile's).
constexpr bool firmware_writes_mailbox(uint32_t offset) {
    return offset == mb_status || offset == mb_detail || offset == mb_updates || offset == mb_scratch_words ||
           (offset >= mb_memory_bits && offset < mb_memory_bits + mb_memory_bits_bytes);
}

enum Hook : uint32_t {
    hook_init = 0,          // find the rule by name, take LearnParams, carve scratch, rule init
    hook_begin_sample = 1,
    hook_trace_step = 2,    // arg = t
    hook_signal_step = 3,   // arg = t
    hook_end_sample = 4,
    hook_finish = 5,
    hook_set_rates = 6,     // re-read the rate fields of LearnParams
    hook_describe = 7,      // before init: the named rule's memory bits and scratch words for LearnParams
    hook_count_
};

enum Status : uint32_t {
    status_ok = 0,
    status_unknown_rule = 1,    // detail: 0
    status_scratch_full = 2,    // detail: bytes the scratch pool lacks
    status_params_size = 3,     // detail: sizeof(LearnParams) in the image
    status_not_initialised = 4,
    status_bad_hook = 5,
};

// CAM write port: write slot, entry, address and code, then command; status reads 0 when
// the tile accepted the write, 1 when it refused it (the refusal is also counted by the tile).
constexpr uint32_t cam_slot = 0x00;
constexpr uint32_t cam_entry = 0x04;
constexpr uint32_t cam_address = 0x08;
constexpr uint32_t cam_code = 0x0C;
constexpr uint32_t cam_command = 0x10;  // 1: write entry, 2: clear entry
constexpr uint32_t cam_status = 0x14;

constexpr uint32_t info_event_count = 0x00;
constexpr uint32_t info_ram_end = 0x04;  // first address past RAM (RAM_BASE + learn.ram_bytes)
// The bounds trap: the HAL stores the index of an access past memory m's window to
// bounds_trap_address(m, store); the store faults the core with the memory, the index and
// the memory's size.
constexpr uint32_t info_bounds_trap = 0x100;
constexpr uint32_t bounds_trap_address(uint32_t mem, bool store) {
    return info_base + info_bounds_trap + 8u * mem + (store ? 4u : 0u);
}

constexpr uint32_t region_address(uint32_t mem, uint32_t index) { return region_base + mem * region_stride + 4u * index; }

}  // namespace core_map
}  // namespace fw
}  // namespace qrsim
