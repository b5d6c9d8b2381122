#include "hw_models/energy.hpp"

#include "common/bounded_input.hpp"
#include "hw_models/hw_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace qrsim {

const char* action_name(Action a) {
    static constexpr const char* names[kActionCount] = {
        "cam_search",      "sop",            "neuron_update",  "spike_out",       "hop_ew",     "hop_ns",
        "lfsr_draw",       "state_read_bits", "state_write_bits", "sram_read_bits", "sram_write_bits",
        "core_instr",      "core_ram_access"};
    return names[static_cast<int>(a)];
}

bool action_counts_bits(Action a) {
    return a == Action::state_read_bits || a == Action::state_write_bits || a == Action::sram_read_bits ||
           a == Action::sram_write_bits;
}

bool action_is_timed(Action a) {
    return a == Action::cam_search || a == Action::sop || a == Action::neuron_update || a == Action::spike_out ||
           a == Action::hop_ew || a == Action::hop_ns;
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

// Reads a table's keys; a key not read is unknown, a value of the wrong type names the key.
class Keys {
public:
    Keys(const toml::table& t, std::string origin, std::string prefix)
        : t_(t), origin_(std::move(origin)), prefix_(std::move(prefix)) {}

    std::string text(const char* key, bool required) {
        seen_.emplace_back(key);
        const toml::node* n = t_.get(key);
        if (!n) {
            if (required) fail(std::string(key) + " missing");
            return "";
        }
        if (!n->is_string()) fail(std::string(key) + " must be a string");
        return *n->value<std::string>();
    }
    std::optional<double> number(const char* key) {
        seen_.emplace_back(key);
        const toml::node* n = t_.get(key);
        if (!n) return std::nullopt;
        if (!n->is_number()) fail(std::string(key) + " must be a number");
        return n->value<double>();
    }
    Formula formula(const char* key, bool required) {
        const std::string s = text(key, required);
        if (s.empty()) {
            if (required) fail(std::string(key) + " is empty (a formula, e.g. \"loihi_sop\")");
            return Formula::parse("0");
        }
        try {
            return Formula::parse(s);
        } catch (const FormulaError& e) {
            fail(std::string(key) + ": " + e.what());
        }
    }
    void finish() const {
        for (auto&& [k, v] : t_)
            if (std::find(seen_.begin(), seen_.end(), std::string(k.str())) == seen_.end())
                fail("unknown key " + std::string(k.str()) + " (docs/energy.md)");
    }
    [[noreturn]] void fail(const std::string& what) const { throw ConfigError(origin_ + ": " + prefix_ + what); }

private:
    const toml::table& t_;
    std::string origin_, prefix_;
    std::vector<std::string> seen_;
};

const toml::table* sub_table(const toml::table& root, const char* key, const std::string& origin) {
    const toml::node* n = root.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) throw ConfigError(origin + ": " + key + " must be a table [" + key + "]");
    return n->as_table();
}

std::optional<Quantity> hw_quantity_probe(const std::string& name) {
    // Names and dimensions only: a table is checked before it meets a hw config.
    if (name == "tag_bits" || name == "memory_bits" || name == "bit") return Quantity{1, kBits};
    for (const std::string& n : hw_quantity_names())
        if (n == name) return Quantity{1, kDimensionless};
    return std::nullopt;
}

// Resolves a name through the figure book and the hw quantities; derivations recursively.
std::optional<Quantity> resolve(const FigureBook& book, const std::string& name,
                                const std::function<std::optional<Quantity>(const std::string&)>& hw, int depth) {
    if (const Figure* f = book.figure(name)) return f->quantity;
    if (const Derivation* d = book.derivation(name)) {
        if (depth > 16) throw FormulaError("derivation '" + name + "' refers to itself");
        return d->formula.eval([&](const std::string& n) { return resolve(book, n, hw, depth + 1); });
    }
    return hw(name);
}

Dim price_dim(Action a) { return action_counts_bits(a) ? kEnergyPerBit : kEnergy; }

