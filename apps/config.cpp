#include "apps/config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

namespace qrsim::app {

using nlohmann::json;

namespace {

enum class Type { integer, real, text };

const char* type_name(Type t) {
    switch (t) {
        case Type::integer: return "an integer";
        case Type::real: return "a number";
        case Type::text: return "a string";
    }
    return "?";
}

std::string show(const RawValue& v) {
    // NaN and inf by name: JSON would print them as null.
    if (const double* d = std::get_if<double>(&v); d && !std::isfinite(*d))
        return std::isnan(*d) ? "nan" : (*d > 0 ? "inf" : "-inf");
    // Invalid UTF-8 (a --set value is raw bytes) shown as U+FFFD instead of throwing.
    const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
    if (const std::string* s = std::get_if<std::string>(&v); s && s->size() > 80) {
        size_t cut = 80;  // one readable line, not a dumped value; cut between UTF-8 characters
        while (cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xC0) == 0x80) --cut;
        return dump(json(s->substr(0, cut) + "..."));
    }
    return std::visit([&](const auto& x) { return dump(json(x)); }, v);
}

template <class T>
struct Rule {
    std::string allowed;  // shown in errors and in configs/README.md
    std::function<bool(const T&)> ok;
};

std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
}

Rule<int64_t> int_range(int64_t lo, int64_t hi) {
    return {std::to_string(lo) + ".." + std::to_string(hi),
            [=](const int64_t& v) { return v >= lo && v <= hi; }};
}
Rule<int64_t> samples() {
    return {"-1 (all) or 1..1000000000", [](const int64_t& v) { return v == -1 || (v >= 1 && v <= 1'000'000'000); }};
}
Rule<int64_t> non_negative() {
    return {">= 0", [](const int64_t& v) { return v >= 0; }};
}
Rule<double> above(double lo) {
    return {"> " + num(lo), [=](const double& v) { return std::isfinite(v) && v > lo; }};
}
Rule<double> real_range(double lo, double hi) {
    return {num(lo) + ".." + num(hi), [=](const double& v) { return v >= lo && v <= hi; }};
}
Rule<double> half_open(double lo, double hi) {  // [lo, hi)
    return {">= " + num(lo) + " and < " + num(hi), [=](const double& v) { return v >= lo && v < hi; }};
}
Rule<double> left_open(double lo, double hi) {  // (lo, hi]
    return {"> " + num(lo) + " and <= " + num(hi), [=](const double& v) { return v > lo && v <= hi; }};
}
Rule<std::string> one_of(std::vector<std::string> names) {
    std::string allowed = "one of";
    for (size_t i = 0; i < names.size(); ++i) allowed += (i ? ", " : " ") + names[i];
    return {allowed, [names = std::move(names)](const std::string& v) {
                return std::find(names.begin(), names.end(), v) != names.end();
            }};
}
Rule<std::string> non_empty() {
    return {"a non-empty string", [](const std::string& v) { return !v.empty(); }};
}

// One config key: its type, its allowed range and where it lives in Config.
struct Key {
    std::string table, name;
    Type type;
    std::string allowed;
    std::function<bool(const RawValue&)> ok;  // value already converted to `type`
    std::function<void(Config&, const RawValue&)> set;
    std::function<json(const Config&)> get;
    std::string full() const { return table + "." + name; }
};

// `access` is a generic lambda returning a reference to the field, so one accessor
// serves both reading (const Config&) and writing (Config&).
template <class Access, class R>
Key key(const char* table, const char* name, Access access, R rule) {
    using Field = std::decay_t<decltype(access(std::declval<Config&>()))>;
    Key k{table, name, Type::text, rule.allowed, {}, {}, {}};
    if constexpr (std::is_same_v<Field, std::string>) {
        k.type = Type::text;
        k.ok = [ok = rule.ok](const RawValue& v) { return ok(std::get<std::string>(v)); };
        k.set = [access](Config& c, const RawValue& v) { access(c) = std::get<std::string>(v); };
    } else if constexpr (std::is_integral_v<Field>) {
        k.type = Type::integer;
        k.ok = [ok = rule.ok](const RawValue& v) { return ok(std::get<int64_t>(v)); };
        k.set = [access](Config& c, const RawValue& v) { access(c) = static_cast<Field>(std::get<int64_t>(v)); };
    } else {
        static_assert(std::is_floating_point_v<Field>);
        k.type = Type::real;
        k.ok = [ok = rule.ok](const RawValue& v) { return ok(std::get<double>(v)); };
        k.set = [access](Config& c, const RawValue& v) { access(c) = std::get<double>(v); };
    }
    k.get = [access](const Config& c) { return json(access(c)); };
    return k;
}

#define FIELD(path) [](auto& c) -> auto& { return c.path; }

// Every key, once. The order is the documentation order.
const std::vector<Key>& keys() {
    static const std::vector<Key> all = {
        key("task", "name", FIELD(task.name), one_of(task_names())),
        key("task", "data_dir", FIELD(task.data_dir), non_empty()),
        key("task", "train_samples", FIELD(task.train_samples), samples()),
        key("task", "test_samples", FIELD(task.test_samples), samples()),
        key("task", "rows_code", FIELD(task.rows_code), one_of({"crossing", "level"})),
        key("task", "rows_levels", FIELD(task.rows_levels), int_range(1, 255)),
        key("task", "steps_per_row", FIELD(task.steps_per_row), int_range(1, 1000)),
        key("task", "rows_readout_steps", FIELD(task.rows_readout_steps), int_range(1, 10000)),
        key("task", "seq_thresholds", FIELD(task.seq_thresholds), int_range(1, 1000)),
        key("task", "seq_readout_steps", FIELD(task.seq_readout_steps), int_range(1, 10000)),
        key("task", "cue_count", FIELD(task.cue_count), int_range(1, 1000)),
        key("task", "cue_duration", FIELD(task.cue_duration), int_range(1, 100000)),
        key("task", "cue_spacing", FIELD(task.cue_spacing), int_range(1, 100000)),
        key("task", "cue_delay", FIELD(task.cue_delay), int_range(0, 1000000)),
        key("task", "cue_recall", FIELD(task.cue_recall), int_range(1, 100000)),
        key("task", "cue_channels_per_group", FIELD(task.cue_channels_per_group), int_range(1, 10000)),
        key("task", "cue_rate_hz", FIELD(task.cue_rate_hz), real_range(0, 1000)),  // p = rate x 1 ms <= 1
        key("task", "cue_noise_hz", FIELD(task.cue_noise_hz), real_range(0, 1000)),

        key("network", "neurons", FIELD(network.n_rec), int_range(1, 4096)),
        key("network", "alif", FIELD(network.n_alif), int_range(0, 4096)),  // <= neurons: see resolve()
        key("network", "tau_m", FIELD(network.tau_m), above(0)),
        key("network", "tau_a", FIELD(network.tau_a), above(0)),
        key("network", "tau_out", FIELD(network.tau_out), above(0)),
        key("network", "v_th", FIELD(network.v_th), above(0)),
        key("network", "beta", FIELD(network.beta), real_range(0, 1e6)),
        key("network", "refractory", FIELD(network.refractory), int_range(0, 100)),
        key("network", "gamma", FIELD(network.gamma), above(0)),
        key("network", "tau_syn", FIELD(network.tau_syn), real_range(0, 1e9)),          // 0: no synaptic filter
        key("network", "tau_syn_out", FIELD(network.tau_syn_out), real_range(0, 1e9)),  // 0: no readout filter
        key("network", "reset_to_zero", FIELD(network.reset_to_zero), int_range(0, 1)),

        key("train", "rule", FIELD(train.rule), one_of({"bptt", "eprop"})),
        key("train", "feedback", FIELD(train.feedback), one_of({"symmetric", "random"})),
        key("train", "optimizer", FIELD(train.optimizer), one_of({"adam", "sgd", "signum"})),
        key("train", "learning_rate", FIELD(train.learning_rate), above(0)),
        key("train", "momentum", FIELD(train.momentum), half_open(0, 1)),
        key("train", "batch_size", FIELD(train.batch_size), int_range(1, 4096)),
        key("train", "epochs", FIELD(train.epochs), int_range(1, 100000)),
        key("train", "reg_rate_hz", FIELD(train.reg_rate_hz), real_range(0, 1000)),
        key("train", "reg_coeff", FIELD(train.reg_coeff), real_range(0, 1e6)),
        key("train", "lr_decay", FIELD(train.lr_decay), left_open(0, 1)),
        key("train", "threads", FIELD(train.threads), int_range(1, 64)),
        key("train", "seed", FIELD(seed), non_negative()),

        key("constraint", "method", FIELD(train.method), one_of({"dense", "qr", "deepr", "prune-round"})),
        key("constraint", "kind", FIELD(constraint_kind), one_of({"none", "uniform", "dynapse1", "dynapse2"})),
        key("constraint", "bases", FIELD(train.bases), one_of({"ladder", "optimised"})),
        key("constraint", "fanin", FIELD(train.constraint.fanin), int_range(0, 65536)),  // 0: unlimited
        key("constraint", "weight_bits", FIELD(train.constraint.weight_bits), int_range(2, 16)),
        key("constraint", "connectivity", FIELD(train.constraint.connectivity), left_open(0, 1)),
        key("constraint", "deepr_l1", FIELD(train.deepr_l1), real_range(0, 1e3)),
        key("constraint", "deepr_temperature", FIELD(train.deepr_temperature), real_range(0, 1)),
    };
    return all;
}

#undef FIELD

const std::vector<std::string> kTables = {"task", "network", "train", "constraint"};

std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

[[noreturn]] void unknown_table(const std::string& table, const std::string& source) {
    throw UsageError(source + ": unknown table [" + table + "] (allowed: " + join(kTables) + ")");
}

const Key& find_key(const std::string& full, const std::string& source) {
    for (const Key& k : keys())
        if (k.full() == full) return k;
    const auto dot = full.find('.');
    const std::string table = full.substr(0, dot);
    if (dot == std::string::npos || std::find(kTables.begin(), kTables.end(), table) == kTables.end())
        unknown_table(table, source);
    std::vector<std::string> allowed;
    for (const Key& k : keys())
        if (k.table == table) allowed.push_back(k.name);
    throw UsageError(source + ": unknown key " + full + " (allowed in [" + table + "]: " + join(allowed) + ")");
}

[[noreturn]] void wrong_type(const Key& k, const std::string& got, const std::string& source) {
    throw UsageError(source + ": " + k.full() + " must be " + type_name(k.type) + ", got " + got);
}

// The value as the key's type; integers are accepted where a number is expected.
RawValue convert(const Key& k, const RawValue& v, const std::string& source) {
    if (k.type == Type::integer && std::holds_alternative<int64_t>(v)) return v;
    if (k.type == Type::text && std::holds_alternative<std::string>(v)) return v;
    if (k.type == Type::real) {
        if (std::holds_alternative<double>(v)) return v;
        if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
    }
    wrong_type(k, show(v), source);
}

}  // namespace

void RawConfig::set(const std::string& key, RawValue value, const std::string& source) {
    const Key& k = find_key(key, source);
    entries_[k.full()] = {convert(k, value, source), source};
}

void RawConfig::set_text(const std::string& key, const std::string& text, const std::string& source) {
    const Key& k = find_key(key, source);
    const std::string shown = "'" + text + "'";
    switch (k.type) {
        case Type::text:
            set(key, text, source);
            return;
        case Type::integer: {
            int64_t v = 0;
            const char* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, v);
            if (text.empty() || ec != std::errc() || ptr != end) wrong_type(k, shown, source);
            set(key, v, source);
            return;
        }
        case Type::real: {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size()) wrong_type(k, shown, source);
            set(key, v, source);
            return;
        }
    }
}

