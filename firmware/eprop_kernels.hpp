// The arithmetic kernels of on-chip e-prop (Bellec et al. 2020; ReckOn, Frenkel & Indiveri
// 2022), integer only. Each is the ONE definition the rules in firmware/ use; the float
// counterparts are in learning_rules/gradients.cpp (docs/references.md#e-prop).
//
//   pseudo-derivative  psi = gamma/v_th max(0, 1 - |v - A| / v_th) in float. On chip the
//                      constant gamma/v_th moves into the learning rate and psi is an
//                      unsigned Q(psi_bits) value of max(0, 1 - |x|):
//                        pwc5    5-segment piecewise constant over x in (-1, 1) (ReckOn):
//                                |x| < 0.2 -> 1, < 0.6 -> 0.6, < 1 -> 0.2 (segment centres);
//                                three comparisons, no multiply
//                        linear  the triangle itself, one division
//                      1.0 saturates to 2^psi_bits - 1.
//   readout error      err_k = softmax(y)_k - [k == target], Q15 signed, from the readout
//                      values in membrane LSBs: exp by a 17-entry 2^(-k/16) table with
//                      linear interpolation (relative error < 3e-4), one division per class.
//   random feedback    B_jk regenerated from (seed, j, k) by a hash, uniform in [-127, 127]:
//                      the matrix costs no memory (one hash per use).
#pragma once

#include "firmware/fixed_point.hpp"
#include "firmware/lfsr.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {

// d = v - A (membrane LSBs), v_th > 0: the pseudo-derivative code.
inline int32_t pseudo_derivative(int64_t d, int32_t v_th, uint8_t shape, int psi_bits) {
    const int64_t ad = d < 0 ? -d : d;
    const int32_t one = (int32_t{1} << psi_bits) - 1;
    if (ad >= v_th) return 0;
    if (shape == 1) {  // linear
        const uint32_t num = static_cast<uint32_t>(v_th - ad) << psi_bits;
        const int32_t q = static_cast<int32_t>(num / static_cast<uint32_t>(v_th));
        return q > one ? one : q;
    }
    if (5 * ad < v_th) return one;
    if (5 * ad < 3 * static_cast<int64_t>(v_th)) return ((int32_t{3} << psi_bits) + 2) / 5;
    return ((int32_t{1} << psi_bits) + 2) / 5;
}

// 2^(-k/16) in Q15, k = 0..16.
constexpr int32_t kExp2Table[17] = {32768, 31379, 30048, 28774, 27554, 26386, 25268, 24196, 23170,
                                    22188, 21247, 20347, 19484, 18658, 17867, 17109, 16384};

// 2^(-m / 2^16) in Q15 for m >= 0 (m in Q16).
inline int32_t exp2_neg_q16(uint32_t m) {
    const uint32_t whole = m >> 16;
    if (whole >= 16) return 0;
    const uint32_t f = m & 0xFFFFu;
    const uint32_t k = f >> 12, r = f & 0xFFFu;
    const int32_t lo = kExp2Table[k], hi = kExp2Table[k + 1];
    const int32_t v = lo - static_cast<int32_t>((static_cast<uint32_t>(lo - hi) * r + 2048u) >> 12);
    return v >> whole;
}

// err_k = softmax(y)_k - [k == target] in Q15; y in Q(frac) membrane LSBs. n <= 64.
inline void softmax_error(const int32_t* y, int n, int target, int frac, int32_t* err) {
    int32_t ymax = y[0];
    for (int k = 1; k < n; ++k) ymax = y[k] > ymax ? y[k] : ymax;
    constexpr int64_t kLog2eQ16 = 94548;  // log2(e) x 2^16
    uint32_t sum = 0;
    for (int k = 0; k < n; ++k) {
        const int64_t m = ((static_cast<int64_t>(ymax) - y[k]) * kLog2eQ16) >> frac;
        err[k] = exp2_neg_q16(m > 0x7FFFFFFF ? 0x7FFFFFFFu : static_cast<uint32_t>(m));
        sum += static_cast<uint32_t>(err[k]);
    }
    for (int k = 0; k < n; ++k) {
        const int32_t pi = static_cast<int32_t>((static_cast<uint32_t>(err[k]) << 15) / sum);
        err[k] = pi - (k == target ? 32768 : 0);
    }
}

// The random feedback weight B_jk in [-127, 127], regenerated from the seed.
inline int32_t feedback_weight(uint32_t seed, uint32_t j, uint32_t k) {
    const int32_t b = static_cast<int8_t>(lfsr_seed(seed ^ 0xFEEDBAC5u, j * 64u + k) >> 24);
    return b == -128 ? -127 : b;
}

// x / 2^shift (shift may be negative: a left shift), rounded as asked.
inline int64_t rescale(int64_t x, int shift, Rounding rounding, Lfsr32& lfsr) {
    if (shift <= 0) return x * (int64_t{1} << -shift);
    return shift_round(x, shift, rounding, rounding == round_stochastic ? lfsr.next() : 0u);
}

}  // namespace fw
}  // namespace qrsim
