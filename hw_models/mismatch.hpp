// Device mismatch: the frozen spread between nominally identical analog circuits of a
// mixed-signal chip (Dynap-SE's synapse, leak and threshold circuits). Every neuron gets
// its own draws, fixed for the chip (a seed is a chip):
//   weights         each base (dynapse1/2: the 4 bases; uniform: the scale) as the
//                   neuron's synapse circuits add it: nominal x (1 + spread x N(0,1))
//   time_constants  the membrane, adaptation and readout time constants, tau x (1 + ...)
//   thresholds      v_th x (1 + ...)
// A factor is clipped to [0.05, 3] so a 3-sigma draw at a large spread stays physical.
// The learning firmware still sees the nominal values: on-chip learning under mismatch
// learns on a chip it does not know exactly. Spreads and their sources: docs/mismatch.md.
#pragma once

#include "hw_models/hw_config.hpp"
#include "hw_models/network.hpp"

namespace qrsim {

// Fills net.neuron_configs and net.neuron_luts from net's nominal configs and LUTs; a
// spread of 0 leaves that parameter nominal. Throws naming mismatch.weights when a
// drawn weight does not fit synapse.lut_bits.
void apply_mismatch(TileNetwork& net, const MismatchConfig& mismatch, const HwConfig& hw);

}  // namespace qrsim
