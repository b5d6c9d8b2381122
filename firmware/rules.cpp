// The registry of on-chip rules compiled into the firmware. To add a rule: define its
// RuleOps in its own translation unit and list it here (docs/add_a_rule.md).
#include "firmware/eprop.hpp"
#include "firmware/learning.hpp"

namespace qrsim {
namespace fw {
namespace {

const RuleOps* const kRules[] = {&kEpropRule, &kDeltaRule};

bool same_name(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

}  // namespace

uint32_t rule_count() { return sizeof(kRules) / sizeof(kRules[0]); }

const RuleOps* rule_at(uint32_t index) { return index < rule_count() ? kRules[index] : nullptr; }

const RuleOps* find_rule(const char* name) {
    for (const RuleOps* r : kRules)
        if (same_name(r->name, name)) return r;
    return nullptr;
}

}  // namespace fw
}  // namespace qrsim
