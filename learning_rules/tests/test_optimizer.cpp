// The optimisers against hand-computed steps.
#include "learning_rules/optimizer.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

using namespace qrsim;

TEST_CASE("SGD with momentum: hand-computed steps", "[optimizer]") {
    double w[2] = {1.0, -2.0};
    double g[2] = {0.5, -1.0};
    Sgd sgd(0.5);
    const std::vector<ParamRef> refs{{w, g, 2}};
    sgd.step(refs, 0.1);  // u = g
    CHECK(w[0] == Approx(1.0 - 0.05));
    CHECK(w[1] == Approx(-2.0 + 0.1));
    sgd.step(refs, 0.1);  // u = 0.5 g + g
    CHECK(w[0] == Approx(0.95 - 0.075));
    CHECK(w[1] == Approx(-1.9 + 0.15));
}

TEST_CASE("Adam: the first step moves every parameter by lr / unit against its gradient's sign", "[optimizer]") {
    double w[3] = {0.0, 0.0, 0.0};
    double g[3] = {1e-3, -300.0, 0.0};
    Adam adam;
    adam.step({{w, g, 3, 2.0}}, 0.01);
    // bias-corrected m / sqrt(v) = g / |g| up to eps = 1e-8 against sqrt(v) = 0.0316 |g|
    CHECK(w[0] == Approx(-0.005).epsilon(1e-3));  // eps / sqrt(v) = 3e-4
    CHECK(w[1] == Approx(0.005).epsilon(1e-8));
    CHECK(w[2] == 0.0);
}

TEST_CASE("Signum: steps of exactly lr / unit against the sign of the momentum", "[optimizer]") {
    double w[3] = {0.0, 0.0, 0.0};
    double g[3] = {1e-9, -300.0, 0.0};
    Signum signum(0.5);
    const std::vector<ParamRef> refs{{w, g, 3, 4.0}};
    signum.step(refs, 0.02);  // m = 0.5 g
    CHECK(w[0] == -0.005);
    CHECK(w[1] == 0.005);
    CHECK(w[2] == 0.0);
    g[1] = 100.0;  // m = 0.25 (-300) + 0.5 (100) < 0: still steps up
    signum.step(refs, 0.02);
    CHECK(w[1] == 0.01);
    g[1] = 400.0;  // m = -37.5 + 200 > 0: steps down
    signum.step(refs, 0.02);
    CHECK(w[1] == 0.005);
}

TEST_CASE("make_optimizer names the field on an unknown optimizer", "[optimizer]") {
    CHECK(make_optimizer("signum", 0.0) != nullptr);
    CHECK_THROWS_WITH(make_optimizer("rmsprop", 0.9), Catch::Contains("train.optimizer") && Catch::Contains("signum"));
}
