// Turns a trained constrained float network (checkpoint JSON) into the tile's terms:
// every non-zero weight is decomposed into CAM entries with qrsim::decompose (the fewest
// entries whose weights add up to it), LUTs come from the checkpoint's group quantisation.
//
// The constraint is read from checkpoint.extra (see common/checkpoint.hpp).
#pragma once

#include "common/checkpoint.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/network.hpp"

namespace qrsim {

// Throws one line if the network does not fit the hw config (kind, K, a weight that is not
// representable, a LUT value or bias out of range).
TileNetwork network_from_checkpoint(const Checkpoint& checkpoint, const HwConfig& hw);

}  // namespace qrsim