void expect_dim(const Quantity& q, const Dim& want, const std::string& origin, const std::string& key) {
    if (q.dim != want)
        throw ConfigError(origin + ": " + key + " comes out in " + dim_name(q.dim) + ", it must be " + dim_name(want));
}

}  // namespace

// ---- figure book ----

FigureBook FigureBook::load(const std::string& path) {
    return parse(read_input_file(path, kMaxConfigBytes, "energy figures (figures of an energy table)", InputKind::config),
                 path);
}

FigureBook FigureBook::parse(const std::string& text, const std::string& origin) {
    const toml::table root = parse_toml(text, origin);
    FigureBook b;
    b.origin_ = origin;
    const toml::table* figs = sub_table(root, "figures", origin);
    const toml::table* derived = sub_table(root, "derived", origin);
    for (auto&& [k, v] : root)
        if (k.str() != "figures" && k.str() != "derived")
            throw ConfigError(origin + ": unknown key " + std::string(k.str()) + " (a figure book has [figures.*] and [derived.*])");
    if (figs)
        for (auto&& [k, v] : *figs) {
            const std::string name(k.str());
            const std::string prefix = "figures." + name + ".";
            if (!v.is_table()) throw ConfigError(origin + ": figures." + name + " must be a table");
            Keys f(*v.as_table(), origin, prefix);
            Figure g;
            g.name = name;
            const std::optional<double> value = f.number("value");
            if (!value) f.fail("value missing (the number as the source gives it)");
            if (!std::isfinite(*value) || *value < 0) f.fail("value must be a finite number >= 0");
            g.value = *value;
            g.unit = f.text("unit", true);
            try {
                g.quantity = quantity_of(g.value, g.unit);
            } catch (const FormulaError& e) {
                f.fail(std::string("unit: ") + e.what());
            }
            g.estimate = f.text("estimate", false);
            const bool sourced = g.estimate.empty();
            g.ref = f.text("ref", sourced);
            g.locator = f.text("locator", sourced);
            g.node = f.text("node", sourced);
            g.voltage = f.text("voltage", sourced);
            g.what = f.text("what", true);
            f.finish();
            b.figures_.push_back(std::move(g));
        }
    if (derived)
        for (auto&& [k, v] : *derived) {
            const std::string name(k.str());
            if (!v.is_table()) throw ConfigError(origin + ": derived." + name + " must be a table");
            if (b.figure(name)) throw ConfigError(origin + ": derived." + name + " has the name of a figure");
            Keys d(*v.as_table(), origin, "derived." + name + ".");
            Derivation x{name, d.formula("formula", true), d.text("what", true)};
            d.finish();
            b.derivations_.push_back(std::move(x));
        }
    for (const Derivation& d : b.derivations_) {
        try {
            (void)resolve(b, d.name, hw_quantity_probe, 0);
        } catch (const FormulaError& e) {
            throw ConfigError(origin + ": derived." + d.name + ".formula: " + e.what());
        }
    }
    return b;
}

const Figure* FigureBook::figure(const std::string& name) const {
    for (const Figure& f : figures_)
        if (f.name == name) return &f;
    return nullptr;
}

const Derivation* FigureBook::derivation(const std::string& name) const {
    for (const Derivation& d : derivations_)
        if (d.name == name) return &d;
    return nullptr;
}

// ---- table ----

EnergyTable EnergyTable::load(const std::string& path) {
    // An energy table is part of the hw config: its errors are config errors (exit 2).
    const std::string text =
        read_input_file(path, kMaxConfigBytes, "energy table (energy.table in the hw config)", InputKind::config);
    const toml::table root = parse_toml(text, path);
    const toml::node* f = root.get("figures");
    if (!f || !f->is_string())
        throw ConfigError(path + ": figures missing (the figure book this table prices from, e.g. figures = \"figures.toml\")");
    const std::filesystem::path fp(*f->value<std::string>());
    const std::string book = fp.is_absolute() ? fp.string() : (std::filesystem::path(path).parent_path() / fp).string();
    return parse(text, path, FigureBook::load(book));
}

