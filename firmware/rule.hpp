// What an on-chip rule is to the tile: its descriptor (name, description, the shared
// settings it supports, its own settings) and its hooks. Freestanding C++17.
//
// A rule is one translation unit that defines a RuleOps and registers it with
// QRSIM_RULE(ops). Registration puts a pointer to it in the section `qrsim_rules`, so the
// registry is whatever was linked: every built-in rule in qrsim and in the default image,
// only your rule in an image built with scripts/build_rule. The descriptor (RuleInfo) holds
// no pointers and only 32-bit words and characters, so it has the same bytes on rv32 and the
// host: the simulator reads it straight out of an image's ROM (hw_models/rule_catalog.hpp)
// to list the rule (`qrsim rules`) and validate `learn.<rule>.<key>` before the core runs.
#pragma once

#include "firmware/learning.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {

// Bumped whenever LearnParams, the mailbox protocol or RuleInfo change: the simulator refuses
// an image built against another SDK instead of misreading it.
constexpr uint32_t kRuleAbi = 0x51520003u;  // "QR", version 3 (LearnParams::momentum)

constexpr uint32_t kRuleNameBytes = 32;
constexpr uint32_t kRuleDescriptionBytes = 240;
constexpr uint32_t kSettingKeyBytes = 24;
constexpr uint32_t kSettingDocBytes = 104;

enum SettingType : uint32_t { setting_integer = 0, setting_boolean = 1 };

// One setting of a rule: `learn.<rule>.<key>` in a hw config or --hw-set. Its value reaches
// the rule as LearnParams::settings[i], i = its place in RuleInfo::settings.
struct RuleSetting {
    char key[kSettingKeyBytes];
    char doc[kSettingDocBytes];  // one line
    int32_t min, max, fallback;  // the range and the default (booleans: 0 .. 1)
    uint32_t type;               // SettingType
};

constexpr uint32_t supports(uint32_t value) { return 1u << value; }
constexpr uint32_t kEveryUpdate =
    supports(update_stochastic) | supports(update_accumulate) | supports(update_sign) | supports(update_adam);
constexpr uint32_t kEveryFeedback = supports(feedback_symmetric) | supports(feedback_random);
constexpr uint32_t kEveryPlacement = supports(place_presynaptic) | supports(place_synapse);

struct RuleInfo {
    uint32_t abi;  // kRuleAbi
    char name[kRuleNameBytes];
    char description[kRuleDescriptionBytes];
    // The values of learn.update, learn.feedback and traces.placement the rule implements
    // (a bit per enum value): any other value set in a config is refused with one error;
    // left at its default, the rule's first supported value applies.
    uint32_t updates, feedbacks, placements;
    uint32_t n_settings;
    RuleSetting settings[kMaxRuleSettings];
};
static_assert(sizeof(RuleSetting) == kSettingKeyBytes + kSettingDocBytes + 16, "RuleSetting: no padding");
static_assert(sizeof(RuleInfo) == 4 + kRuleNameBytes + kRuleDescriptionBytes + 16 + kMaxRuleSettings * sizeof(RuleSetting),
              "RuleInfo has the same bytes on rv32 and the host");

// The hooks the engine calls (call order: firmware/learning.hpp). Any hook may be null.
struct RuleOps {
    const RuleInfo* info;  // first: the simulator finds it at word 0 of an image's RuleOps
    // Once after the network is loaded: carve c.pool (scratch_words long), then read the
    // hidden parameters from the CAM, set up dormant entries.
    void (*init)(LearnContext& c);
    void (*begin_sample)(LearnContext& c);
    void (*trace_step)(LearnContext& c, uint16_t t);
    void (*signal_step)(LearnContext& c, uint16_t t);
    void (*end_sample)(LearnContext& c);
    // Before inference (evaluation, deployment): commit the weights (nearest codes). Training
    // may continue afterwards.
    void (*finish)(LearnContext& c);
    // Bits of learning memory the rule uses, by LearnMem (0 for tile memories).
    uint64_t (*memory_bits)(const LearnParams& p, uint8_t mem);
    // 32-bit words of working memory (the core's data RAM) the rule's hooks need.
    uint32_t (*scratch_words)(const LearnParams& p);
};

// The registry: the rules linked into this build, looked up by name.
const RuleOps* find_rule(const char* name);
uint32_t rule_count();
const RuleOps* rule_at(uint32_t index);

}  // namespace fw
}  // namespace qrsim

// Registers a RuleOps (at namespace scope, once per rule).
#define QRSIM_RULE(ops)                                                                                 \
    __attribute__((used, section("qrsim_rules"))) const ::qrsim::fw::RuleOps* const qrsim_rule_##ops = \
        &ops
