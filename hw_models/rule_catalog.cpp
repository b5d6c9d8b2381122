#include "hw_models/rule_catalog.hpp"

#include "firmware/core_map.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace qrsim {
namespace {

[[noreturn]] void bad_image(const ElfImage& image, const std::string& what) {
    throw std::runtime_error(image.path + ": not a usable firmware image: " + what);
}

// A descriptor's text field: NUL-terminated inside its array.
bool terminated(const char* text, size_t bytes) { return std::memchr(text, 0, bytes) != nullptr; }

std::string choices(uint32_t mask, const char* (*name)(uint8_t), int n) {
    std::string s;
    for (int v = 0; v < n; ++v)
        if (mask & fw::supports(static_cast<uint32_t>(v))) s += std::string(s.empty() ? "" : ", ") + name(static_cast<uint8_t>(v));
    return s;
}

std::string setting_names(const fw::RuleInfo& r) {
    std::string s;
    for (uint32_t i = 0; i < r.n_settings; ++i) s += std::string(i ? ", " : "") + r.settings[i].key;
    return s;
}

// One shared choice (learn.update, learn.feedback, traces.placement) against what the rule
// implements: a value the config set must be supported; a default the rule does not
// implement gives way to the rule's first supported value.
uint8_t shared_choice(const HwConfig& hw, const fw::RuleInfo& r, const char* key, uint8_t value, bool given,
                      uint32_t supported, const char* (*name)(uint8_t), int n) {
    if (supported & fw::supports(value)) return value;
    const std::string options = choices(supported, name, n);
    if (given)
        throw ConfigError(hw.origin_of(key) + ": " + key + " = \"" + name(value) + "\": rule " + r.name +
                          " does not implement it (it supports: " + options + "); set " + key + " to one of those or drop it");
    for (int v = 0; v < n; ++v)
        if (supported & fw::supports(static_cast<uint32_t>(v))) return static_cast<uint8_t>(v);
    throw ConfigError(hw.origin_of(key) + ": rule " + r.name + " supports no value of " + key);
}

// Link order is the registry's order; listings should not depend on it.
void sort_by_name(RuleCatalog& c) {
    std::sort(c.rules.begin(), c.rules.end(),
              [](const fw::RuleInfo& a, const fw::RuleInfo& b) { return std::strcmp(a.name, b.name) < 0; });
}

}  // namespace

const fw::RuleInfo* RuleCatalog::find(const std::string& name) const {
    for (const fw::RuleInfo& r : rules)
        if (name == r.name) return &r;
    return nullptr;
}

std::string RuleCatalog::names() const {
    std::string s;
    for (const fw::RuleInfo& r : rules) s += std::string(s.empty() ? "" : ", ") + r.name;
    return s;
}

RuleCatalog builtin_rules() {
    RuleCatalog c;
    c.origin = "qrsim's built-in rules";
    for (uint32_t i = 0; i < fw::rule_count(); ++i) c.rules.push_back(*fw::rule_at(i)->info);
    sort_by_name(c);
    return c;
}

RuleCatalog image_rules(const ElfImage& image) {
    for (const char* entry : {"qrsim_hook_entry", "qrsim_idle", "__pool_start", "__stack_top"})
        if (!image.has_symbol(entry))
            bad_image(image, std::string("no entry point ") + entry +
                                 " (link it with the SDK's firmware/rv32/start.S, core_main.cpp and link.ld: scripts/build_rule)");
    if (!image.has_symbol("__start_qrsim_rules") || !image.has_symbol("__stop_qrsim_rules"))
        bad_image(image, "no rule registry (section qrsim_rules; link it with firmware/rv32/link.ld: scripts/build_rule)");
    const uint32_t start = image.symbol("__start_qrsim_rules"), stop = image.symbol("__stop_qrsim_rules");
    auto word = [&](uint32_t address) {
        if (address > image.rom.size() || image.rom.size() - address < 4) bad_image(image, "a rule descriptor lies outside ROM");
        uint32_t v;
        std::memcpy(&v, image.rom.data() + address, 4);
        return v;
    };
    RuleCatalog c;
    c.origin = image.path;
    for (uint32_t a = start; a + 4 <= stop; a += 4) {
        const uint32_t info = word(word(a));  // RuleOps::info is the RuleOps' first word
        if (info > image.rom.size() || image.rom.size() - info < sizeof(fw::RuleInfo))
            bad_image(image, "a rule descriptor lies outside ROM");
        fw::RuleInfo r;
        std::memcpy(&r, image.rom.data() + info, sizeof r);
        if (r.abi != fw::kRuleAbi) {
            char got[16], want[16];
            std::snprintf(got, sizeof got, "0x%08x", r.abi);
            std::snprintf(want, sizeof want, "0x%08x", fw::kRuleAbi);
            bad_image(image, std::string("built against another firmware SDK (ABI ") + got + ", this qrsim " + want +
                                 "): rebuild it with scripts/build_rule");
        }
        if (!terminated(r.name, sizeof r.name) || !terminated(r.description, sizeof r.description) ||
            r.n_settings > fw::kMaxRuleSettings)
            bad_image(image, "a malformed rule descriptor");
        for (uint32_t i = 0; i < r.n_settings; ++i)
            if (!terminated(r.settings[i].key, sizeof r.settings[i].key) ||
                !terminated(r.settings[i].doc, sizeof r.settings[i].doc))
                bad_image(image, std::string("rule ") + r.name + ": a malformed setting");
        c.rules.push_back(r);
    }
    if (c.rules.empty()) bad_image(image, "it registers no rule (QRSIM_RULE in the rule's source)");
    sort_by_name(c);
    return c;
}

