#include "apps/sweep_spec.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>
#include <sstream>

namespace qrsim::app {

namespace {

// Flags the sweep itself sets for every point.
const std::set<std::string> kReservedFlags = {"--report", "--config", "--set", "--help", "-h"};
constexpr long kMaxPoints = 100000;  // beyond this a typo in a grid is far likelier than intent

std::string where(const std::string& path, const toml::node& node, const char* section) {
    return path + ":" + std::to_string(node.source().begin.line) + " [" + section + "]";
}

RawValue scalar(const toml::node& node, const std::string& key, const std::string& source) {
    if (auto v = node.value_exact<int64_t>()) return *v;
    if (auto v = node.value_exact<double>()) return *v;
    if (auto v = node.value_exact<std::string>()) return *v;
    if (auto v = node.value_exact<bool>()) return *v;
    std::ostringstream type;
    type << node.type();
    throw UsageError(source + ": " + key + " must be an integer, number, string or boolean, got a TOML " + type.str());
}

struct Leaf {
    std::string key;
    const toml::node* node;
};

// The leaves of a table as "a.b.c" keys, in file order (toml++ iterates tables by key).
void flatten(const toml::table& table, const std::string& prefix, std::vector<Leaf>& out) {
    for (const auto& [name, node] : table) {
        const std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
        if (const toml::table* sub = node.as_table()) flatten(*sub, key, out);
        else out.push_back({key, &node});
    }
}
std::vector<Leaf> leaves(const toml::table& table) {
    std::vector<Leaf> out;
    flatten(table, "", out);
    std::stable_sort(out.begin(), out.end(), [](const Leaf& a, const Leaf& b) {
        const auto &x = a.node->source().begin, &y = b.node->source().begin;
        return std::make_pair(x.line, x.column) < std::make_pair(y.line, y.column);
    });
    return out;
}

// Settings of [fixed] or of one [[points]] entry: single values only.
std::vector<SweepSetting> settings(const toml::table& table, const std::string& path, const char* section) {
    std::vector<SweepSetting> out;
    for (const Leaf& leaf : leaves(table)) {
        const std::string source = where(path, *leaf.node, section);
        if (leaf.node->is_array())
            throw UsageError(source + ": " + leaf.key + " must be a single value here (put lists of values in [grid])");
        out.push_back({leaf.key, scalar(*leaf.node, leaf.key, source), source});
    }
    return out;
}

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

const char* kCommandHelp = "train, run, run --learn or convert";

// The subcommand a point runs, checked to take --report.
const CLI::App& find_command(const SweepSpec& spec, const CLI::App& root) {
    const std::string& name = spec.command.at(0);
    const auto found = root.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == name; });
    if (found.empty() || name == "sweep" || name == "report" || !found[0]->get_option_no_throw("--report"))
        throw UsageError(spec.path + ": command = \"" + name + "\" is not a qrsim command that writes a report (" +
                         kCommandHelp + ")");
    return *found[0];
}

// One setting on its own: the key exists, the value has the right type. Ranges, and rules
// that involve two keys, are checked when each point resolves.
void check_setting(const SweepSetting& s, const CLI::App& command, bool takes_config) {
    const std::string& cmd = command.get_name();
    if (s.key.rfind("--", 0) == 0) {
        if (kReservedFlags.count(s.key))
            throw UsageError(s.source + ": " + s.key + " is set by the sweep for every point (use config keys instead of --config/--set)");
        const CLI::Option* opt = command.get_option_no_throw(s.key);
        if (!opt) throw UsageError(s.source + ": qrsim " + cmd + " has no flag " + s.key + " (see qrsim " + cmd + " --help)");
        const bool is_flag = opt->get_type_size_max() == 0;
        if (is_flag != std::holds_alternative<bool>(s.value))
            throw UsageError(s.source + ": " + s.key + " = " + value_text(s.value) + ": " + s.key +
                             (is_flag ? " is an on/off flag, give true or false" : " takes a value, not true/false"));
        return;
    }
    if (!takes_config)
        throw UsageError(s.source + ": " + s.key + ": qrsim " + cmd + " takes no config keys; sweep its flags instead (e.g. \"--fanin\")");
    RawConfig probe;
    probe.set(s.key, s.value, s.source);  // throws naming an unknown key or a wrong type
}