void RawConfig::merge(const RawConfig& over) {
    for (const auto& [key, entry] : over.entries_) entries_[key] = entry;
}

RawConfig read_config_file(const std::string& path) {
    return parse_config_text(read_input_file(path, kMaxConfigBytes, "config", InputKind::config), path);
}

RawConfig parse_config_text(const std::string& text, const std::string& path) {
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw UsageError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                         std::string(e.description()));
    }
    RawConfig raw;
    for (const auto& [table_name, node] : root) {
        const std::string table(table_name.str());
        const std::string where = path + ":" + std::to_string(node.source().begin.line);
        const toml::table* t = node.as_table();
        if (!t) {
            if (std::find(kTables.begin(), kTables.end(), table) != kTables.end())
                throw UsageError(where + ": " + table + " must be a table [" + table + "]");
            throw UsageError(where + ": unknown key " + table + " outside a table (allowed tables: " +
                             join(kTables) + ")");
        }
        if (std::find(kTables.begin(), kTables.end(), table) == kTables.end()) unknown_table(table, where);
        for (const auto& [name, value] : *t) {
            const std::string full = table + "." + std::string(name.str());
            const std::string source = path + ":" + std::to_string(value.source().begin.line);
            const Key& k = find_key(full, source);
            if (auto v = value.value_exact<int64_t>()) raw.set(full, *v, source);
            else if (auto d = value.value_exact<double>()) raw.set(full, *d, source);
            else if (auto s = value.value_exact<std::string>()) raw.set(full, *s, source);
            else if (auto b = value.value_exact<bool>()) raw.set(full, *b, source);
            else {
                std::ostringstream type;
                type << "a TOML " << value.type();
                wrong_type(k, type.str(), source);
            }
        }
    }
    return raw;
}

