// The registry of on-chip rules: every RuleOps registered with QRSIM_RULE in the objects
// linked into this build (firmware/rule.hpp). The linker gathers them in the section
// `qrsim_rules`: GNU ld names its bounds __start_qrsim_rules / __stop_qrsim_rules on the
// host, firmware/rv32/link.ld defines the same names for the image.
#include "firmware/rule.hpp"

extern "C" const qrsim::fw::RuleOps* const __start_qrsim_rules[];
extern "C" const qrsim::fw::RuleOps* const __stop_qrsim_rules[];

namespace qrsim {
namespace fw {
namespace {

bool same_name(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

}  // namespace

uint32_t rule_count() { return static_cast<uint32_t>(__stop_qrsim_rules - __start_qrsim_rules); }

const RuleOps* rule_at(uint32_t index) { return index < rule_count() ? __start_qrsim_rules[index] : nullptr; }

const RuleOps* find_rule(const char* name) {
    for (uint32_t i = 0; i < rule_count(); ++i)
        if (same_name(__start_qrsim_rules[i]->info->name, name)) return __start_qrsim_rules[i];
    return nullptr;
}

}  // namespace fw
}  // namespace qrsim