uint64_t fnv1a(const std::string& text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// The point's settings in order: fixed, then one value per axis, then the list entry.
SweepPoint make_point(const SweepSpec& spec, const std::vector<const SweepSetting*>& chosen, size_t n_fixed,
                      bool takes_config) {
    SweepPoint p;
    p.command = spec.command;
    RawConfig raw;
    for (size_t i = 0; i < chosen.size(); ++i) {
        const SweepSetting& s = *chosen[i];
        if (i >= n_fixed) p.swept.emplace_back(s.key, s.value);
        if (s.key.rfind("--", 0) == 0) {
            p.flags[s.key] = s.value;
        } else {
            p.config[s.key] = s.value;
            raw.set(s.key, s.value, s.source);
        }
    }
    std::string identity;
    for (const auto& w : p.command) identity += w + " ";
    identity += "\n";
    for (const auto& [flag, value] : p.flags) identity += flag + "=" + value_text(value) + "\n";
    if (takes_config) {
        const Config config = resolve(raw);  // throws naming the key, the value and the range
        identity += config_to_json(config).dump();
        p.threads = config.train.threads;
    }
    if (auto it = p.flags.find("--threads"); it != p.flags.end() && std::holds_alternative<int64_t>(it->second))
        p.threads = static_cast<int>(std::get<int64_t>(it->second));
    char name[20];
    std::snprintf(name, sizeof name, "p%016llx", static_cast<unsigned long long>(fnv1a(identity)));
    p.name = name;
    return p;
}

}  // namespace

std::string value_text(const RawValue& value) {
    if (const auto* s = std::get_if<std::string>(&value)) return *s;
    if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
    return std::visit([](const auto& x) { return nlohmann::json(x).dump(); }, value);  // shortest round trip
}

SweepSpec read_sweep_spec(const std::string& path) {
    return parse_sweep_spec(read_input_file(path, kMaxConfigBytes, "sweep spec", InputKind::config), path);
}

SweepSpec parse_sweep_spec(const std::string& text, const std::string& path) {
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw UsageError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                         std::string(e.description()));
    }
    SweepSpec spec;
    spec.path = path;
    for (const auto& [name_key, node] : root) {
        const std::string name(name_key.str());
        const std::string line = path + ":" + std::to_string(node.source().begin.line);
        const toml::table* table = node.as_table();
        if (name == "command" || name == "description") {
            if (!node.is_string()) throw UsageError(line + ": " + name + " must be a string");
            if (name == "command") spec.command = words(*node.value<std::string>());
        } else if (name == "fixed" && table) {
            spec.fixed = settings(*table, path, "fixed");
        } else if (name == "grid" && table) {
            for (const Leaf& leaf : leaves(*table)) {
                const std::string source = where(path, *leaf.node, "grid");
                const toml::array* values = leaf.node->as_array();
                if (!values) throw UsageError(source + ": grid " + leaf.key + " must be a list of values, e.g. [8, 16]");
                if (values->empty()) throw UsageError(source + ": grid " + leaf.key + " is empty: give it at least one value");
                SweepAxis axis{leaf.key, {}};
                for (const toml::node& v : *values) axis.values.push_back({leaf.key, scalar(v, leaf.key, source), source});
                spec.grid.push_back(std::move(axis));
            }
        } else if (name == "seeds") {
            // Its key depends on the command (a config key or convert's --seed): set in expand_sweep.
            const toml::array* values = node.as_array();
            if (!values || values->empty())
                throw UsageError(line + ": seeds must be a non-empty list of integers, e.g. seeds = [1, 2, 3]");
            for (const toml::node& v : *values) {
                const auto seed = v.value_exact<int64_t>();
                if (!seed || *seed < 0)
                    throw UsageError(line + ": seeds must be a non-empty list of integers >= 0, e.g. seeds = [1, 2, 3]");
                spec.seeds.push_back({"", *seed, line + " [seeds]"});
            }
        } else if (name == "points" && node.is_array()) {
            const toml::array& entries = *node.as_array();
            if (entries.empty()) throw UsageError(line + ": points is empty: give at least one [[points]] entry");
            for (const toml::node& entry : entries) {
                if (!entry.is_table()) throw UsageError(line + ": points must be a list of tables ([[points]])");
                spec.list.push_back(settings(*entry.as_table(), path, "points"));
            }
        } else if (name == "slurm" && table) {
            for (const auto& [key, value] : *table) {
                const std::string source = path + ":" + std::to_string(value.source().begin.line) + " [slurm]";
                const toml::array* options = value.as_array();
                if (key.str() != "options") throw UsageError(source + ": unknown key slurm." + std::string(key.str()) + " (allowed: options)");
                if (!options || !options->is_homogeneous(toml::node_type::string))
                    throw UsageError(source + ": slurm.options must be a list of strings, e.g. [\"--time=02:00:00\"]");
                for (const toml::node& o : *options) spec.sbatch_options.push_back(*o.value<std::string>());
            }
        } else if (name == "fixed" || name == "grid" || name == "slurm") {
            throw UsageError(line + ": " + name + " must be a table [" + name + "]");
        } else {
            throw UsageError(line + ": unknown key " + name +
                             " (allowed: command, description, seeds, [fixed], [grid], [[points]], [slurm])");
        }
    }
    if (spec.command.empty()) throw UsageError(path + ": command is missing: the qrsim command of every point (" + kCommandHelp + ")");
    return spec;
}

