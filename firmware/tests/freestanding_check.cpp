// Compiled with -ffreestanding -fno-exceptions -fno-rtti -nostdinc++ (see
// firmware/CMakeLists.txt): proves the firmware headers need no C++ standard library,
// as the rv32imc cross compiler ships none. Never linked.
#include "firmware/adam.hpp"
#include "firmware/eprop_pieces.hpp"
#include "firmware/eprop_kernels.hpp"
#include "firmware/fixed_point.hpp"
#include "firmware/learning.hpp"
#include "firmware/lfsr.hpp"
#include "firmware/memory_map.hpp"
#include "firmware/neuron_core.hpp"
#include "firmware/quantized_rewiring.hpp"

extern "C" int qrsim_fw_freestanding_check(int32_t input) {
    qrsim::fw::NeuronConfig c;
    c.v_th = 100;
    qrsim::fw::NeuronState s;
    qrsim::fw::Lfsr32 l;
    return qrsim::fw::neuron_step(c, s, input, 0, l);
}
