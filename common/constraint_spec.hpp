// The chip's synapse constraints, one spec shared by the float Quantized Rewiring
// trainer, the ANN converter, the tile's fan-in tables and the firmware.
//
// A "group" is the set of synapses onto one population of neurons that share a core:
// the recurrent neurons' fan-in (input and recurrent columns together) or the readout's.
// Every neuron of a group has a fan-in table (CAM) of `fanin` entries; an entry joins one
// presynaptic address to the neuron with one weight code. Several entries may join the
// same pair, their weights add.
//
//   none      float weights, no entry limit checked (fanin <= 0 means dense)
//   uniform   code in [-(2^(b-1)-1), 2^(b-1)-1], weight = scale x code, 1 entry per pair
//   dynapse1  4 synapse types {exc small, exc large, inh small, inh large}, each with one
//             base shared by the group; weight = sum_type count_type x sign_type x base_type;
//             every count is one entry (Dynap-SE1)
//   dynapse2  4 bases shared by the group; per entry a sign and a 4-bit mask;
//             weight = sign x sum of the selected bases (Dynap-SE2)
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

namespace qrsim {

enum class WeightKind { none, uniform, dynapse1, dynapse2 };

struct ConstraintSpec {
    WeightKind kind = WeightKind::none;
    int fanin = 0;          // K: CAM entries per neuron; <= 0: unlimited (dense)
    int weight_bits = 4;    // uniform only: bits of the signed code, 2..16
    double connectivity = 1.0;  // fraction of all (post, pre) pairs that may be connected
};

// The weight levels of one group: the scale (uniform) or the 4 base magnitudes (dynapse1:
// exc small, exc large, inh small, inh large; dynapse2: the 4 bases a mask selects from).
struct GroupQuant {
    WeightKind kind = WeightKind::none;
    int weight_bits = 4;
    double scale = 1.0;
    std::array<double, 4> base{};
};

// One fan-in table entry. The meaning of `code` depends on the kind:
//   uniform   the signed integer code (weight = scale x code)
//   dynapse1  the synapse type 0..3 (weight = sign_type x base_type)
//   dynapse2  sign x mask, mask in 1..15 (weight = sign x sum of bases selected by mask)
struct EntryCode {
    int pre = 0;
    int code = 0;
};

// The weight one entry contributes.
double entry_weight(const GroupQuant& quant, int code);

// Appends the fewest entries whose weights add up to w (w must be representable: a weight
// produced by the projection; throws std::invalid_argument otherwise). Returns how many.
int decompose(const GroupQuant& quant, double w, int pre, std::vector<EntryCode>& out);

// Throws std::invalid_argument naming the field when the spec makes no sense.
void validate(const ConstraintSpec& spec);

// Largest |code| of a uniform weight: 2^(b-1) - 1.
int uniform_max_code(int weight_bits);

// The number of entries decompose(quant, w) would append; -1 when w is not representable.
// Kind none: 1 for any non-zero float weight.
int entry_count(const GroupQuant& quant, double w);

// Bits of one group's fan-in tables (rows neurons x K entries, `cols` presynaptic
// addresses) and its shared levels, by component:
//   cam_address_bits  rows x K x ceil(log2 cols)   (0 when dense: the position is the address)
//   cam_weight_bits   rows x K x code bits         (uniform b, dynapse1 2 (type),
//                                                   dynapse2 5 (sign + mask), none 32 (float))
//   shared_base_bits  32 per shared value          (uniform 1 scale, dynapse 4 bases)
// K = spec.fanin, or cols when dense (fanin <= 0).
std::map<std::string, long long> memory_bits(const ConstraintSpec& spec, int rows, int cols);

// The synapse memory of a whole RSNN: the recurrent group [w_in | w_rec] as "hidden.<component>",
// the readout as "readout.<component>", and their sum as "total".
std::map<std::string, long long> network_memory_bits(const ConstraintSpec& spec, int n_in, int n_rec, int n_out);

std::string to_string(WeightKind kind);
WeightKind weight_kind_from_string(const std::string& name);  // throws on unknown names

}  // namespace qrsim
