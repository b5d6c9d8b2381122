// Hardware configuration of a tile mesh, in two layers (DRAMSys style): HwConfigRaw
// mirrors the TOML file (every field optional), HwConfig is resolved (defaults applied,
// ranges checked, units converted). Only this layer parses files; modules take
// `const HwConfig&`. Every key is documented in configs/hw/README.md.
//
// Errors are std::runtime_error with ONE line naming the file and the field, e.g.
//   configs/hw/x.toml: synapse.weight_bits = 20 out of range [2, 16]
#pragma once

#include "common/constraint_spec.hpp"
#include "firmware/memory_map.hpp"
#include "firmware/neuron_core.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qrsim {

// learn.<rule>.<key>: a setting of one on-chip rule, as the config gave it. The rule's
// descriptor validates it (hw_models/rule_catalog.hpp), so the config layer only knows its
// TOML type.
struct RuleSettingValue {
    std::string rule, key;
    int64_t value = 0;
    bool boolean = false;  // given as true / false
    std::string origin;    // the file or the --hw-set that set it
};

struct HwConfigRaw {
    std::optional<std::string> name;
    std::optional<std::string> description;
    // [mesh]
    std::optional<int64_t> mesh_width, mesh_height, hop_latency_ns, step_ns;
    // [tile]
    std::optional<int64_t> cores, neurons_per_core, address_bits;
    // [synapse]
    std::optional<std::string> kind, lookup;
    std::optional<int64_t> fanin, weight_bits, lut_bits, lut_groups;
    // [neuron]
    std::optional<int64_t> membrane_bits, membrane_frac_bits, adaptation_bits, adaptation_frac_bits, seed;
    std::optional<std::string> leak, rounding, reset;
    // [traces]
    std::optional<std::string> trace_placement;
    std::optional<std::vector<int64_t>> trace_bits;
    // [memory]
    std::optional<int64_t> cam_bits, sram_bits;
    // [learn]
    std::optional<std::string> learn_rule, learn_update, learn_weight_rounding, learn_hidden_store, learn_feedback, learn_pseudo_derivative, learn_trace_rounding;
    std::optional<std::string> learn_core, learn_firmware, learn_timing, learn_realtime;
    std::vector<RuleSettingValue> learn_rule_settings;
    std::optional<int64_t> learn_rom_bytes, learn_ram_bytes, learn_hook_budget;
    std::optional<double> learn_clock_hz;
    std::optional<bool> learn_profile;
    std::optional<int64_t> learn_psi_bits, learn_signal_bits, learn_hidden_bits, learn_acc_bits, learn_batch,
        learn_rewire_shift, learn_seed, learn_sram_bits;
    std::optional<double> learn_learning_rate, learn_readout_learning_rate, learn_bias_learning_rate, learn_step,
        learn_lr_decay, learn_momentum;
    // [mismatch]
    std::optional<double> mismatch_weights, mismatch_time_constants, mismatch_thresholds;
    std::optional<int64_t> mismatch_seed;
    // [energy]
    std::optional<std::string> energy_table;
    // [vcd]
    std::optional<std::string> vcd_file;
    std::optional<std::vector<int64_t>> vcd_neurons;
};

enum class SynapseLookup { cam, direct };
enum class TracePlacement { none, presynaptic, synapse };

// The [learn] table: the on-chip rule and its variants (configs/hw/README.md). Trace
// placement and widths come from [traces].
struct LearnConfig {
    std::string rule = "eprop";          // a name in the firmware's rule registry
    std::vector<RuleSettingValue> rule_settings;  // learn.<rule>.<key>
    // Set by the config rather than defaulted: a rule that does not implement a value the
    // config chose refuses it; a default gives way to the rule's own choice.
    bool rule_given = false, update_given = false, feedback_given = false;
    std::string update = "adam";         // adam | sign | accumulate | stochastic
    std::string weight_rounding = "nearest";  // codes written at updates: nearest | stochastic
    std::string hidden_store = "cam";    // where h lives: cam (code and tag in the CAM) | shadow
    std::string feedback = "random";     // random | symmetric
    std::string pseudo_derivative = "pwc5";  // pwc5 | linear
    fw::Rounding trace_rounding = fw::round_stochastic;
    int psi_bits = 5;
    int signal_bits = 16;
    int hidden_bits = 10;
    int acc_bits = 32;
    int batch = 32;
    int rewire_shift = 2;
    // SGD rates measured on fmnist-rows (3,000 images): 0.04 / 0.5 saturated the readout's
    // steps at the code range (27.7 vs 13.2 % for accumulate).
    double learning_rate = 0.01;          // SGD step in weight units per unit mean gradient
    double readout_learning_rate = 0.05;
    double bias_learning_rate = 0.0005;
    double step = 0.005;                  // adam, sign: step in weight units (biases: membrane units)
    double lr_decay = 0.8;                // every rate and step x lr_decay per epoch (as the float trainer)
    double momentum = 0;                  // sign, accumulate: beta of the momentum the accumulators carry
    uint32_t seed = 7;
    int64_t sram_bits = int64_t{1} << 22;  // capacity of the learning memories
    // The learning core (docs/firmware_core.md).
    std::string core = "iss";             // iss: the rv32imc image on the tile's ISS | native: host build
    std::string firmware;                 // resolved path of the image (default: the built-in rules)
    std::string timing;                   // resolved path of the cycle table (configs/cores/)
    double clock_hz = 100e6;              // core clock
    int64_t rom_bytes = 65536, ram_bytes = 32768;  // the core's instruction and data memories
    int64_t hook_budget = 200000000;      // instructions one hook may take before it is a fault
    std::string realtime = "report";      // report: count steps whose learning overruns the step | error
    bool profile = false;                 // iss: instructions retired per firmware function
};