EnergyTable EnergyTable::parse(const std::string& text, const std::string& origin, FigureBook figures) {
    const toml::table root = parse_toml(text, origin);
    EnergyTable t;
    t.origin_ = origin;
    t.figures_ = std::move(figures);
    Keys top(root, origin, "");
    t.name_ = top.text("name", true);
    t.description_ = top.text("description", false);
    top.text("figures", false);
    for (auto&& [k, v] : root)
        if (k.str() != "name" && k.str() != "description" && k.str() != "figures" && k.str() != "actions" &&
            k.str() != "static")
            top.fail("unknown key " + std::string(k.str()));
    const auto probe = [&t](const std::string& n) { return resolve(t.figures_, n, hw_quantity_probe, 0); };
    const auto checked = [&](const Formula& f, const std::string& key, const Dim& want) {
        if (f.is_zero()) return;  // a plain 0 has every unit
        try {
            expect_dim(f.eval(probe), want, origin, key);
        } catch (const FormulaError& e) {
            throw ConfigError(origin + ": " + key + ": " + e.what() + " (a figure or derivation of " + t.figures_.origin() +
                              ", or one of the hw quantities neurons_per_core, cores, fanin, tag_bits, memory_bits, bit)");
        }
    };

    const toml::table* st = sub_table(root, "static", origin);
    if (!st) throw ConfigError(origin + ": [static] missing (the static power of the chip, power = \"...\")");
    Keys s(*st, origin, "static.");
    t.static_power_ = s.formula("power", true);
    t.static_basis_ = s.text("basis", true);
    s.finish();
    checked(t.static_power_, "static.power", kPower);

    const toml::table* actions = sub_table(root, "actions", origin);
    if (!actions) throw ConfigError(origin + ": missing [actions] table");
    for (auto&& [k, v] : *actions) {
        bool known = false;
        for (int i = 0; i < kActionCount; ++i) known |= k.str() == action_name(static_cast<Action>(i));
        if (!known) throw ConfigError(origin + ": unknown action actions." + std::string(k.str()));
    }
    for (int i = 0; i < kActionCount; ++i) {
        const Action a = static_cast<Action>(i);
        const std::string name = action_name(a);
        const toml::node* n = actions->get(name);
        if (!n || !n->is_table())
            throw ConfigError(origin + ": energy table has no entry for action '" + name +
                              "' that the model counts (add [actions." + name + "] with energy and basis)");
        Keys e(*n->as_table(), origin, "actions." + name + ".");
        CostEntry c;
        c.energy = e.formula("energy", true);
        c.basis = e.text("basis", true);
        c.included_in = e.text("included_in", false);
        if (action_is_timed(a)) {
            c.latency = e.formula("latency", true);
        } else if (!e.text("latency", false).empty()) {
            e.fail("latency: only the tile's timed actions (cam_search, sop, neuron_update, spike_out, hop_ew, "
                   "hop_ns) take a latency; the learning core is timed by its cycles");
        }
        e.finish();
        checked(c.energy, "actions." + name + ".energy", price_dim(a));
        if (c.latency) checked(*c.latency, "actions." + name + ".latency", kTime);
        if (c.energy.is_zero() && c.included_in.empty())
            e.fail("energy = \"0\" needs included_in: the action whose price covers this one");
        if (!c.energy.is_zero() && !c.included_in.empty()) e.fail("included_in is only for an energy of \"0\"");
        if (a == Action::cam_search && c.energy.is_zero())
            e.fail("energy = \"0\": a CAM that is searched costs energy (price the search per event per core)");
        t.entries_[i] = std::move(c);
    }
    for (int i = 0; i < kActionCount; ++i) {
        const std::string& inc = t.entries_[i].included_in;
        if (inc.empty()) continue;
        int j = -1;
        for (int k = 0; k < kActionCount; ++k)
            if (inc == action_name(static_cast<Action>(k))) j = k;
        if (j < 0 || t.entries_[j].energy.is_zero())
            throw ConfigError(origin + ": actions." + action_name(static_cast<Action>(i)) + ".included_in = \"" + inc +
                              "\" must name an action priced above zero in this table");
    }
    return t;
}

