// A trained network on disk: JSON, written atomically, validated on load.
//
//   {"format": "qrsim-rsnn", "version": 1,
//    "params":  {every RsnnParams field},
//    "weights": {"w_in": {"rows": R, "cols": C, "data": [row-major]}, "w_rec", "w_out",
//                "b_out" (a column: cols = 1), "b_rec" (optional column, hidden biases)},
//    "config":  {the resolved configuration that produced it},
//    "extra":   {optional: what later layers add, e.g. a constraint spec}}
//
// Doubles are written in shortest round-trip form, so load(save(x)) == x to the bit.
#pragma once

#include "common/constraint_spec.hpp"
#include "common/rsnn.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qrsim {

struct Checkpoint {
    RsnnParams params;
    RsnnWeights weights;
    nlohmann::json config = nlohmann::json::object();
    nlohmann::json extra = nlohmann::json::object();  // null or empty: not written
};

inline constexpr const char* kCheckpointFormat = "qrsim-rsnn";
inline constexpr int kCheckpointVersion = 1;

// Throws std::runtime_error if the weights do not match the params, hold a non-finite
// value (JSON cannot store it), or the file cannot be written. Never leaves a partial file.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// The file's text, with the same checks (for a caller that stages several outputs).
std::string checkpoint_text(const Checkpoint& checkpoint);

// Throws std::runtime_error with one line naming the file and the offending field.
Checkpoint load_checkpoint(const std::string& path);
// The same from the file's text (`path` names it in errors); what the fuzzer calls.
Checkpoint checkpoint_from_text(const std::string& text, const std::string& path);

// The constraint a network was trained under, kept in checkpoint.extra so the tile can
// rebuild its fan-in tables:
//   {"constraint": {"kind": "dynapse2", "fanin": 64, "weight_bits": 4,
//                   "groups": {"hidden": {"scale": s, "base": [b0, b1, b2, b3]},
//                              "readout": {...}}}}
// "hidden" covers the rows of [w_in | w_rec], "readout" w_out. Optional "layers":
// [{"first": f, "neurons": n, "scale": s, "base": [...]}, ...] gives recurrent neurons
// [f, f + n) their own levels (a converted feed-forward network's per-layer scale).
struct CheckpointConstraint {
    struct Layer {
        int first = 0, neurons = 0;
        GroupQuant quant;
    };
    ConstraintSpec spec;
    GroupQuant hidden, readout;
    std::vector<Layer> layers;

    // The layer whose levels recurrent neuron j uses (-1: hidden's).
    int layer_of(int j) const;
    const GroupQuant& hidden_levels(int j) const {
        const int l = layer_of(j);
        return l < 0 ? hidden : layers[l].quant;
    }
};

nlohmann::json constraint_to_extra(const CheckpointConstraint& constraint);
// Throws one line naming the missing or bad field.
CheckpointConstraint constraint_from_extra(const nlohmann::json& extra);

// The JSON form of RsnnParams, shared with reports.
nlohmann::json params_to_json(const RsnnParams& params);

}  // namespace qrsim
