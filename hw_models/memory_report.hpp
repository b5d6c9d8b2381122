// The tile's memory map in bits by component, computed from the hw config alone (it is
// the silicon, not the network loaded into it), and the capacity check.
//
//   cam            neurons x K x (valid + address_bits + code bits)        -> memory.cam_bits
//                  (lookup = "direct": neurons x K x code bits, the synapse SRAM rows)
//   weight_lut     cores x lut_groups x stored LUT values x lut_bits        -> memory.sram_bits
//   lut_select     neurons x ceil(log2 lut_groups), only when lut_groups > 2 (with 2 the
//                  neuron's role picks the LUT)
//   neuron_state   neurons x (membrane + adaptation + refractory + spike bit)
//   neuron_bias    neurons x membrane_bits (bias register: a readout's bias, a hidden
//                  neuron's constant input per step)
//   neuron_params  cores x 3 classes (LIF, ALIF, readout) x (v_th, beta: membrane bits;
//                  alpha, rho: 16 bits; refractory: 8 bits)
//   routing        neurons x 4 fan-out destinations x (valid + destination core bits)
//   lfsr           cores x 2 x 32 (hidden and readout rounding)
//   traces         reserved for the learning firmware: presynaptic: one set of
//                  traces.bits per presynaptic address the tile can see
//                  (min(2^address_bits, neurons x K)); synapse: per CAM entry; none: 0
#pragma once

#include "hw_models/hw_config.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace qrsim {

struct MemoryMap {
    std::map<std::string, int64_t> bits;  // per tile, by component
    int64_t cam_total = 0;
    int64_t sram_total = 0;
};

MemoryMap tile_memory_map(const HwConfig& hw);

// Throws one line naming the component and bits if the tile's memories cannot hold it.
void check_capacity(const HwConfig& hw);

// Bits of the refractory counter for a number of refractory steps.
int refractory_bits(int refractory_steps);

}  // namespace qrsim
