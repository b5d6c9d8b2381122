// The on-chip rules a learning core can run and what a config asks of them.
//
// A catalog lists the rules of one build: those compiled into qrsim (learn.core = "native")
// or those registered in a firmware image (learn.core = "iss"; their descriptors are read
// out of the image's ROM, firmware/rule.hpp). choose_rule picks the rule a hw config names
// and validates everything the config says about it: its own settings (learn.<rule>.<key>:
// known key, type, range) and the shared choices it must implement (learn.update,
// learn.feedback, traces.placement). Each problem is one ConfigError naming the key and the
// fix; a bad image is one runtime_error naming the file.
#pragma once

#include "common/bounded_input.hpp"
#include "firmware/rule.hpp"
#include "hw_models/elf_image.hpp"
#include "hw_models/hw_config.hpp"

#include <string>
#include <vector>

namespace qrsim {

struct RuleCatalog {
    std::string origin;  // "qrsim's built-in rules" or the image's path
    std::vector<fw::RuleInfo> rules;

    const fw::RuleInfo* find(const std::string& name) const;
    std::string names() const;  // "eprop, readout-delta"
};

RuleCatalog builtin_rules();
// The rules registered in an image, after checking that it can run on the tile at all: its
// entry points, its registry and the SDK it was built against.
RuleCatalog image_rules(const ElfImage& image);
// learn.core = "native": the built-in rules; "iss": the rules of learn.firmware.
RuleCatalog rule_catalog(const HwConfig& hw);

// The rule a config runs, with its settings and shared choices resolved.
struct RuleChoice {
    fw::RuleInfo info{};
    int32_t settings[fw::kMaxRuleSettings] = {};
    uint8_t update = fw::update_adam, feedback = fw::feedback_random, placement = fw::place_presynaptic;
};
RuleChoice choose_rule(const HwConfig& hw, const RuleCatalog& catalog);
RuleChoice choose_rule(const HwConfig& hw);

const char* update_name(uint8_t update);
const char* feedback_name(uint8_t feedback);
const char* placement_name(uint8_t placement);

// Every rule of a catalog with its description, the shared choices it supports and its
// settings (`qrsim rules`, `run --learn --help`).
std::string describe_rules(const RuleCatalog& catalog);

}  // namespace qrsim
