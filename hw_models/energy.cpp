#include "hw_models/energy.hpp"

#include "learning_rules/bounded_input.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace qrsim {

const char* action_name(Action a) {
    static constexpr const char* names[kActionCount] = {"cam_search", "sop",       "neuron_update",
                                                        "spike_out",  "hop_ew",    "hop_ns",
                                                        "lfsr_draw",  "sram_read_bits", "sram_write_bits",
                                                        "core_instr", "core_ram_access"};
    return names[static_cast<int>(a)];
}

EnergyTable EnergyTable::load(const std::string& path) {
    // An energy table is part of the hw config: its errors are config errors (exit 2).
    return parse(read_input_file(path, kMaxConfigBytes, "energy table (energy.table in the hw config)", InputKind::config),
                 path);
}

EnergyTable EnergyTable::parse(const std::string& text, const std::string& origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        std::ostringstream ss;
        ss << origin << ":" << e.source().begin.line << ": TOML syntax error: " << e.description();
        throw ConfigError(ss.str());
    }
    EnergyTable t;
    t.name_ = root["name"].value_or(std::string("unnamed"));
    const toml::table* actions = root["actions"].as_table();
    if (!actions) throw ConfigError(origin + ": missing [actions] table");
    for (auto&& [k, v] : root)
        if (k.str() != "name" && k.str() != "description" && k.str() != "actions")
            throw ConfigError(origin + ": unknown key " + std::string(k.str()));
    for (int i = 0; i < kActionCount; ++i) {
        const char* name = action_name(static_cast<Action>(i));
        const toml::table* e = (*actions)[name].as_table();
        if (!e)
            throw ConfigError(origin + ": energy table has no entry for action '" + name +
                              "' that the model counts (add [actions." + name + "] with pj and source)");
        const std::optional<double> pj = (*e)["pj"].value<double>();
        const std::optional<std::string> src = (*e)["source"].value<std::string>();
        if (!pj) throw ConfigError(origin + ": actions." + name + ".pj missing (a number of picojoules)");
        // TOML allows nan and inf; either would make every energy figure null in a report.
        if (!std::isfinite(*pj) || *pj < 0)
            throw ConfigError(origin + ": actions." + name + ".pj = " +
                              (std::isnan(*pj) ? std::string("nan") : std::isinf(*pj) ? std::string("inf") : std::to_string(*pj)) +
                              " must be a finite number >= 0");
        if (*pj > 1e12) throw ConfigError(origin + ": actions." + name + ".pj is above 1e12 pJ (1 J per action)");
        if (!src || src->empty()) throw ConfigError(origin + ": actions." + name + ".source missing: every number needs its source");
        t.entries_[i] = EnergyEntry{*pj, *src};
    }
    return t;
}

std::map<std::string, double> EnergyTable::energy_pj(const ActionCounters& c) const {
    std::map<std::string, double> out;
    double total = 0;
    for (int i = 0; i < kActionCount; ++i) {
        const double e = static_cast<double>(c.n[i]) * entries_[i].pj;
        out[action_name(static_cast<Action>(i))] = e;
        total += e;
    }
    out["total"] = total;
    return out;
}

}  // namespace qrsim