// [mismatch]: relative spreads (std / mean) of the analog circuits, hw_models/mismatch.hpp.
struct MismatchConfig {
    double weights = 0, time_constants = 0, thresholds = 0;
    uint32_t seed = 1;  // the chip: the same seed draws the same circuits
    bool any() const { return weights > 0 || time_constants > 0 || thresholds > 0; }
};

struct HwConfig {
    std::string name;
    std::string description;
    std::string source;  // file it came from (for messages)

    int mesh_width = 1;
    int mesh_height = 1;
    // Set: every hop takes this long; unset (-1): the energy table's cited hop latencies.
    int64_t hop_latency_ns = -1;
    int64_t step_ns = 1000000;  // dt = 1 ms

    int cores = 1;             // per tile
    int neurons_per_core = 256;
    int address_bits = 11;     // AER tag width: addresses 0 .. 2^bits - 1

    WeightKind kind = WeightKind::uniform;
    SynapseLookup lookup = SynapseLookup::cam;
    int fanin = 64;            // K: CAM entries per neuron
    int weight_bits = 4;       // uniform code bits
    int lut_bits = 16;         // width of one weight LUT value (membrane LSBs, signed)
    int lut_groups = 2;        // weight LUTs per core: hidden, readout, then per-layer levels

    int membrane_bits = 16;
    int membrane_frac_bits = 10;
    int adaptation_bits = 16;
    int adaptation_frac_bits = 10;
    fw::LeakMode leak = fw::leak_multiply;
    fw::Rounding rounding = fw::round_nearest;
    fw::ResetMode reset = fw::reset_subtract;
    uint32_t seed = 1;

    TracePlacement trace_placement = TracePlacement::presynaptic;
    bool placement_given = false;
    std::vector<int> trace_bits{12, 12, 10};

    int64_t cam_bits = 0;   // per tile capacity
    int64_t sram_bits = 0;  // per tile capacity

    LearnConfig learn;
    MismatchConfig mismatch;

    std::string energy_table;  // resolved path

    std::string vcd_file;           // "" : no trace
    std::vector<int> vcd_neurons;   // global neuron ids (recurrent first, then readout)

    // Where a key ("learn.update") was last set, for messages: its --hw-set, else the file.
    std::map<std::string, std::string> key_origin;
    std::string origin_of(const std::string& key) const {
        const auto it = key_origin.find(key);
        return it == key_origin.end() ? source : it->second;
    }

    int tiles() const { return mesh_width * mesh_height; }
    int neurons_per_tile() const { return cores * neurons_per_core; }
    fw::EntryLayout entry_layout() const {
        return fw::EntryLayout{static_cast<fw::CodeKind>(kind), static_cast<uint8_t>(weight_bits),
                               static_cast<uint8_t>(address_bits)};
    }
    int code_bits() const { return fw::code_bits(static_cast<fw::CodeKind>(kind), weight_bits); }
    // The constraint the tile's fan-in tables enforce (kind, K, weight bits): what a float
    // network is trained under to load here.
    ConstraintSpec constraint() const {
        ConstraintSpec spec;
        spec.kind = kind;
        spec.fanin = fanin;
        spec.weight_bits = weight_bits;
        return spec;
    }
};

// Parses a TOML text into the raw layer; unknown keys and wrong types -> error naming them.
HwConfigRaw parse_hw_config(const std::string& toml_text, const std::string& origin);

// Applies defaults, checks every range and resolves paths relative to `base_dir`.
HwConfig resolve_hw_config(const HwConfigRaw& raw, const std::string& origin, const std::string& base_dir);

// Loads by path ("configs/hw/x.toml") or by preset name ("dynapse2"), looked up in
// <project>/configs/hw/. An unknown preset -> error listing the known ones. The project
// directory is $QRSIM_SOURCE_DIR if set, else the source tree this was built from.
// `overrides` ("learn.update=stochastic", "traces.bits=[16, 16]") replace file keys first.
HwConfig load_hw_config(const std::string& path_or_preset, const std::vector<std::string>& overrides = {});

std::vector<std::string> hw_preset_names();
std::string project_dir();

}  // namespace qrsim
