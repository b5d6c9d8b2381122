// Firmware images that misbehave on purpose, one per fault (-DFAULT=...), linked with the
// real startup code and linker script: the tile must stop with one line naming the hook, the
// pc and the function (testbenches/test_learning.cpp, "firmware faults").
#include "firmware/core_map.hpp"
#include "firmware/rule.hpp"
#include "firmware/rv32/hal.hpp"

#include <stdint.h>

namespace map = qrsim::fw::core_map;
using namespace qrsim::fw;

namespace {
volatile uint32_t& reg(uint32_t a) { return *reinterpret_cast<volatile uint32_t*>(a); }

// The descriptor the tile reads before it starts the core: the faults come from the
// dispatcher below, not from the rule's hooks.
const RuleInfo kInfo = {kRuleAbi, "eprop", "misbehaves on purpose", kEveryUpdate, kEveryFeedback, kEveryPlacement, 0, {}};
const RuleOps kRule = {&kInfo, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
}  // namespace

QRSIM_RULE(kRule);

extern "C" void qrsim_dispatch() {
    const uint32_t hook = reg(map::mailbox_base + map::mb_hook);
    if (hook == map::hook_trace_step) {
#if FAULT == 1  // a value wider than the trace format (eps: 12 bits in dynapse2)
        reg(map::region_address(9, 0)) = 0x7FFFFFFFu;
#elif FAULT == 2  // never returns
        for (;;) reg(map::mailbox_base + map::mb_detail) = 1;
#elif FAULT == 3  // a wild store
        reg(0x50000000u) = 1;
#elif FAULT == 4  // a store into the CAM's read-only window
        reg(map::region_address(0, 5)) = 1;
#elif FAULT == 5  // through the HAL, a store one word past pre_traces' window (post_traces' first word)
        const int32_t zero = 0;
        qrsim::fw::rv32::hal_write(nullptr, qrsim::fw::lmem_pre, map::region_words, 1, &zero);
#elif FAULT == 6  // through the HAL, a load of the last word of pre_traces' window, past its end
        int32_t word = 0;
        qrsim::fw::rv32::hal_read(nullptr, qrsim::fw::lmem_pre, map::region_words - 1, 1, &word);
#endif
    }
    reg(map::mailbox_base + map::mb_status) = map::status_ok;
}