RuleCatalog rule_catalog(const HwConfig& hw) {
    if (hw.learn.core == "native") return builtin_rules();
    return image_rules(load_elf_image(hw.learn.firmware));
}

RuleChoice choose_rule(const HwConfig& hw) { return choose_rule(hw, rule_catalog(hw)); }

RuleChoice choose_rule(const HwConfig& hw, const RuleCatalog& catalog) {
    const LearnConfig& L = hw.learn;
    // An image with one rule runs it unless the config names another.
    const std::string name = !L.rule_given && catalog.rules.size() == 1 ? std::string(catalog.rules[0].name) : L.rule;
    const fw::RuleInfo* rule = catalog.find(name);
    if (!rule) {
        std::string hint = "qrsim rules lists them";
        if (hw.learn.core == "native" && !builtin_rules().find(name))
            hint = "a rule built with scripts/build_rule runs with learn.core = \"iss\" and learn.firmware = its ELF";
        throw ConfigError(hw.origin_of("learn.rule") + ": learn.rule = \"" + name + "\" is not a rule of " + catalog.origin +
                          " (it has: " + catalog.names() + "; " + hint + ")");
    }
    RuleChoice c;
    c.info = *rule;
    for (uint32_t i = 0; i < rule->n_settings; ++i) c.settings[i] = rule->settings[i].fallback;
    for (const RuleSettingValue& v : L.rule_settings) {
        const std::string field = "learn." + v.rule + "." + v.key;
        if (v.rule != rule->name) {
            if (catalog.find(v.rule))
                throw ConfigError(v.origin + ": " + field + " is a setting of rule " + v.rule + ", but the rule is " +
                                  rule->name + " (set learn.rule = \"" + v.rule + "\" or drop the key)");
            throw ConfigError(v.origin + ": " + field + ": " + catalog.origin + " has no rule " + v.rule + " (it has: " +
                              catalog.names() + ")");
        }
        uint32_t i = 0;
        while (i < rule->n_settings && v.key != rule->settings[i].key) ++i;
        if (i == rule->n_settings)
            throw ConfigError(v.origin + ": unknown key " + field + " (" +
                              (rule->n_settings ? "rule " + v.rule + "'s settings: " + setting_names(*rule)
                                                : "rule " + v.rule + " has no settings") +
                              "; qrsim rules lists them)");
        const fw::RuleSetting& s = rule->settings[i];
        if (s.type == fw::setting_boolean && !v.boolean) throw ConfigError(v.origin + ": " + field + " must be true or false");
        if (s.type == fw::setting_integer && v.boolean) throw ConfigError(v.origin + ": " + field + " must be an integer");
        if (v.value < s.min || v.value > s.max)
            throw ConfigError(v.origin + ": " + field + " = " + std::to_string(v.value) + " out of range [" +
                              std::to_string(s.min) + ", " + std::to_string(s.max) + "]");
        c.settings[i] = static_cast<int32_t>(v.value);
    }
    const uint8_t update = L.update == "stochastic" ? fw::update_stochastic
                           : L.update == "sign"     ? fw::update_sign
                           : L.update == "adam"     ? fw::update_adam
                                                    : fw::update_accumulate;
    c.update = shared_choice(hw, *rule, "learn.update", update, L.update_given, rule->updates, update_name, 4);
    c.feedback = shared_choice(hw, *rule, "learn.feedback",
                               L.feedback == "symmetric" ? fw::feedback_symmetric : fw::feedback_random, L.feedback_given,
                               rule->feedbacks, feedback_name, 2);
    c.placement = shared_choice(hw, *rule, "traces.placement",
                                hw.trace_placement == TracePlacement::synapse ? fw::place_synapse : fw::place_presynaptic,
                                hw.placement_given, rule->placements, placement_name, 2);
    return c;
}

const char* update_name(uint8_t update) {
    static const char* names[] = {"stochastic", "accumulate", "sign", "adam"};
    return update < 4 ? names[update] : "?";
}
const char* feedback_name(uint8_t feedback) { return feedback == fw::feedback_symmetric ? "symmetric" : "random"; }
const char* placement_name(uint8_t placement) { return placement == fw::place_synapse ? "synapse" : "presynaptic"; }

std::string describe_rules(const RuleCatalog& catalog) {
    std::string s = "rules of " + catalog.origin + " (learn.rule; settings: learn.<rule>.<key>):\n";
    for (const fw::RuleInfo& r : catalog.rules) {
        s += std::string("\n") + r.name + "\n  " + r.description + "\n";
        s += "  learn.update: " + choices(r.updates, update_name, 4) + "; learn.feedback: " +
             choices(r.feedbacks, feedback_name, 2) + "; traces.placement: " + choices(r.placements, placement_name, 2) + "\n";
        if (r.n_settings == 0) s += "  no settings of its own\n";
        for (uint32_t i = 0; i < r.n_settings; ++i) {
            const fw::RuleSetting& st = r.settings[i];
            const bool b = st.type == fw::setting_boolean;
            char line[400];
            std::snprintf(line, sizeof line, "  learn.%s.%s  %s, default %s%s: %s\n", r.name, st.key, b ? "true|false" : "integer",
                          b ? (st.fallback ? "true" : "false") : std::to_string(st.fallback).c_str(),
                          b ? "" : (", range [" + std::to_string(st.min) + ", " + std::to_string(st.max) + "]").c_str(),
                          st.doc);
            s += line;
        }
    }
    return s;
}

}  // namespace qrsim
