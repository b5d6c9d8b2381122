// 32-bit Galois LFSR, the random source of stochastic rounding (as in ReckOn and Loihi:
// hardware draws its dither from an LFSR, not from a true RNG). Polynomial
// x^32 + x^22 + x^2 + x + 1 (taps 0x80200003), maximal length 2^32 - 1.
//
// One draw = one clock of the register; the draw returns the new state. Consecutive draws
// are shifted copies of each other, exactly as in the hardware this models; they are used
// for dither only (their low bits), never as independent samples. A zero state would lock
// the register, so seeding maps 0 to a fixed non-zero value.
#pragma once

#include <stdint.h>

namespace qrsim {
namespace fw {

struct Lfsr32 {
    static constexpr uint32_t kTaps = 0x80200003u;
    uint32_t state = 0xACE1u;

    void seed(uint32_t s) { state = s != 0 ? s : 0xACE1u; }

    uint32_t next() {
        const uint32_t lsb = state & 1u;
        state >>= 1;
        state ^= (0u - lsb) & kTaps;
        return state;
    }
};

// A distinct, well-spread seed for LFSR number `index` derived from one base seed, so every
// core of every tile has its own sequence and a network split over several tiles draws the
// same numbers as on one tile (the seed follows the global core index, not the tile).
constexpr uint32_t lfsr_seed(uint32_t base, uint32_t index) {
    uint32_t x = base ^ (index * 0x9E3779B9u);
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x != 0 ? x : 0xACE1u;
}

}  // namespace fw
}  // namespace qrsim
