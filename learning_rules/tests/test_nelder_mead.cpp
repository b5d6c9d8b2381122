// Nelder-Mead on functions whose minimum is known.
#include "learning_rules/nelder_mead.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace qrsim;

TEST_CASE("Nelder-Mead: 1-D parabola and a kink", "[nelder_mead]") {
    NelderMeadResult r = nelder_mead([](const std::vector<double>& x) { return (x[0] - 2.5) * (x[0] - 2.5) + 1; },
                                     {-3.0});
    REQUIRE(r.converged);
    REQUIRE(r.x[0] == Approx(2.5).margin(1e-4));
    REQUIRE(r.value == Approx(1.0).margin(1e-8));

    // |x - 0.3| has no derivative at its minimum: the simplex still closes in on it.
    r = nelder_mead([](const std::vector<double>& x) { return std::abs(x[0] - 0.3); }, {5.0}, {1.0, 400, 1e-6, 1e-9});
    REQUIRE(r.x[0] == Approx(0.3).margin(1e-5));
}

TEST_CASE("Nelder-Mead: Rosenbrock's valley in 2-D, a shifted bowl in 4-D", "[nelder_mead]") {
    auto rosenbrock = [](const std::vector<double>& x) {
        return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
    };
    NelderMeadOptions options;
    options.max_evaluations = 2000;
    options.x_tolerance = 1e-7;
    options.f_tolerance = 1e-14;
    const NelderMeadResult r = nelder_mead(rosenbrock, {-1.2, 1.0}, options);
    REQUIRE(r.converged);
    REQUIRE(r.x[0] == Approx(1.0).margin(1e-4));
    REQUIRE(r.x[1] == Approx(1.0).margin(1e-4));
    REQUIRE(r.evaluations < 2000);

    // Different curvature per axis (so shrink and contraction steps are exercised).
    const std::vector<double> centre{1, -2, 0.5, 3}, weight{1, 10, 0.1, 4};
    auto bowl = [&](const std::vector<double>& x) {
        double s = 0;
        for (size_t i = 0; i < x.size(); ++i) s += weight[i] * (x[i] - centre[i]) * (x[i] - centre[i]);
        return s;
    };
    const NelderMeadResult b = nelder_mead(bowl, {0, 0, 0, 0}, options);
    REQUIRE(b.converged);
    for (size_t i = 0; i < 4; ++i) REQUIRE(b.x[i] == Approx(centre[i]).margin(1e-4));
}

TEST_CASE("Nelder-Mead: never worse than the start, stops at the evaluation budget", "[nelder_mead]") {
    int calls = 0;
    auto f = [&](const std::vector<double>& x) {
        ++calls;
        return std::floor(std::abs(x[0]) + std::abs(x[1]));  // plateaus
    };
    NelderMeadOptions options;
    options.max_evaluations = 25;
    const NelderMeadResult r = nelder_mead(f, {3.2, -4.1}, options);
    REQUIRE(r.value <= 7.0);
    REQUIRE(r.evaluations == calls);
    REQUIRE(r.evaluations <= 25 + 3);  // the last iteration may take up to 2 + N evaluations
    REQUIRE_THROWS_AS(nelder_mead(f, {}), std::invalid_argument);
}
