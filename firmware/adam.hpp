// Adam (Kingma & Ba 2015) in integers: the float trainer's optimiser, run by the learning
// firmware every `batch` samples on the accumulated gradient G of each entry.
//   m <- m + (G - m) (1 - beta1)              beta1 = 0.9 (Q15 29491)
//   v <- v + (G^2 - v) 2^-10                  beta2 = 1 - 2^-10 = 0.99902 (float: 0.999)
//   dh = -step c_t m / sqrt(v)                c_t = sqrt(1 - beta2^t) / (1 - beta1^t)
// The RMS r = sqrt(v) is what is stored (32 bits instead of v's 64), so each update takes
// one integer square root per entry. Every entry moves about `step` hidden LSBs whatever
// its gradient's scale, and noisy entries (m small against r) move less: the two things
// plain SGD and sign steps lack (README, "On-chip learning").
#pragma once

#include "firmware/fixed_point.hpp"
#include "firmware/lfsr.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {

constexpr int32_t kAdamOneMinusBeta1Q15 = 3277;  // 1 - 0.9
constexpr int kAdamBeta2Shift = 10;
constexpr uint32_t kAdamOneQ30 = uint32_t{1} << 30;

// floor(sqrt(x)), bit by bit (no division, no float).
inline uint32_t isqrt64(uint64_t x) {
    uint64_t r = 0;
    uint64_t bit = uint64_t{1} << 62;
    while (bit > x) bit >>= 2;
    while (bit != 0) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return static_cast<uint32_t>(r);
}

// Advances beta1^t, beta2^t (Q30, start at 1) by one update and returns c_t in Q15.
inline int32_t adam_correction(uint32_t& beta1_t, uint32_t& beta2_t) {
    beta1_t = static_cast<uint32_t>((uint64_t{beta1_t} * (32768 - kAdamOneMinusBeta1Q15)) >> 15);
    beta2_t -= beta2_t >> kAdamBeta2Shift;
    const uint64_t num = isqrt64(uint64_t{kAdamOneQ30 - beta2_t} << 30);  // Q30
    const uint64_t den = kAdamOneQ30 - beta1_t;                           // Q30
    const uint64_t c = (num << 15) / den;
    return static_cast<int32_t>(c > 32768 ? 32768 : c);
}

// Fraction bits of the stored moments: integer moments of small gradients would stall
// (an EMA step below one LSB is lost) and drift. G beyond kAdamMaxGradient saturates.
constexpr int kAdamFrac = 4;
constexpr int64_t kAdamMaxGradient = (int64_t{1} << (31 - kAdamFrac)) - 1;

// Updates the moments of one parameter with its gradient G and returns its step before the
// learning rate: -c_t m / r, scaled by mult (hidden LSBs x 2^shift). m, r in Q(kAdamFrac).
inline int64_t adam_moments_step(int64_t g, int32_t& m, int32_t& r, int32_t corr_q15, int32_t mult) {
    const int64_t gq = (g < -kAdamMaxGradient ? -kAdamMaxGradient : (g > kAdamMaxGradient ? kAdamMaxGradient : g)) *
                       (int64_t{1} << kAdamFrac);
    m = static_cast<int32_t>(sat_signed(m + shift_round((gq - m) * kAdamOneMinusBeta1Q15, 15, round_nearest, 0), 32));
    const uint64_t v = uint64_t(uint32_t(r)) * uint32_t(r);
    const uint64_t ag = static_cast<uint64_t>(gq < 0 ? -gq : gq);
    const uint64_t g2 = ag * ag;
    const uint64_t v1 = g2 >= v ? v + ((g2 - v) >> kAdamBeta2Shift) : v - ((v - g2) >> kAdamBeta2Shift);
    uint64_t root = isqrt64(v1);
    if (v1 - root * root > root) ++root;  // nearest: sqrt(v1) >= root + 1/2
    r = static_cast<int32_t>(root > 0x7FFFFFFFu ? 0x7FFFFFFFu : root);
    return -((int64_t{m} * corr_q15) >> 15) * mult / (int64_t{r} + 1);
}

}  // namespace fw
}  // namespace qrsim