std::vector<SweepPoint> expand_sweep(const SweepSpec& given, const CLI::App& root) {
    const CLI::App& command = find_command(given, root);
    const bool takes_config = command.get_option_no_throw("--config") != nullptr;
    // seeds = [...] is one more grid axis, the outermost, so a partial sweep has every
    // setting at the first seed before any at the second.
    SweepSpec spec = given;
    if (!spec.seeds.empty()) {
        SweepAxis axis{takes_config ? "train.seed" : "--seed", spec.seeds};
        for (SweepSetting& s : axis.values) s.key = axis.key;
        spec.grid.insert(spec.grid.begin(), std::move(axis));
    }
    for (size_t i = 1; i < spec.command.size(); ++i)
        check_setting({spec.command[i], RawValue(std::in_place_type<bool>, true), spec.path + ": command"}, command, takes_config);

    // Each key once, each setting checked on its own before any point is built.
    std::map<std::string, std::string> seen;  // key -> where it was set
    auto claim = [&](const SweepSetting& s) {
        check_setting(s, command, takes_config);
        const auto [it, fresh] = seen.emplace(s.key, s.source);
        if (!fresh) throw UsageError(s.source + ": " + s.key + " is already set at " + it->second);
    };
    for (const SweepSetting& s : spec.fixed) claim(s);
    for (const SweepAxis& axis : spec.grid) {
        claim(axis.values[0]);
        for (const SweepSetting& s : axis.values) check_setting(s, command, takes_config);
    }
    const std::map<std::string, std::string> outside_list = seen;
    for (const auto& entry : spec.list)
        for (const SweepSetting& s : entry) {
            check_setting(s, command, takes_config);
            if (auto it = outside_list.find(s.key); it != outside_list.end())
                throw UsageError(s.source + ": " + s.key + " is already set at " + it->second);
        }

    long total = std::max<size_t>(1, spec.list.size());
    for (const SweepAxis& axis : spec.grid) {
        total *= static_cast<long>(axis.values.size());
        if (total > kMaxPoints) throw UsageError(spec.path + ": the grid has more than " + std::to_string(kMaxPoints) + " points");
    }

    std::vector<SweepPoint> points;
    std::set<std::string> names;
    std::vector<size_t> digit(spec.grid.size(), 0);  // mixed-radix counter over the axes
    for (long n = 0; n < total; ++n) {
        long rest = n;
        const size_t entry = spec.list.empty() ? 0 : static_cast<size_t>(rest % static_cast<long>(spec.list.size()));
        if (!spec.list.empty()) rest /= static_cast<long>(spec.list.size());
        for (size_t a = spec.grid.size(); a-- > 0;) {
            digit[a] = static_cast<size_t>(rest % static_cast<long>(spec.grid[a].values.size()));
            rest /= static_cast<long>(spec.grid[a].values.size());
        }
        std::vector<const SweepSetting*> chosen;
        for (const SweepSetting& s : spec.fixed) chosen.push_back(&s);
        for (size_t a = 0; a < spec.grid.size(); ++a) chosen.push_back(&spec.grid[a].values[digit[a]]);
        if (!spec.list.empty())
            for (const SweepSetting& s : spec.list[entry]) chosen.push_back(&s);
        SweepPoint p = make_point(spec, chosen, spec.fixed.size(), takes_config);
        if (!names.insert(p.name).second) continue;  // same experiment as an earlier point
        p.index = static_cast<int>(points.size());
        points.push_back(std::move(p));
    }
    return points;
}

}  // namespace qrsim::app