const std::vector<std::string>& hw_quantity_names() {
    static const std::vector<std::string> names = {"neurons_per_core", "cores", "fanin", "tag_bits", "memory_bits", "bit"};
    return names;
}

// ---- bound to a hw config ----

EnergyModel::EnergyModel(const EnergyTable& table, const HwConfig& hw)
    : table_(table),
      neurons_per_core_(hw.neurons_per_core),
      cores_(hw.cores),
      fanin_(hw.fanin),
      tag_bits_(hw.address_bits),
      tile_memory_bits_(int64_t{hw.tiles()} * (hw.cam_bits + hw.sram_bits)) {
    for (int i = 0; i < kActionCount; ++i) {
        const CostEntry& e = table_.entry(static_cast<Action>(i));
        const std::string key = std::string("actions.") + action_name(static_cast<Action>(i));
        const auto at = [&](const std::string& n) -> std::optional<Quantity> { return lookup(n, tile_memory_bits_, 0); };
        try {
            pj_[i] = e.energy.eval(at).si * 1e12;
            latency_s_[i] = e.latency ? e.latency->eval(at).si : 0.0;
        } catch (const FormulaError& x) {
            throw ConfigError(table_.origin() + ": " + key + ": " + x.what());
        }
        if (!std::isfinite(pj_[i]) || pj_[i] < 0 || !std::isfinite(latency_s_[i]) || latency_s_[i] < 0)
            throw ConfigError(table_.origin() + ": " + key + " evaluates to a negative or non-finite price for " +
                              hw.source);
    }
    if (!std::isfinite(static_w(tile_memory_bits_)) || static_w(tile_memory_bits_) < 0)
        throw ConfigError(table_.origin() + ": static.power evaluates to a negative or non-finite power for " + hw.source);
}

Quantity EnergyModel::lookup(const std::string& name, int64_t memory_bits, int depth) const {
    const auto hw = [&](const std::string& n) -> std::optional<Quantity> {
        if (n == "neurons_per_core") return Quantity{static_cast<double>(neurons_per_core_), kDimensionless};
        if (n == "cores") return Quantity{static_cast<double>(cores_), kDimensionless};
        if (n == "fanin") return Quantity{static_cast<double>(fanin_), kDimensionless};
        if (n == "tag_bits") return Quantity{static_cast<double>(tag_bits_), kBits};
        if (n == "memory_bits") return Quantity{static_cast<double>(memory_bits), kBits};
        if (n == "bit") return Quantity{1, kBits};
        return std::nullopt;
    };
    const std::optional<Quantity> q = resolve(table_.figures(), name, hw, depth);
    if (!q) throw FormulaError("unknown name '" + name + "'");
    return *q;
}

double EnergyModel::static_w(int64_t memory_bits) const {
    return table_.static_power()
        .eval([&](const std::string& n) -> std::optional<Quantity> { return lookup(n, memory_bits, 0); })
        .si;
}

std::map<std::string, double> EnergyModel::energy_pj(const ActionCounters& c) const {
    std::map<std::string, double> out;
    double total = 0;
    for (int i = 0; i < kActionCount; ++i) {
        const double e = static_cast<double>(c.n[i]) * pj_[i];
        out[action_name(static_cast<Action>(i))] = e;
        total += e;
    }
    out["dynamic"] = total;
    return out;
}

EnergySplit energy_split(const EnergyModel& m, const ActionCounters& c, double seconds, int64_t memory_bits) {
    EnergySplit s;
    s.dynamic_pj = m.energy_pj(c).at("dynamic");
    s.static_pj = m.static_w(memory_bits) * seconds * 1e12;
    return s;
}

}  // namespace qrsim
