// A network in the tile's own terms: fixed-point neuron parameters, per-group weight LUTs
// and per-neuron fan-in entry lists (presynaptic address, weight code). Both the SystemC
// tile and the plain reference loop load this one description.
//
// Neurons (global ids): recurrent 0 .. n_rec-1 (the last n_alif are ALIF), then readout
// units n_rec .. n_rec+n_out-1. AER addresses: input channel c -> c, recurrent neuron j ->
// n_in + j. Readout units never spike; their fan-in holds recurrent addresses only.
#pragma once

#include "common/constraint_spec.hpp"
#include "common/rsnn.hpp"
#include "firmware/memory_map.hpp"
#include "firmware/neuron_core.hpp"
#include "hw_models/hw_config.hpp"

#include <cstdint>
#include <vector>

namespace qrsim {

// One group's weight levels in membrane LSBs: the stored values and their expansion.
struct GroupLut {
    fw::CodeKind kind = fw::code_uniform;
    int weight_bits = 4;
    std::vector<int32_t> stored;  // fw::lut_stored values
    std::vector<int32_t> table;   // fw::lut_size values, indexed by fw::lut_index

    void expand();
};

struct TileNetwork {
    int n_in = 0, n_rec = 0, n_alif = 0, n_out = 0;
    fw::NeuronConfig lif, alif, readout;
    // Per neuron (n_rec + n_out), membrane LSBs: a hidden neuron's constant input per step,
    // a readout unit's bias.
    std::vector<int32_t> bias;
    GroupLut hidden, out;       // "hidden": recurrent neurons' fan-in; "out": readout's
    // Per-layer levels (a converted feed-forward network): LUT group 2 + i, read by the
    // recurrent neurons with layer_lut[j] = 2 + i; empty: hidden / out by role.
    std::vector<GroupLut> layer_luts;
    std::vector<uint8_t> layer_lut;  // n_rec or empty
    std::vector<std::vector<EntryCode>> fanin;  // per neuron, n_rec + n_out lists
    // Device mismatch (hw_models/mismatch.hpp): every neuron's own config and the weights
    // its synapse circuits actually add, n_rec + n_out each; empty: the nominal ones.
    std::vector<fw::NeuronConfig> neuron_configs;
    std::vector<GroupLut> neuron_luts;

    int n_neurons() const { return n_rec + n_out; }
    int n_addresses() const { return n_in + n_rec; }
    bool is_readout(int j) const { return j >= n_rec; }
    bool is_alif(int j) const { return j < n_rec && j >= n_rec - n_alif; }
    const fw::NeuronConfig& nominal_config_of(int j) const { return is_readout(j) ? readout : (is_alif(j) ? alif : lif); }
    const fw::NeuronConfig& config_of(int j) const {
        return neuron_configs.empty() ? nominal_config_of(j) : neuron_configs[j];
    }
    int n_luts() const { return 2 + static_cast<int>(layer_luts.size()); }
    const GroupLut& lut(int group) const { return group == 0 ? hidden : group == 1 ? out : layer_luts.at(group - 2); }
    int lut_group(int j) const { return is_readout(j) ? 1 : layer_lut.empty() ? 0 : layer_lut[j]; }
    // The weights neuron j's entries add: its group's LUT, or its own under mismatch.
    const GroupLut& lut_of(int j) const { return neuron_luts.empty() ? lut(lut_group(j)) : neuron_luts[j]; }
    size_t n_entries() const;
};

// A decay factor f in (0, 1) in both forms the neuron core knows (1.15 multiply, shift),
// and back: the factor the configured leak mode applies.
fw::Decay decay_of(double f);
double decay_factor(const fw::Decay& d, fw::LeakMode leak);

// Fixed-point neuron configs from the float parameters, in the hw config's formats
// (membrane LSB = 2^-membrane_frac_bits). Throws naming the field if v_th does not fit.
void set_neuron_configs(const RsnnParams& p, const HwConfig& hw, TileNetwork& net);

// A network of p's sizes with its neuron configs set and no synapses yet.
TileNetwork network_without_synapses(const RsnnParams& p, const HwConfig& hw);

// A float weight level in membrane LSBs; throws naming `what` if it does not fit lut_bits.
int32_t to_lut_value(double w, const HwConfig& hw, const char* what);

// Fills a group's LUT from its float quantisation (scale or bases).
GroupLut make_group_lut(const GroupQuant& q, const HwConfig& hw, const char* group);

// Throws one line if the network breaks the hw config: neuron count, address range, K,
// codes. (The tile checks every write again; this gives the error before building.)
void check_fits(const TileNetwork& net, const HwConfig& hw);

// A random network within the hw config's constraints (tests, benchmark): every neuron
// gets `fanin` entries (<= hw.fanin) with random addresses and codes; weights are
// scaled so the membrane sees about `drive` x v_th per step of typical input.
TileNetwork random_network(const HwConfig& hw, const RsnnParams& p, int fanin, uint64_t seed, double hidden_scale,
                           double readout_scale);

}  // namespace qrsim
