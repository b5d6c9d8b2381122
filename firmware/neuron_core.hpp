// The fixed-point LIF / ALIF neuron and the leaky readout: the ONE definition of the
// neuron step. The tile's neuron core, the plain reference loop and the on-chip firmware
// all call these functions, so they agree bit for bit by construction.
//
// Per step t, with I_t the synaptic input (sum of the weights of the entries that matched
// this step's AER packet, in membrane LSBs), b the neuron's bias register and z_{t-1} the
// neuron's previous spike:
//
//   a_t = decay(a_{t-1}, rho) + z_{t-1} 2^a_frac                     (ALIF only)
//   v_t = decay(v_{t-1}, alpha) + I_t + b - v_th z_{t-1}              reset by subtraction
//   v_t = (z_{t-1} ? 0 : decay(v_{t-1}, alpha)) + I_t + b             reset to zero
//   A_t = v_th + round(beta a_t / 2^a_frac)
//   z_t = 0 and refractory count down   if refractory steps remain
//   z_t = (v_t >= A_t), refractory = R   otherwise               (H(0) = 1, as the float model)
//   readout: y_t = decay(y_{t-1}, kappa) + I_t + b
//
// v and y saturate to v_bits (signed), a to a_bits (unsigned): never wrap.
// decay(x, f) is either a 1.15 multiply x f / 2^15 or a shift x - x / 2^s, rounded to
// nearest or stochastically with one LFSR draw (one draw per decay, order: a, then v).
// The synaptic input is summed in a 32-bit accumulator before the step (order-free).
#pragma once

#include "firmware/fixed_point.hpp"
#include "firmware/lfsr.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {

enum LeakMode : uint8_t { leak_multiply = 0, leak_shift = 1 };
enum ResetMode : uint8_t { reset_subtract = 0, reset_zero = 1 };

// A decay factor, in the form the configured leak mode uses.
struct Decay {
    uint16_t q15 = 32767;  // multiply mode: factor in 1.15
    uint8_t shift = 15;    // shift mode: x - x / 2^shift
};

struct NeuronConfig {
    int32_t v_th = 0;        // threshold, membrane LSBs
    int32_t beta = 0;        // adaptation strength, membrane LSBs per unit of a; 0: LIF
    Decay alpha;             // membrane decay
    Decay rho;               // adaptation decay
    uint8_t v_bits = 16;     // membrane width (signed)
    uint8_t a_bits = 16;     // adaptation width (unsigned)
    uint8_t a_frac = 8;      // adaptation fractional bits: a spike adds 2^a_frac
    uint8_t refractory = 0;  // steps without spiking after a spike
    LeakMode leak = leak_multiply;
    Rounding rounding = round_nearest;
    ResetMode reset = reset_subtract;
    bool adaptive = false;   // ALIF
};

struct NeuronState {
    int32_t v = 0;
    int32_t a = 0;
    uint8_t refractory_left = 0;
    uint8_t z = 0;  // spike of the last step
};

// LFSR draws one neuron step takes (for bulk action counting).
inline int draws_per_step(const NeuronConfig& c) {
    if (c.rounding != round_stochastic) return 0;
    return c.adaptive ? 2 : 1;
}

// decay(x): the leak, rounded as configured.
inline int64_t decay(int32_t x, const Decay& d, LeakMode leak, Rounding rounding, Lfsr32& lfsr) {
    const uint32_t r = rounding == round_stochastic ? lfsr.next() : 0u;
    if (leak == leak_multiply) return mul_q15(x, d.q15, rounding, r);
    return static_cast<int64_t>(x) - shift_round(x, d.shift, rounding, r);
}

// The adaptive threshold A = v_th + beta a / 2^a_frac (nearest; no draw).
inline int64_t threshold(const NeuronConfig& c, const NeuronState& s) {
    if (!c.adaptive) return c.v_th;
    return static_cast<int64_t>(c.v_th) + shift_round(static_cast<int64_t>(c.beta) * s.a, c.a_frac, round_nearest, 0);
}

// One step of a LIF/ALIF neuron; returns z_t (0 or 1) and stores it in s.z.
inline uint8_t neuron_step(const NeuronConfig& c, NeuronState& s, int32_t input, int32_t bias, Lfsr32& lfsr) {
    const int32_t z_prev = s.z;
    const int64_t drive = static_cast<int64_t>(input) + bias;
    if (c.adaptive) {
        const int64_t a = decay(s.a, c.rho, c.leak, c.rounding, lfsr) + (static_cast<int64_t>(z_prev) << c.a_frac);
        s.a = sat_unsigned(a, c.a_bits);
    }
    int64_t v;
    if (c.reset == reset_subtract) {
        v = decay(s.v, c.alpha, c.leak, c.rounding, lfsr) + drive - (z_prev ? c.v_th : 0);
    } else {
        // The draw is taken even when the reset discards the decayed value, so the LFSR
        // sequence does not depend on spikes (a hardware pipeline would clock it anyway).
        const int64_t leaked = decay(s.v, c.alpha, c.leak, c.rounding, lfsr);
        v = (z_prev ? 0 : leaked) + drive;
    }
    s.v = sat_signed(v, c.v_bits);
    uint8_t z = 0;
    if (s.refractory_left > 0) {
        --s.refractory_left;
    } else if (s.v >= threshold(c, s)) {
        z = 1;
        s.refractory_left = c.refractory;
    }
    s.z = z;
    return z;
}

// One step of a leaky readout unit: y = decay(y) + input + bias (saturated to v_bits).
inline int32_t readout_step(const NeuronConfig& c, int32_t& y, int32_t input, int32_t bias, Lfsr32& lfsr) {
    y = sat_signed(decay(y, c.alpha, c.leak, c.rounding, lfsr) + input + bias, c.v_bits);
    return y;
}

inline int readout_draws_per_step(const NeuronConfig& c) { return c.rounding == round_stochastic ? 1 : 0; }

}  // namespace fw
}  // namespace qrsim
