// Fixed-point arithmetic of the tile and its firmware: the ONE definition of rounding and
// saturation. Freestanding C++17 (only <stdint.h>): it compiles for the host and for
// rv32imc (riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32) alike.
//
// Formats are written Qm.f: a signed two's-complement value of m + f bits (sign included
// in m) whose real value is raw / 2^f. A "1.15" factor is Q1.15: raw in [0, 32767] stands
// for [0, 1). Products are formed in 64 bits so no intermediate overflows; on rv32 that is
// mul + mulh, no library call beyond libgcc's integer helpers, and no float anywhere.
//
// Rounding of a right shift by s bits (dividing by 2^s):
//   nearest     floor((x + 2^(s-1)) / 2^s)       ties go towards +infinity
//   stochastic  floor((x + r mod 2^s) / 2^s)     r uniform: unbiased, E[result] = x / 2^s
//   floor       floor(x / 2^s)                   the bare arithmetic shift
#pragma once

#include <stdint.h>

namespace qrsim {
namespace fw {

enum Rounding : uint8_t { round_nearest = 0, round_stochastic = 1, round_floor = 2 };

// An explicit Q format: total bits (sign included) and fractional bits.
struct QFormat {
    uint8_t bits;
    uint8_t frac;
};

constexpr int32_t max_signed(int bits) { return static_cast<int32_t>((int64_t{1} << (bits - 1)) - 1); }
constexpr int32_t min_signed(int bits) { return static_cast<int32_t>(-(int64_t{1} << (bits - 1))); }
constexpr int32_t max_unsigned(int bits) { return static_cast<int32_t>((int64_t{1} << bits) - 1); }

// Saturates x to a signed value of `bits` bits (2..32).
constexpr int32_t sat_signed(int64_t x, int bits) {
    return x > max_signed(bits) ? max_signed(bits) : (x < min_signed(bits) ? min_signed(bits) : static_cast<int32_t>(x));
}

// Saturates x to an unsigned value of `bits` bits (1..31), negative values to 0.
constexpr int32_t sat_unsigned(int64_t x, int bits) {
    return x > max_unsigned(bits) ? max_unsigned(bits) : (x < 0 ? 0 : static_cast<int32_t>(x));
}

constexpr bool fits_signed(int64_t x, int bits) { return x >= min_signed(bits) && x <= max_signed(bits); }

// a + b saturated to `bits` bits.
constexpr int32_t sat_add(int32_t a, int32_t b, int bits) {
    return sat_signed(static_cast<int64_t>(a) + static_cast<int64_t>(b), bits);
}

// x / 2^shift with the given rounding; `random` is only read for stochastic rounding (its
// low `shift` bits are the dither). shift in 0..62.
constexpr int64_t shift_round(int64_t x, int shift, Rounding rounding, uint32_t random) {
    if (shift == 0) return x;
    int64_t offset = 0;
    if (rounding == round_nearest) {
        offset = int64_t{1} << (shift - 1);
    } else if (rounding == round_stochastic) {
        // One 32-bit draw covers 32 fraction bits: beyond them x is floored first (a bias of
        // at most 2^-32 LSB). Without that, a draw below 2^32 against a 2^shift step rounded
        // every negative x down and every positive x to 0 (learning rates of 2^-40).
        if (shift > 32) {
            x >>= shift - 32;
            shift = 32;
        }
        offset = static_cast<int64_t>(random & (shift == 32 ? 0xFFFFFFFFull : ((uint64_t{1} << shift) - 1)));
    }
    // >> of a negative int64 is arithmetic (floor) on every compiler we target; C++20 makes
    // it normative and gcc has always done it.
    return (x + offset) >> shift;
}

// a x b / 2^frac with rounding: the product of a value with a Q(frac) factor.
constexpr int64_t mul_round(int32_t a, int32_t b, int frac, Rounding rounding, uint32_t random) {
    return shift_round(static_cast<int64_t>(a) * static_cast<int64_t>(b), frac, rounding, random);
}

// x times a 1.15 factor (0 <= q15 <= 32767), rounded.
constexpr int64_t mul_q15(int32_t x, uint16_t q15, Rounding rounding, uint32_t random) {
    return mul_round(x, static_cast<int32_t>(q15), 15, rounding, random);
}

// Re-expresses a raw value of format `from` in format `to` (rounding when fractional bits
// are dropped), saturated to to.bits.
constexpr int32_t convert(int32_t raw, QFormat from, QFormat to, Rounding rounding, uint32_t random) {
    const int64_t shifted = to.frac >= from.frac
        ? static_cast<int64_t>(raw) * (int64_t{1} << (to.frac - from.frac))
        : shift_round(raw, from.frac - to.frac, rounding, random);
    return sat_signed(shifted, to.bits);
}

// A value with a compile-time Q format, for firmware kernels that want the format in the
// type. Every operation saturates to Bits; multiplication takes the rounding explicitly.
template <int Bits, int Frac>
struct Fixed {
    static_assert(Bits >= 2 && Bits <= 32 && Frac >= 0 && Frac < Bits, "bad Q format");
    static constexpr QFormat format{Bits, Frac};
    int32_t raw = 0;

    static constexpr Fixed from_raw(int64_t r) { return Fixed{sat_signed(r, Bits)}; }
    constexpr Fixed operator+(Fixed o) const { return Fixed{sat_add(raw, o.raw, Bits)}; }
    constexpr Fixed operator-(Fixed o) const { return from_raw(static_cast<int64_t>(raw) - o.raw); }
    template <int B2, int F2>
    constexpr Fixed mul(Fixed<B2, F2> o, Rounding rounding, uint32_t random = 0) const {
        return from_raw(mul_round(raw, o.raw, F2, rounding, random));
    }
    constexpr bool operator==(Fixed o) const { return raw == o.raw; }
};

using Q1_15 = Fixed<16, 15>;   // leak and decay factors
using S16_15 = Fixed<32, 15>;  // SpiNNaker e-prop's s16.15

}  // namespace fw
}  // namespace qrsim
