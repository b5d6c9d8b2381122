// The learning core's side of the tile (built only for rv32imc): the hook dispatcher the tile
// starts through the mailbox, handing the rules the HAL over the core's memory map
// (firmware/rv32/hal.hpp). A rule's code is the same as in the native host build; only this
// file and the HAL differ.
#include "firmware/core_map.hpp"
#include "firmware/learning.hpp"
#include "firmware/rule.hpp"
#include "firmware/rv32/hal.hpp"

#include <stddef.h>
#include <stdint.h>

extern "C" char __pool_start[];

namespace {

using namespace qrsim::fw;
namespace map = qrsim::fw::core_map;

using rv32::kHal;
using rv32::reg;

LearnParams g_params;
LearnContext g_ctx;
const RuleOps* g_rule = nullptr;

static_assert(sizeof(LearnParams) % 4 == 0 && sizeof(LearnParams) <= map::mb_params_bytes,
              "LearnParams travels through the mailbox as whole words");

void read_params() {
    uint32_t* dst = reinterpret_cast<uint32_t*>(&g_params);
    for (uint32_t i = 0; i < sizeof(LearnParams) / 4; ++i) dst[i] = reg(map::mailbox_base + map::mb_params + 4 * i);
}

// The rule the mailbox names, from the registry of this image.
const RuleOps* named_rule() {
    char name[map::mb_rule_name_bytes];
    for (uint32_t i = 0; i < map::mb_rule_name_bytes; i += 4) {
        const uint32_t w = reg(map::mailbox_base + map::mb_rule_name + i);
        for (uint32_t k = 0; k < 4; ++k) name[i + k] = static_cast<char>(w >> (8 * k));
    }
    name[map::mb_rule_name_bytes - 1] = 0;
    return find_rule(name);
}

// What the rule needs for these parameters: its learning memory by LearnMem and its working
// memory, for the tile's capacity checks and memory report.
uint32_t describe() {
    const RuleOps* rule = named_rule();
    if (!rule) return map::status_unknown_rule;
    read_params();
    for (uint32_t m = 0; m < lmem_count_; ++m) {
        const uint64_t bits = rule->memory_bits ? rule->memory_bits(g_params, static_cast<uint8_t>(m)) : 0;
        reg(map::mailbox_base + map::mb_memory_bits + 8 * m) = static_cast<uint32_t>(bits);
        reg(map::mailbox_base + map::mb_memory_bits + 8 * m + 4) = static_cast<uint32_t>(bits >> 32);
    }
    reg(map::mailbox_base + map::mb_scratch_words) = rule->scratch_words ? rule->scratch_words(g_params) : 0;
    return map::status_ok;
}

// Returns a status (core_map::Status); detail explains it.
uint32_t init(uint32_t& detail) {
    g_rule = named_rule();
    if (!g_rule) return map::status_unknown_rule;
    read_params();
    // The scratch pool runs from the end of .bss to the end of RAM.
    const uint32_t words = g_rule->scratch_words ? g_rule->scratch_words(g_params) : 0;
    const uint32_t have = reg(map::info_base + map::info_ram_end) - reinterpret_cast<uint32_t>(__pool_start);
    if (4u * words > have) {
        detail = 4u * words - have;
        g_rule = nullptr;
        return map::status_scratch_full;
    }
    g_ctx = LearnContext{};
    g_ctx.p = &g_params;
    g_ctx.hal = &kHal;
    g_ctx.pool = reinterpret_cast<int32_t*>(__pool_start);
    g_ctx.pool_words = words;
    if (g_rule->init) g_rule->init(g_ctx);
    return map::status_ok;
}

void set_rates() {
    LearnParams fresh = g_params;
    uint32_t* dst = reinterpret_cast<uint32_t*>(&fresh);
    for (uint32_t i = 0; i < sizeof(LearnParams) / 4; ++i) dst[i] = reg(map::mailbox_base + map::mb_params + 4 * i);
    copy_learning_rates(g_params, fresh);
}

}  // namespace

// Memory helpers the compiler may call for struct copies and zeroing (there is no libc).
extern "C" void* memcpy(void* d, const void* s, size_t n) {
    char* dc = static_cast<char*>(d);
    const char* sc = static_cast<const char*>(s);
    while (n--) *dc++ = *sc++;
    return d;
}
extern "C" void* memset(void* d, int v, size_t n) {
    char* dc = static_cast<char*>(d);
    while (n--) *dc++ = static_cast<char>(v);
    return d;
}

extern "C" void qrsim_dispatch() {
    const uint32_t hook = reg(map::mailbox_base + map::mb_hook);
    const uint32_t arg = reg(map::mailbox_base + map::mb_arg);
    uint32_t status = map::status_ok, detail = 0;
    if (hook == map::hook_init) {
        status = init(detail);
    } else if (hook == map::hook_describe) {
        status = describe();
    } else if (!g_rule) {
        status = map::status_not_initialised;
    } else {
        switch (hook) {
            case map::hook_begin_sample: if (g_rule->begin_sample) g_rule->begin_sample(g_ctx); break;
            case map::hook_trace_step: if (g_rule->trace_step) g_rule->trace_step(g_ctx, static_cast<uint16_t>(arg)); break;
            case map::hook_signal_step: if (g_rule->signal_step) g_rule->signal_step(g_ctx, static_cast<uint16_t>(arg)); break;
            case map::hook_end_sample: if (g_rule->end_sample) g_rule->end_sample(g_ctx); break;
            case map::hook_finish: if (g_rule->finish) g_rule->finish(g_ctx); break;
            case map::hook_set_rates: set_rates(); break;
            default: status = map::status_bad_hook; detail = hook;
        }
    }
    reg(map::mailbox_base + map::mb_updates) = g_ctx.updates;
    reg(map::mailbox_base + map::mb_detail) = detail;
    reg(map::mailbox_base + map::mb_status) = status;
}
