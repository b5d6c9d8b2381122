// Action counters and the energy table that prices them (Accelergy's idea: the model
// counts, the table prices). Dynamic energy = sum over actions of count x price; static
// energy = the table's static power x simulated time. docs/energy.md has every figure.
//
// Actions the tile and router count (one count is):
//   cam_search       one event searched in one core's CAM: the event's tag compared with
//                    every word of every neuron of the core (Dynap-SE2 broadcasts an event
//                    to the cores that subscribe to it; the core's CAMs compare in parallel)
//   sop              one synaptic operation: an entry matched, its weight read and added
//                    (published per-SOP figures include the synapse memory read)
//   neuron_update    one neuron (or readout unit) advanced by one step
//   spike_out        one spike emitted as an AER event
//   hop_ew, hop_ns   one event crossing one mesh link east-west / north-south
//   lfsr_draw        one LFSR clock for stochastic rounding
//   state_read_bits  bits of neuron state (membrane, adaptation, refractory counter, spike,
//   state_write_bits bias) the neuron core reads / writes each step
// Actions the learning engine counts (hw_models/learning_engine.hpp):
//   sram_read_bits   bits the learning firmware reads from / writes to the tile's and the
//   sram_write_bits  learning memories
//   core_instr       one instruction retired by the learning core (learn.core = "iss")
//   core_ram_access  one 32-bit load or store of the core's data RAM (working buffers, stack)
#pragma once

#include "hw_models/cost_formula.hpp"
#include "hw_models/enum_counters.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qrsim {

struct HwConfig;

enum class Action : int {
    cam_search,
    sop,
    neuron_update,
    spike_out,
    hop_ew,
    hop_ns,
    lfsr_draw,
    state_read_bits,
    state_write_bits,
    sram_read_bits,
    sram_write_bits,
    core_instr,
    core_ram_access,
    count_
};
inline constexpr int kActionCount = static_cast<int>(Action::count_);

const char* action_name(Action a);
// A *_bits action counts bits: its price is energy per bit, every other price energy per count.
bool action_counts_bits(Action a);
// The actions a step's time is made of on the tile (the learning core is timed by its cycles).
bool action_is_timed(Action a);

using ActionCounters = EnumCounters<Action, kActionCount>;

// A primary figure: a number as its source gives it, with where the source gives it.
struct Figure {
    std::string name;
    double value = 0;
    std::string unit;
    Quantity quantity;
    std::string ref;       // citation key of docs/references.md
    std::string locator;   // table, figure or section of the source
    std::string node, voltage, what;
    std::string estimate;  // set instead of a source: why the number is not sourced yet
};

// A derivation several tables share, so its arithmetic has one definition.
struct Derivation {
    std::string name;
    Formula formula;
    std::string what;
};

// configs/energy/figures.toml:
//   [figures.loihi_sop]
//   value = 23.6
//   unit = "pJ"
//   ref = "davies2018"
//   locator = "Table 2"
//   node = "14 nm FinFET"
//   voltage = "0.75 V"
//   what = "energy per synaptic spike operation, synapse memory read included"
//   [derived.sram_bit]
//   formula = "horowitz_sram8k_read64 / (64 * bit)"
//   what = "one bit of a banked SRAM access"
class FigureBook {
public:
    static FigureBook load(const std::string& path);
    static FigureBook parse(const std::string& text, const std::string& origin);

    const std::string& origin() const { return origin_; }
    const std::vector<Figure>& figures() const { return figures_; }
    const std::vector<Derivation>& derivations() const { return derivations_; }
    const Figure* figure(const std::string& name) const;
    const Derivation* derivation(const std::string& name) const;

private:
    std::string origin_;
    std::vector<Figure> figures_;
    std::vector<Derivation> derivations_;
};

// One action's price in a table.
struct CostEntry {
    Formula energy = Formula::parse("0");  // per count (per bit for *_bits actions)
    std::optional<Formula> latency;        // timed actions: the time one count takes
    std::string basis;                     // what is priced, in words
    std::string included_in;               // energy "0": the action whose figure covers this one
};

// configs/energy/<table>.toml:
//   name = "loihi"
//   figures = "figures.toml"             (relative to this file)
//   [static]
//   power = "loihi_leak_per_bit * memory_bits"
//   basis = "..."
//   [actions.sop]
//   energy = "loihi_sop"
//   latency = "loihi_sop_time"
//   basis = "..."
// Every counted action must be present with a basis; a name a formula uses must be a
// figure, a derivation of the figure book, or a hw quantity (hw_quantity_names()).
// Errors are one line naming the file and the key.
class EnergyTable {
public:
    static EnergyTable load(const std::string& path);
    static EnergyTable parse(const std::string& text, const std::string& origin, FigureBook figures);

    const std::string& name() const { return name_; }
    const std::string& description() const { return description_; }
    const std::string& origin() const { return origin_; }
    const FigureBook& figures() const { return figures_; }
    const CostEntry& entry(Action a) const { return entries_[static_cast<int>(a)]; }
    const Formula& static_power() const { return static_power_; }
    const std::string& static_basis() const { return static_basis_; }

private:
    std::string name_, description_, origin_;
    FigureBook figures_;
    std::array<CostEntry, kActionCount> entries_{};
    Formula static_power_ = Formula::parse("0");
    std::string static_basis_;
};

// The quantities of a hw config a formula may name: neurons_per_core, cores, fanin (counts),
// tag_bits and memory_bits (bits), and `bit` (one bit, for per-bit conversions).
const std::vector<std::string>& hw_quantity_names();

// A table's prices for one hw config.
class EnergyModel {
public:
    // Throws ConfigError naming the table and the entry when a price does not evaluate.
    EnergyModel(const EnergyTable& table, const HwConfig& hw);

    const EnergyTable& table() const { return table_; }
    double pj(Action a) const { return pj_[static_cast<int>(a)]; }
    double latency_s(Action a) const { return latency_s_[static_cast<int>(a)]; }
    // On-chip memory of the tiles (memory.cam_bits + memory.sram_bits, every tile): what leaks.
    int64_t tile_memory_bits() const { return tile_memory_bits_; }
    // Static power (W) of a chip holding this much memory: the table's [static] formula.
    double static_w(int64_t memory_bits) const;

    // pJ by action name, plus "dynamic" (their sum).
    std::map<std::string, double> energy_pj(const ActionCounters& c) const;

private:
    Quantity lookup(const std::string& name, int64_t memory_bits, int depth) const;

    EnergyTable table_;
    std::array<double, kActionCount> pj_{}, latency_s_{};
    int neurons_per_core_ = 0, cores_ = 0, fanin_ = 0, tag_bits_ = 0;
    int64_t tile_memory_bits_ = 0;
};

// Static and dynamic energy of a stretch of simulated time, pJ: one definition of the split.
struct EnergySplit {
    double dynamic_pj = 0, static_pj = 0;
    double total_pj() const { return dynamic_pj + static_pj; }
};
EnergySplit energy_split(const EnergyModel& m, const ActionCounters& c, double seconds, int64_t memory_bits);

}  // namespace qrsim
