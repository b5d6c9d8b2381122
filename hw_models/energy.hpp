// Action counters and the energy table that prices them (Accelergy's idea: the model
// counts, the table prices). Energy = sum over actions of count x pJ per action.
//
// Actions the tile and router count:
//   cam_search       one neuron's fan-in CAM searched for one incoming event
//   sop              one synaptic operation: an entry matched, its weight read and added
//                    (published per-SOP figures include the synapse memory read)
//   neuron_update    one neuron (or readout unit) advanced by one step
//   spike_out        one spike emitted as an AER event
//   hop_ew, hop_ns   one event crossing one mesh link east-west / north-south
//   lfsr_draw        one LFSR clock for stochastic rounding
//   sram_read_bits   bits read from state / trace SRAM (neuron state, biases, firmware)
//   sram_write_bits  bits written to it
// Actions the learning core counts (learn.core = "iss"; hw_models/learning_engine.hpp):
//   core_instr       one instruction retired by the learning core (the firmware's compute)
//   core_ram_access  one 32-bit load or store of the core's data RAM (working buffers,
//                    stack); its accesses to tile and learning memories are sram_*_bits
#pragma once

#include "hw_models/enum_counters.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace qrsim {

enum class Action : int {
    cam_search,
    sop,
    neuron_update,
    spike_out,
    hop_ew,
    hop_ns,
    lfsr_draw,
    sram_read_bits,
    sram_write_bits,
    core_instr,
    core_ram_access,
    count_
};
inline constexpr int kActionCount = static_cast<int>(Action::count_);

const char* action_name(Action a);

using ActionCounters = EnumCounters<Action, kActionCount>;

struct EnergyEntry {
    double pj = 0;
    std::string source;
};

// configs/energy/<preset>.toml:
//   name = "loihi"
//   [actions.sop]
//   pj = 23.6
//   source = "Davies et al. 2018, IEEE Micro 38(1), Table 1"
// Every action the model counts must be present, and every entry needs a non-empty source;
// otherwise load throws one line naming the file and the action.
class EnergyTable {
public:
    static EnergyTable load(const std::string& path);
    static EnergyTable parse(const std::string& toml_text, const std::string& origin);

    const std::string& name() const { return name_; }
    const EnergyEntry& entry(Action a) const { return entries_[static_cast<int>(a)]; }

    // pJ by action name, plus "total".
    std::map<std::string, double> energy_pj(const ActionCounters& c) const;

private:
    std::string name_;
    std::array<EnergyEntry, kActionCount> entries_{};
};

}  // namespace qrsim
