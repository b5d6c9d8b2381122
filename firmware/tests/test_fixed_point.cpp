// Firmware arithmetic against hand-computed values (every expected number is worked out
// in the comment next to it).
#include "firmware/fixed_point.hpp"
#include "firmware/lfsr.hpp"
#include "firmware/lfsr.hpp"
#include "firmware/memory_map.hpp"
#include "firmware/neuron_core.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace qrsim::fw;

TEST_CASE("saturation and saturating add clip to the bit width", "[firmware]") {
    CHECK(sat_signed(40000, 16) == 32767);
    CHECK(sat_signed(-40000, 16) == -32768);
    CHECK(sat_signed(-5, 16) == -5);
    CHECK(sat_unsigned(-3, 12) == 0);
    CHECK(sat_unsigned(5000, 12) == 4095);
    CHECK(sat_add(30000, 5000, 16) == 32767);
    CHECK(sat_add(-30000, -5000, 16) == -32768);
    CHECK(sat_add(100, -30, 8) == 70);
    using Q8 = Fixed<8, 4>;
    CHECK((Q8{100} + Q8{100}).raw == 127);
    CHECK((Q8{-100} - Q8{100}).raw == -128);
}

// Learning rates of 2^-40 and below are ordinary (stochastic-mode SGD steps): a step far below
// one LSB must still be taken with its probability, for either sign.
TEST_CASE("stochastic rounding stays unbiased for shifts beyond the 32-bit draw", "[firmware]") {
    Lfsr32 lfsr;
    lfsr.seed(12345);
    for (const int shift : {33, 40, 48}) {
        for (const double value : {0.75, -0.75, 0.01, -0.01, 2.3, -2.3}) {
            const int64_t x = std::llround(std::ldexp(value, shift));
            const int n = 200000;
            double sum = 0;
            for (int i = 0; i < n; ++i) sum += static_cast<double>(shift_round(x, shift, round_stochastic, lfsr.next()));
            INFO("shift " << shift << " value " << value);
            CHECK(sum / n == Approx(value).margin(0.01));
        }
    }
}

TEST_CASE("multiply with nearest, floor and stochastic rounding", "[firmware]") {
    // 1000 x 0.5 = 500 exactly.
    CHECK(mul_q15(1000, 16384, round_nearest, 0) == 500);
    // 3 x 0.5 = 1.5: nearest -> 2, floor -> 1; -1.5: nearest -> -1 (ties up), floor -> -2.
    CHECK(mul_q15(3, 16384, round_nearest, 0) == 2);
    CHECK(mul_q15(3, 16384, round_floor, 0) == 1);
    CHECK(mul_q15(-3, 16384, round_nearest, 0) == -1);
    CHECK(mul_q15(-3, 16384, round_floor, 0) == -2);
    // 1000 x 31170/32768 = 951.23 -> 951 (alpha = exp(-1/20) in 1.15).
    CHECK(mul_q15(1000, 31170, round_nearest, 0) == 951);
    // Stochastic: 3 x 0.5 = 49152 / 2^15; dither r < 16384 gives 1, r >= 16384 gives 2.
    CHECK(mul_q15(3, 16384, round_stochastic, 0x3FFF) == 1);
    CHECK(mul_q15(3, 16384, round_stochastic, 0x4000) == 2);
    // Only the low 15 bits of the draw are the dither.
    CHECK(mul_q15(3, 16384, round_stochastic, 0xFFFF8000u) == 1);
    // Unbiased: over every dither value the mean is exactly 1.5.
    int64_t sum = 0;
    for (uint32_t r = 0; r < 32768; ++r) sum += mul_q15(3, 16384, round_stochastic, r);
    CHECK(sum == 3 * 16384);
    // Q-format product: 1.5 (Q4: 24) x 2.25 (Q4: 36) = 3.375 (Q4: 54).
    CHECK((Fixed<16, 4>{24}.mul(Fixed<16, 4>{36}, round_nearest)).raw == 54);
    // Conversion Q4 -> Q2: 27/16 = 1.6875 -> 6.75/4 -> nearest 7.
    CHECK(convert(27, QFormat{16, 4}, QFormat{8, 2}, round_nearest, 0) == 7);
    CHECK(convert(27, QFormat{16, 4}, QFormat{8, 6}, round_nearest, 0) == 108);
}

TEST_CASE("Galois LFSR sequence", "[firmware]") {
    Lfsr32 l;
    l.seed(1);
    CHECK(l.next() == 0x80200003u);  // lsb 1: 0 ^ taps
    CHECK(l.next() == 0xC0300002u);  // lsb 1: 0x40100001 ^ taps
    CHECK(l.next() == 0x60180001u);  // lsb 0: plain shift
    l.seed(0);
    CHECK(l.state != 0u);  // a zero seed would lock the register
    CHECK(lfsr_seed(7, 0) != lfsr_seed(7, 1));
}