RawConfig raw_from_json(const json& config, const std::string& source) {
    if (!config.is_object()) throw UsageError(source + ": config must be an object");
    RawConfig raw;
    for (const auto& [table, body] : config.items()) {
        if (std::find(kTables.begin(), kTables.end(), table) == kTables.end()) unknown_table(table, source);
        if (!body.is_object()) throw UsageError(source + ": " + table + " must be an object");
        for (const auto& [name, value] : body.items()) {
            const std::string full = table + "." + name;
            const Key& k = find_key(full, source);
            if (value.is_number_integer()) raw.set(full, value.get<int64_t>(), source);
            else if (value.is_number_float()) raw.set(full, value.get<double>(), source);
            else if (value.is_string()) raw.set(full, value.get<std::string>(), source);
            else if (value.is_boolean()) raw.set(full, value.get<bool>(), source);
            else wrong_type(k, std::string("a JSON ") + value.type_name(), source);
        }
    }
    return raw;
}

Config resolve(const RawConfig& raw) {
    Config config;
    for (const auto& [full, entry] : raw.entries()) {
        const Key& k = find_key(full, entry.source);
        if (!k.ok(entry.value))
            throw UsageError(entry.source + ": " + full + " = " + show(entry.value) +
                             " is out of range (allowed: " + k.allowed + ")");
        k.set(config, entry.value);
    }
    // Rules that involve two keys.
    if (config.network.n_alif > config.network.n_rec) {
        const auto& e = raw.entries();
        const auto it = e.count("network.alif") ? e.find("network.alif") : e.find("network.neurons");
        throw UsageError(it->second.source + ": network.alif = " + std::to_string(config.network.n_alif) +
                         " is out of range (allowed: 0..network.neurons = " +
                         std::to_string(config.network.n_rec) + ")");
    }
    config.task.seed = config.seed;
    config.train.constraint.kind = weight_kind_from_string(config.constraint_kind);
    if (config.train.bases == "optimised") {
        const std::string& source = raw.entries().at("constraint.bases").source;
        if (config.train.constraint.kind != WeightKind::dynapse1 && config.train.constraint.kind != WeightKind::dynapse2)
            throw UsageError(source + ": constraint.bases = \"optimised\" is for constraint.kind = dynapse1 or dynapse2 (got " +
                             config.constraint_kind + ")");
        if (config.train.method != "qr")
            throw UsageError(source + ": constraint.bases = \"optimised\" is for constraint.method = qr only (got " +
                             config.train.method + ")");
    }
    return config;
}

json config_to_json(const Config& config) {
    json j = json::object();
    for (const Key& k : keys()) j[k.table][k.name] = k.get(config);
    return j;
}

std::vector<std::string> config_keys() {
    std::vector<std::string> names;
    for (const Key& k : keys()) names.push_back(k.full());
    return names;
}

}  // namespace qrsim::app
