// NIR files: HDF5 with a root dataset `version` and a group `node` holding the graph:
//
//   /version                     string
//   /node/type                   "NIRGraph"
//   /node/nodes/<name>/type      the primitive ("Input", "Affine", "CubaLIF", ...)
//   /node/nodes/<name>/<param>   numeric arrays (weight, bias, tau, r, v_threshold, ...)
//   /node/nodes/<name>/metadata/ optional group of numbers and strings
//   /node/edges                  n x 2 strings: source and target node names
//   /node/metadata/              optional group, as for nodes
//
// Reading treats the file as a hostile user's: the same size limit as a checkpoint,
// checked before HDF5 sees a byte; array sizes bounded before anything is allocated;
// NaN and inf refused by name; strings and names of bounded length. A subgraph (a node
// of type NIRGraph) is refused. Other groups of a node (NIR's input_type/output_type)
// and non-numeric datasets are skipped. Every error is one std::runtime_error line naming
// the file and the HDF5 path.
#pragma once

#include "nir/nir_graph.hpp"

#include <string>

namespace qrsim {

NirGraph read_nir_file(const std::string& path);
// The same from the file's bytes (`origin` names it in errors); what the fuzz target calls.
// HDF5 reads them in a child process given `seconds` of wall time (nir_file.cpp says why).
inline constexpr unsigned kNirReadSeconds = 20;
NirGraph nir_from_bytes(const std::string& bytes, const std::string& origin, unsigned seconds = kNirReadSeconds);

// The file's bytes (HDF5 built in memory), and the file written atomically from them:
// no partial file is ever left behind.
std::string nir_to_bytes(const NirGraph& graph);
void write_nir_file(const std::string& path, const NirGraph& graph);

}  // namespace qrsim