TEST_CASE("LIF step: leak, integrate, threshold, reset by subtraction, refractory", "[firmware]") {
    NeuronConfig c;
    c.v_th = 100;
    c.alpha.q15 = 16384;  // 0.5
    c.refractory = 2;
    NeuronState s;
    Lfsr32 l;
    CHECK(neuron_step(c, s, 150, 0, l) == 1);  // v = 150 >= 100
    CHECK(s.v == 150);
    CHECK(neuron_step(c, s, 0, 0, l) == 0);  // v = 75 - 100 = -25, refractory 2 -> 1
    CHECK(s.v == -25);
    CHECK(neuron_step(c, s, 200, 0, l) == 0);  // v = round(-12.5) = -12, + 200 = 188; refractory 1 -> 0
    CHECK(s.v == 188);
    CHECK(neuron_step(c, s, 0, 0, l) == 0);  // v = 94 < 100
    CHECK(s.v == 94);
    CHECK(neuron_step(c, s, 53, 0, l) == 1);  // v = 47 + 53 = 100 >= 100: H(0) = 1
    // Saturation to v_bits: 8-bit membrane.
    NeuronConfig c8 = c;
    c8.v_bits = 8;
    NeuronState s8;
    neuron_step(c8, s8, 1000, 0, l);
    CHECK(s8.v == 127);
    neuron_step(c8, s8, -5000, 0, l);
    CHECK(s8.v == -128);
}

TEST_CASE("LIF with shift leak and reset to zero", "[firmware]") {
    NeuronConfig c;
    c.v_th = 2000;
    c.leak = leak_shift;
    c.alpha.shift = 5;
    c.reset = reset_zero;
    NeuronState s;
    Lfsr32 l;
    s.v = 1000;
    CHECK(neuron_step(c, s, 0, 0, l) == 0);  // 1000 - round(31.25) = 969
    CHECK(s.v == 969);
    CHECK(neuron_step(c, s, 1100, 0, l) == 1);  // 969 - 30 + 1100 = 2039
    CHECK(neuron_step(c, s, 30, 0, l) == 0);    // reset to zero: 0 + 30
    CHECK(s.v == 30);
}

TEST_CASE("ALIF step: adaptive threshold", "[firmware]") {
    NeuronConfig c;
    c.v_th = 100;
    c.alpha.q15 = 16384;
    c.rho.q15 = 16384;
    c.beta = 50;
    c.a_frac = 4;
    c.adaptive = true;
    NeuronState s;
    Lfsr32 l;
    CHECK(neuron_step(c, s, 100, 0, l) == 1);  // a = 0, A = 100
    CHECK(neuron_step(c, s, 200, 0, l) == 1);  // a = 16, A = 150; v = 50 + 200 - 100 = 150
    CHECK(s.a == 16);
    CHECK(neuron_step(c, s, 0, 0, l) == 0);  // a = 8 + 16 = 24, A = 175; v = 75 - 100 = -25
    CHECK(s.a == 24);
    CHECK(threshold(c, s) == 175);
    CHECK(s.v == -25);
}

TEST_CASE("stochastic leak draws one LFSR value per decay", "[firmware]") {
    NeuronConfig c;
    c.v_th = 1 << 20;
    c.v_bits = 24;
    c.alpha.q15 = 16384;
    c.rounding = round_stochastic;
    NeuronState s;
    Lfsr32 l, expect;
    l.seed(5);
    expect.seed(5);
    s.v = 3;
    neuron_step(c, s, 0, 0, l);
    // 3 x 0.5 = 1.5: dither is the low 15 bits of the first draw.
    const uint32_t r = expect.next();
    CHECK(s.v == ((r & 0x7FFF) >= 0x4000 ? 2 : 1));
    CHECK(l.state == expect.state);
    CHECK(draws_per_step(c) == 1);
}

TEST_CASE("readout step", "[firmware]") {
    NeuronConfig c;
    c.alpha.q15 = 16384;
    int32_t y = 0;
    Lfsr32 l;
    CHECK(readout_step(c, y, 10, 3, l) == 13);
    CHECK(readout_step(c, y, 0, 3, l) == 10);  // round(6.5) = 7, + 3
}

TEST_CASE("CAM entry layout and weight codes", "[firmware]") {
    const EntryLayout d2{code_dynapse2, 4, 11};
    CHECK(entry_bits(d2) == 17);  // valid + 11-bit tag + sign + 4-bit mask
    const uint32_t e = pack_entry(d2, 1234, -5);
    CHECK(entry_is_valid(d2, e));
    CHECK(entry_address(d2, e) == 1234);
    CHECK(entry_code(d2, e) == -5);
    CHECK_FALSE(code_valid(code_dynapse2, 4, 0));
    CHECK_FALSE(code_valid(code_dynapse2, 4, 16));
    const int32_t bases[4] = {10, 20, 40, 80};
    CHECK(code_weight(code_dynapse2, 4, bases, -5) == -50);  // mask 0101: 10 + 40
    CHECK(code_weight(code_dynapse2, 4, bases, 15) == 150);
    int32_t table[32];
    expand_lut(code_dynapse2, 4, bases, table);
    CHECK(table[lut_index(code_dynapse2, 4, -5)] == -50);
    CHECK(table[lut_index(code_dynapse2, 4, 6)] == 60);

    const EntryLayout u4{code_uniform, 4, 8};
    CHECK(entry_bits(u4) == 13);
    CHECK(code_valid(code_uniform, 4, -7));
    CHECK_FALSE(code_valid(code_uniform, 4, -8));
    CHECK(encode_code(code_uniform, 4, -1) == 0xFu);
    CHECK(entry_code(u4, pack_entry(u4, 255, -7)) == -7);
    CHECK(entry_address(u4, pack_entry(u4, 255, -7)) == 255);
    CHECK(lut_size(code_uniform, 4) == 15);

    const int32_t d1[4] = {5, 9, 6, 12};
    CHECK(code_weight(code_dynapse1, 2, d1, 1) == 9);
    CHECK(code_weight(code_dynapse1, 2, d1, 3) == -12);
}
