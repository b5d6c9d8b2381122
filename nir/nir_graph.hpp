// A NIR graph in memory (Neuromorphic Intermediate Representation, Pedersen et al., Nature
// Communications 15, 8122, 2024): named nodes, each a primitive type with parameter
// arrays, and directed edges between node names. This is what nir_file reads and writes
// and what nir_network maps to and from a qrsim checkpoint; nothing here knows HDF5.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qrsim {

// One parameter: a row-major array of any rank (rank 0: a scalar). Integer-typed arrays
// (an Input's shape) keep that type when written back.
struct NirArray {
    std::vector<int64_t> shape;
    std::vector<double> values;
    bool integer = false;

    static NirArray vector(std::vector<double> v) {
        NirArray a;
        a.shape = {static_cast<int64_t>(v.size())};
        a.values = std::move(v);
        return a;
    }
    static NirArray scalar(double v) {
        NirArray a;
        a.values = {v};
        return a;
    }
};

// Values a node or graph carries beside its parameters (NIR's `metadata`).
struct NirMetadata {
    std::map<std::string, NirArray> numbers;
    std::map<std::string, std::string> texts;
};

struct NirNode {
    std::string type;
    std::map<std::string, NirArray> params;
    NirMetadata metadata;
};

struct NirGraph {
    std::string version;
    std::map<std::string, NirNode> nodes;
    std::vector<std::pair<std::string, std::string>> edges;
    NirMetadata metadata;
};

// The NIR version this build writes.
inline constexpr const char* kNirVersion = "1.0";

}  // namespace qrsim
