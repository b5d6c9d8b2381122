// The firmware's integer Adam against the float Adam (same betas) on a gradient sequence,
// and its integer square root against the exact one.
#include "firmware/adam.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>

using namespace qrsim::fw;

TEST_CASE("isqrt64 is the floor of the square root", "[firmware][adam]") {
    std::mt19937_64 rng(3);
    for (uint64_t x : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{4}, uint64_t{99}, uint64_t{1} << 62,
                       (uint64_t{1} << 62) - 1, ~uint64_t{0}}) {
        const unsigned __int128 r = isqrt64(x);
        CHECK(r * r <= x);
        CHECK((r + 1) * (r + 1) > x);
    }
    for (int i = 0; i < 10000; ++i) {
        const uint64_t x = rng() >> (rng() % 40);
        const uint64_t r = isqrt64(x);
        REQUIRE(r * r <= x);
        REQUIRE((r + 1) * (r + 1) > x);
    }
}

TEST_CASE("integer Adam steps follow the float Adam within 1 %", "[firmware][adam]") {
    // A noisy gradient with a drifting mean, in accumulator units (thousands).
    std::mt19937_64 rng(5);
    std::normal_distribution<double> noise(0.0, 3000.0);
    const double beta1 = 0.9, beta2 = 1.0 - std::ldexp(1.0, -kAdamBeta2Shift);
    double m = 0, v = 0;
    int32_t mi = 0, ri = 0;
    uint32_t b1 = kAdamOneQ30, b2 = kAdamOneQ30;
    const int32_t mult = 1 << 14;  // step 1.0 in units of 2^-14
    double worst = 0;
    for (int t = 1; t <= 2000; ++t) {
        const int64_t g = std::llround(2000.0 * std::sin(t / 150.0) + noise(rng));
        m = beta1 * m + (1 - beta1) * g;
        v = beta2 * v + (1 - beta2) * double(g) * double(g);
        const double expected = -(m / (1 - std::pow(beta1, t))) / std::sqrt(v / (1 - std::pow(beta2, t)));
        const int32_t corr = adam_correction(b1, b2);
        const double got = std::ldexp(static_cast<double>(adam_moments_step(g, mi, ri, corr, mult)), -14);
        if (t > 5) worst = std::max(worst, std::abs(got - expected) / std::max(std::abs(expected), 0.05));
    }
    INFO("worst relative error of a step " << worst);
    CHECK(worst < 0.01);
}
