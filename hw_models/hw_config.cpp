#include "hw_models/hw_config.hpp"

#include "common/bounded_input.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace qrsim {
namespace {

// A bad hw config is a bad config (the CLI's exit code 2), not a runtime failure.
[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw ConfigError(origin + ": " + what);
}

// Reads the keys of one table into the raw config; anything not listed is an error.
class TableReader {
public:
    TableReader(const toml::table& t, std::string prefix, std::string origin)
        : t_(t), prefix_(std::move(prefix)), origin_(std::move(origin)) {}

    void integer(const char* key, std::optional<int64_t>& out) {
        if (const toml::node* n = take(key)) {
            if (!n->is_integer()) fail(origin_, field(key) + " must be an integer");
            out = n->value<int64_t>();
        }
    }
    void string(const char* key, std::optional<std::string>& out) {
        if (const toml::node* n = take(key)) {
            if (!n->is_string()) fail(origin_, field(key) + " must be a string");
            out = n->value<std::string>();
        }
    }
    void integers(const char* key, std::optional<std::vector<int64_t>>& out) {
        if (const toml::node* n = take(key)) {
            const toml::array* a = n->as_array();
            if (!a) fail(origin_, field(key) + " must be an array of integers");
            std::vector<int64_t> v;
            for (const toml::node& e : *a) {
                if (!e.is_integer()) fail(origin_, field(key) + " must be an array of integers");
                v.push_back(*e.value<int64_t>());
            }
            out = v;
        }
    }
    void boolean(const char* key, std::optional<bool>& out) {
        if (const toml::node* n = take(key)) {
            if (!n->is_boolean()) fail(origin_, field(key) + " must be true or false");
            out = n->value<bool>();
        }
    }
    void number(const char* key, std::optional<double>& out) {
        if (const toml::node* n = take(key)) {
            if (!n->is_number()) fail(origin_, field(key) + " must be a number");
            out = n->value<double>();
        }
    }
    const toml::table* table(const char* key) {
        if (const toml::node* n = take(key)) {
            if (!n->is_table()) fail(origin_, field(key) + " must be a table [" + field(key) + "]");
            return n->as_table();
        }
        return nullptr;
    }
    // learn.<rule>.<key>: every sub-table not read is one rule's settings, integers or booleans.
    void rule_settings(std::vector<RuleSettingValue>& out) {
        for (auto&& [k, v] : t_) {
            const std::string rule(k.str());
            if (std::find(seen_.begin(), seen_.end(), rule) != seen_.end() || !v.is_table()) continue;
            seen_.push_back(rule);
            for (auto&& [sk, sv] : *v.as_table()) {
                RuleSettingValue value;
                value.rule = rule;
                value.key = std::string(sk.str());
                value.origin = origin_;
                if (sv.is_boolean()) {
                    value.boolean = true;
                    value.value = *sv.value<bool>() ? 1 : 0;
                } else if (sv.is_integer()) {
                    value.value = *sv.value<int64_t>();
                } else {
                    fail(origin_, field(rule.c_str()) + "." + value.key + " must be an integer or true/false (a setting of rule " +
                                      rule + "; qrsim rules lists them)");
                }
                out.push_back(std::move(value));
            }
        }
    }
    // Every key not read is unknown.
    void finish() const {
        for (auto&& [k, v] : t_) {
            (void)v;
            const std::string key(k.str());
            if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
                fail(origin_, "unknown key " + field(key.c_str()) + " (see configs/hw/README.md)");
        }
    }

private:
    const toml::node* take(const char* key) {
        seen_.emplace_back(key);
        return t_.get(key);
    }
    std::string field(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

    const toml::table& t_;
    std::string prefix_, origin_;
    std::vector<std::string> seen_;
};

template <typename T>
T need(const std::optional<T>& v, const std::string& origin, const char* field) {
    if (!v) fail(origin, std::string("missing required key ") + field);
    return *v;
}

int64_t ranged(const std::optional<int64_t>& v, int64_t def, int64_t lo, int64_t hi, const std::string& origin,
               const char* field) {
    const int64_t x = v.value_or(def);
    if (x < lo || x > hi)
        fail(origin, std::string(field) + " = " + std::to_string(x) + " out of range [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
    return x;
}

template <typename E>
E choice(const std::optional<std::string>& v, const std::string& def,
         const std::vector<std::pair<std::string, E>>& options, const std::string& origin, const char* field) {
    const std::string s = v.value_or(def);
    std::string names;
    for (const auto& [name, e] : options) {
        if (name == s) return e;
        names += (names.empty() ? "" : ", ") + name;
    }
    fail(origin, std::string(field) + " = \"" + s + "\" is not one of: " + names);
}


}  // namespace

std::string project_dir() {
    if (const char* env = std::getenv("QRSIM_SOURCE_DIR"); env && *env) return env;
    return QRSIM_SOURCE_DIR_DEFAULT;
}

std::vector<std::string> hw_preset_names() {
    std::vector<std::string> names;
    const std::filesystem::path dir = std::filesystem::path(project_dir()) / "configs" / "hw";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

namespace {
toml::table parse_toml(const std::string& text, const std::string& origin) {
    try {
        return toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        std::ostringstream ss;
        ss << origin << ":" << e.source().begin.line << ": TOML syntax error: " << e.description();
        throw ConfigError(ss.str());
    }
}

// "table.key=value" (or "learn.rule.key=value" for a rule's setting): value is TOML (5,
// 0.1, "x", [16, 16]) or else a bare string.
void apply_override(toml::table& root, const std::string& assignment) {
    const auto eq = assignment.find('='), dot = assignment.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || eq == dot + 1)
        throw ConfigError("--hw-set " + assignment + ": expected TABLE.KEY=VALUE, e.g. --hw-set learn.update=stochastic");
    const std::string value = assignment.substr(eq + 1);
    std::vector<std::string> path;
    std::stringstream names(assignment.substr(0, eq));
    for (std::string part; std::getline(names, part, '.');) {
        if (part.empty()) throw ConfigError("--hw-set " + assignment + ": an empty name between dots");
        path.push_back(part);
    }
    toml::table parsed;
    try {
        parsed = toml::parse("v = " + value);
    } catch (const toml::parse_error&) {
        parsed = toml::table{{"v", value}};
    }
    toml::table* t = &root;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
        if (!t->contains(path[i])) t->insert(path[i], toml::table{});
        t = (*t)[path[i]].as_table();
        if (!t) throw ConfigError("--hw-set " + assignment + ": " + path[i] + " is not a table of the hw config");
    }
    t->insert_or_assign(path.back(), *parsed.get("v"));
}

// "learn.update" of "learn.update=adam".
std::string override_key(const std::string& assignment) { return assignment.substr(0, assignment.find('=')); }

HwConfigRaw read_raw(const toml::table& root, const std::string& origin);

bool hw_name_set(const toml::table& root) { return root.contains("name"); }
}  // namespace

HwConfigRaw parse_hw_config(const std::string& text, const std::string& origin) {
    return read_raw(parse_toml(text, origin), origin);
}

namespace {
HwConfigRaw read_raw(const toml::table& root, const std::string& origin) {
    HwConfigRaw r;
    TableReader top(root, "", origin);
    top.string("name", r.name);
    top.string("description", r.description);
    if (const toml::table* t = top.table("mesh")) {
        TableReader m(*t, "mesh", origin);
        m.integer("width", r.mesh_width);
        m.integer("height", r.mesh_height);
        m.integer("hop_latency_ns", r.hop_latency_ns);
        m.integer("step_ns", r.step_ns);
        m.finish();
    }
    if (const toml::table* t = top.table("tile")) {
        TableReader m(*t, "tile", origin);
        m.integer("cores", r.cores);
        m.integer("neurons_per_core", r.neurons_per_core);
        m.integer("address_bits", r.address_bits);
        m.finish();
    }
    if (const toml::table* t = top.table("synapse")) {
        TableReader m(*t, "synapse", origin);
        m.string("kind", r.kind);
        m.string("lookup", r.lookup);
        m.integer("fanin", r.fanin);
        m.integer("weight_bits", r.weight_bits);
        m.integer("lut_bits", r.lut_bits);
        m.integer("lut_groups", r.lut_groups);
        m.finish();
    }
    if (const toml::table* t = top.table("neuron")) {
        TableReader m(*t, "neuron", origin);
        m.integer("membrane_bits", r.membrane_bits);
        m.integer("membrane_frac_bits", r.membrane_frac_bits);
        m.integer("adaptation_bits", r.adaptation_bits);
        m.integer("adaptation_frac_bits", r.adaptation_frac_bits);
        m.string("leak", r.leak);
        m.string("rounding", r.rounding);
        m.string("reset", r.reset);
        m.integer("seed", r.seed);
        m.finish();
    }
    if (const toml::table* t = top.table("traces")) {
        TableReader m(*t, "traces", origin);
        m.string("placement", r.trace_placement);
        m.integers("bits", r.trace_bits);
        m.finish();
    }
    if (const toml::table* t = top.table("memory")) {
        TableReader m(*t, "memory", origin);
        m.integer("cam_bits", r.cam_bits);
        m.integer("sram_bits", r.sram_bits);
        m.finish();
    }
    if (const toml::table* t = top.table("learn")) {
        TableReader m(*t, "learn", origin);
        m.string("rule", r.learn_rule);
        m.string("update", r.learn_update);
        m.string("weight_rounding", r.learn_weight_rounding);
        m.string("hidden_store", r.learn_hidden_store);
        m.string("feedback", r.learn_feedback);
        m.string("pseudo_derivative", r.learn_pseudo_derivative);
        m.string("trace_rounding", r.learn_trace_rounding);
        m.integer("psi_bits", r.learn_psi_bits);
        m.integer("signal_bits", r.learn_signal_bits);
        m.integer("hidden_bits", r.learn_hidden_bits);
        m.integer("acc_bits", r.learn_acc_bits);
        m.integer("batch", r.learn_batch);
        m.integer("rewire_shift", r.learn_rewire_shift);
        m.integer("seed", r.learn_seed);
        m.integer("sram_bits", r.learn_sram_bits);
        m.number("learning_rate", r.learn_learning_rate);
        m.number("readout_learning_rate", r.learn_readout_learning_rate);
        m.number("bias_learning_rate", r.learn_bias_learning_rate);
        m.number("step", r.learn_step);
        m.number("lr_decay", r.learn_lr_decay);
        m.number("momentum", r.learn_momentum);
        m.string("core", r.learn_core);
        m.string("firmware", r.learn_firmware);
        m.string("timing", r.learn_timing);
        m.string("realtime", r.learn_realtime);
        m.integer("rom_bytes", r.learn_rom_bytes);
        m.integer("ram_bytes", r.learn_ram_bytes);
        m.integer("hook_budget", r.learn_hook_budget);
        m.number("clock_hz", r.learn_clock_hz);
        m.boolean("profile", r.learn_profile);
        m.rule_settings(r.learn_rule_settings);
        m.finish();
    }
    if (const toml::table* t = top.table("mismatch")) {
        TableReader m(*t, "mismatch", origin);
        m.number("weights", r.mismatch_weights);
        m.number("time_constants", r.mismatch_time_constants);
        m.number("thresholds", r.mismatch_thresholds);
        m.integer("seed", r.mismatch_seed);
        m.finish();
    }
    if (const toml::table* t = top.table("energy")) {
        TableReader m(*t, "energy", origin);
        m.string("table", r.energy_table);
        m.finish();
    }
    if (const toml::table* t = top.table("vcd")) {
        TableReader m(*t, "vcd", origin);
        m.string("file", r.vcd_file);
        m.integers("neurons", r.vcd_neurons);
        m.finish();
    }
    top.finish();
    return r;
}
}  // namespace

HwConfig resolve_hw_config(const HwConfigRaw& r, const std::string& o, const std::string& base_dir) {
    HwConfig c;
    c.source = o;
    c.name = r.name.value_or(std::filesystem::path(o).stem().string());
    c.description = r.description.value_or("");
    c.mesh_width = static_cast<int>(ranged(r.mesh_width, 1, 1, 16, o, "mesh.width"));
    c.mesh_height = static_cast<int>(ranged(r.mesh_height, 1, 1, 16, o, "mesh.height"));
    if (r.hop_latency_ns) c.hop_latency_ns = ranged(r.hop_latency_ns, 0, 0, 1000000000, o, "mesh.hop_latency_ns");
    c.step_ns = ranged(r.step_ns, 1000000, 1, 1000000000000, o, "mesh.step_ns");

    c.cores = static_cast<int>(ranged(need(r.cores, o, "tile.cores"), 0, 1, 64, o, "tile.cores"));
    c.neurons_per_core =
        static_cast<int>(ranged(need(r.neurons_per_core, o, "tile.neurons_per_core"), 0, 1, 4096, o, "tile.neurons_per_core"));
    c.address_bits = static_cast<int>(ranged(r.address_bits, 11, 1, 24, o, "tile.address_bits"));

    c.kind = choice<WeightKind>(r.kind, need(r.kind, o, "synapse.kind"),
                                {{"uniform", WeightKind::uniform}, {"dynapse1", WeightKind::dynapse1},
                                 {"dynapse2", WeightKind::dynapse2}},
                                o, "synapse.kind");
    c.lookup = choice<SynapseLookup>(r.lookup, "cam", {{"cam", SynapseLookup::cam}, {"direct", SynapseLookup::direct}}, o,
                                     "synapse.lookup");
    c.fanin = static_cast<int>(ranged(need(r.fanin, o, "synapse.fanin"), 0, 1, 65536, o, "synapse.fanin"));
    c.weight_bits = static_cast<int>(ranged(r.weight_bits, 4, 2, 16, o, "synapse.weight_bits"));
    c.lut_bits = static_cast<int>(ranged(r.lut_bits, 16, 2, 24, o, "synapse.lut_bits"));
    c.lut_groups = static_cast<int>(ranged(r.lut_groups, 2, 2, 16, o, "synapse.lut_groups"));

    c.membrane_bits = static_cast<int>(ranged(r.membrane_bits, 16, 4, 31, o, "neuron.membrane_bits"));
    c.membrane_frac_bits =
        static_cast<int>(ranged(r.membrane_frac_bits, 10, 0, c.membrane_bits - 2, o, "neuron.membrane_frac_bits"));
    c.adaptation_bits = static_cast<int>(ranged(r.adaptation_bits, 16, 1, 31, o, "neuron.adaptation_bits"));
    c.adaptation_frac_bits =
        static_cast<int>(ranged(r.adaptation_frac_bits, 10, 0, c.adaptation_bits - 1, o, "neuron.adaptation_frac_bits"));
    c.leak = choice<fw::LeakMode>(r.leak, "multiply", {{"multiply", fw::leak_multiply}, {"shift", fw::leak_shift}}, o,
                                  "neuron.leak");
    c.rounding = choice<fw::Rounding>(r.rounding, "nearest",
                                      {{"nearest", fw::round_nearest}, {"stochastic", fw::round_stochastic}}, o,
                                      "neuron.rounding");
    c.reset = choice<fw::ResetMode>(r.reset, "subtract", {{"subtract", fw::reset_subtract}, {"zero", fw::reset_zero}}, o,
                                    "neuron.reset");
    c.seed = static_cast<uint32_t>(ranged(r.seed, 1, 0, 0xFFFFFFFFll, o, "neuron.seed"));

    c.trace_placement = choice<TracePlacement>(
        r.trace_placement, "presynaptic",
        {{"none", TracePlacement::none}, {"presynaptic", TracePlacement::presynaptic}, {"synapse", TracePlacement::synapse}},
        o, "traces.placement");
    if (r.trace_bits) {
        if (r.trace_bits->empty() || r.trace_bits->size() > 8) fail(o, "traces.bits must list 1 to 8 widths");
        c.trace_bits.clear();
        for (int64_t b : *r.trace_bits) {
            if (b < 1 || b > 32) fail(o, "traces.bits entry " + std::to_string(b) + " out of range [1, 32]");
            c.trace_bits.push_back(static_cast<int>(b));
        }
    }

    c.cam_bits = ranged(need(r.cam_bits, o, "memory.cam_bits"), 0, 0, int64_t{1} << 40, o, "memory.cam_bits");
    c.sram_bits = ranged(need(r.sram_bits, o, "memory.sram_bits"), 0, 0, int64_t{1} << 40, o, "memory.sram_bits");

    LearnConfig& l = c.learn;
    l.rule = r.learn_rule.value_or(l.rule);
    l.rule_given = r.learn_rule.has_value();
    l.update_given = r.learn_update.has_value();
    l.feedback_given = r.learn_feedback.has_value();
    c.placement_given = r.trace_placement.has_value();
    l.rule_settings = r.learn_rule_settings;
    l.update = choice<std::string>(r.learn_update, l.update, {{"adam", "adam"}, {"sign", "sign"}, {"accumulate", "accumulate"}, {"stochastic", "stochastic"}},
                                   o, "learn.update");
    l.weight_rounding = choice<std::string>(r.learn_weight_rounding, l.weight_rounding,
                                            {{"stochastic", "stochastic"}, {"nearest", "nearest"}}, o,
                                            "learn.weight_rounding");
    // Fresh stochastic codes in the CAM are not h's integer part: h needs its shadow copy.
    const std::string store_default = l.weight_rounding == "stochastic" ? "shadow" : l.hidden_store;
    l.hidden_store = choice<std::string>(r.learn_hidden_store, store_default, {{"cam", "cam"}, {"shadow", "shadow"}}, o,
                                         "learn.hidden_store");
    if (l.hidden_store == "cam" && l.weight_rounding == "stochastic")
        throw ConfigError(o + ": learn.hidden_store = \"cam\" needs learn.weight_rounding = \"nearest\" (the CAM then holds "
                          "h's nearest code); with stochastic weight rounding use hidden_store = \"shadow\"");
    l.feedback = choice<std::string>(r.learn_feedback, l.feedback, {{"random", "random"}, {"symmetric", "symmetric"}}, o,
                                     "learn.feedback");
    l.pseudo_derivative = choice<std::string>(r.learn_pseudo_derivative, l.pseudo_derivative,
                                              {{"pwc5", "pwc5"}, {"linear", "linear"}}, o, "learn.pseudo_derivative");
    l.trace_rounding = choice<fw::Rounding>(r.learn_trace_rounding, "stochastic",
                                            {{"nearest", fw::round_nearest}, {"stochastic", fw::round_stochastic}}, o,
                                            "learn.trace_rounding");
    l.psi_bits = static_cast<int>(ranged(r.learn_psi_bits, l.psi_bits, 1, 15, o, "learn.psi_bits"));
    l.signal_bits = static_cast<int>(ranged(r.learn_signal_bits, l.signal_bits, 4, 24, o, "learn.signal_bits"));
    l.hidden_bits = static_cast<int>(ranged(r.learn_hidden_bits, l.hidden_bits, 4, 24, o, "learn.hidden_bits"));
    l.acc_bits = static_cast<int>(ranged(r.learn_acc_bits, l.acc_bits, 2, 32, o, "learn.acc_bits"));
    l.batch = static_cast<int>(ranged(r.learn_batch, l.batch, 1, 65535, o, "learn.batch"));
    l.rewire_shift = static_cast<int>(ranged(r.learn_rewire_shift, l.rewire_shift, 0, 16, o, "learn.rewire_shift"));
    l.seed = static_cast<uint32_t>(ranged(r.learn_seed, l.seed, 0, 0xFFFFFFFFll, o, "learn.seed"));
    l.sram_bits = ranged(r.learn_sram_bits, l.sram_bits, 0, int64_t{1} << 40, o, "learn.sram_bits");
    auto rate = [&](const std::optional<double>& v, double def, const char* field) {
        const double x = v.value_or(def);
        if (!(x >= 0 && x <= 1e6)) fail(o, std::string(field) + " = " + std::to_string(x) + " out of range [0, 1e6]");
        return x;
    };
    l.learning_rate = rate(r.learn_learning_rate, l.learning_rate, "learn.learning_rate");
    l.readout_learning_rate = rate(r.learn_readout_learning_rate, l.readout_learning_rate, "learn.readout_learning_rate");
    l.bias_learning_rate = rate(r.learn_bias_learning_rate, l.bias_learning_rate, "learn.bias_learning_rate");
    l.step = rate(r.learn_step, l.step, "learn.step");
    l.lr_decay = r.learn_lr_decay.value_or(l.lr_decay);
    if (!(l.lr_decay > 0 && l.lr_decay <= 1))
        fail(o, "learn.lr_decay = " + std::to_string(l.lr_decay) + " out of range (0, 1]");
    l.momentum = r.learn_momentum.value_or(l.momentum);
    if (!(l.momentum >= 0 && l.momentum <= 0.99))
        fail(o, "learn.momentum = " + std::to_string(l.momentum) + " out of range [0, 0.99]");

    auto spread = [&](const std::optional<double>& v, const char* field) {
        const double x = v.value_or(0.0);
        if (!(x >= 0 && x <= 0.5))
            fail(o, std::string(field) + " = " + std::to_string(x) +
                        " out of range [0, 0.5] (a relative spread, std / mean: 0.1 is 10 %)");
        return x;
    };
    c.mismatch.weights = spread(r.mismatch_weights, "mismatch.weights");
    c.mismatch.time_constants = spread(r.mismatch_time_constants, "mismatch.time_constants");
    c.mismatch.thresholds = spread(r.mismatch_thresholds, "mismatch.thresholds");
    c.mismatch.seed = static_cast<uint32_t>(ranged(r.mismatch_seed, 1, 0, 4294967295LL, o, "mismatch.seed"));

    l.core = choice<std::string>(r.learn_core, l.core, {{"iss", "iss"}, {"native", "native"}}, o, "learn.core");
    l.realtime = choice<std::string>(r.learn_realtime, l.realtime, {{"report", "report"}, {"error", "error"}}, o,
                                     "learn.realtime");
    auto path_in = [&](const std::optional<std::string>& v, const std::string& def) {
        if (!v || v->empty()) return def;
        const std::filesystem::path fp(*v);
        return fp.is_absolute() ? *v : (std::filesystem::path(base_dir) / fp).string();
    };
    l.firmware = path_in(r.learn_firmware, QRSIM_FIRMWARE_ELF_DEFAULT);
    l.timing = path_in(r.learn_timing, (std::filesystem::path(project_dir()) / "configs" / "cores" / "ibex.toml").string());
    l.rom_bytes = ranged(r.learn_rom_bytes, l.rom_bytes, 1024, int64_t{1} << 28, o, "learn.rom_bytes");
    l.ram_bytes = ranged(r.learn_ram_bytes, l.ram_bytes, 1024, int64_t{1} << 28, o, "learn.ram_bytes");
    l.hook_budget = ranged(r.learn_hook_budget, l.hook_budget, 1000, int64_t{1} << 40, o, "learn.hook_budget");
    l.profile = r.learn_profile.value_or(l.profile);
    l.clock_hz = r.learn_clock_hz.value_or(l.clock_hz);
    if (!(l.clock_hz >= 1e3 && l.clock_hz <= 1e10))
        fail(o, "learn.clock_hz = " + std::to_string(l.clock_hz) + " out of range [1e3, 1e10]");

    const std::string table = need(r.energy_table, o, "energy.table");
    const std::filesystem::path tp(table);
    c.energy_table = tp.is_absolute() ? table : (std::filesystem::path(base_dir) / tp).string();

    c.vcd_file = r.vcd_file.value_or("");
    if (r.vcd_neurons)
        for (int64_t n : *r.vcd_neurons) {
            if (n < 0 || n > 1000000) fail(o, "vcd.neurons entry " + std::to_string(n) + " out of range");
            c.vcd_neurons.push_back(static_cast<int>(n));
        }
    return c;
}

HwConfig load_hw_config(const std::string& path_or_preset, const std::vector<std::string>& overrides) {
    std::filesystem::path p(path_or_preset);
    const bool is_path = p.has_extension() || p.has_parent_path();
    if (!is_path) {
        p = std::filesystem::path(project_dir()) / "configs" / "hw" / (path_or_preset + ".toml");
        if (!std::filesystem::exists(p)) {
            std::string names;
            for (const auto& n : hw_preset_names()) names += (names.empty() ? "" : ", ") + n;
            throw ConfigError("unknown hw preset '" + path_or_preset + "' (known: " + names + ")");
        }
    }
    const std::string origin = p.string();
    toml::table root = parse_toml(read_input_file(origin, kMaxConfigBytes, "hw config", InputKind::config), origin);
    // The file alone first, so its own errors name it; then each override in turn, so an
    // error an override causes names that --hw-set, not the preset it was applied to.
    HwConfig hw = resolve_hw_config(read_raw(root, origin), origin, project_dir());
    std::map<std::string, std::string> key_origin;
    for (const std::string& o : overrides) {
        apply_override(root, o);
        const std::string blame = "--hw-set " + o;
        hw = resolve_hw_config(read_raw(root, blame), blame, project_dir());
        key_origin[override_key(o)] = blame;
    }
    hw.source = origin;
    hw.key_origin = key_origin;
    for (RuleSettingValue& v : hw.learn.rule_settings) v.origin = hw.origin_of("learn." + v.rule + "." + v.key);
    // A firmware image named on the command line is where the user is, not in the project.
    if (key_origin.count("learn.firmware"))
        if (const auto* f = root["learn"]["firmware"].as_string(); f && !f->get().empty())
            hw.learn.firmware = std::filesystem::absolute(f->get()).string();
    if (!overrides.empty() && !hw_name_set(root)) hw.name = std::filesystem::path(origin).stem().string();
    return hw;
}

}  // namespace qrsim
