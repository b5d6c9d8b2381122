// NIR interchange: the round trip checkpoint -> NIR file -> checkpoint bit for bit, the
// discretisation against the continuous-time solution, a recurrent CubaLIF network against
// a step-by-step reference written from NIR's equations, and graphs qrsim cannot hold.
#include "learning_rules/rsnn_stepper.hpp"
#include "nir/nir_file.hpp"
#include "nir/nir_network.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace qrsim;

namespace {

Matrix random_matrix(int rows, int cols, std::mt19937_64& rng, double scale) {
    std::normal_distribution<double> n(0.0, scale);
    Matrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
    return m;
}

Checkpoint random_checkpoint(const RsnnParams& p, uint64_t seed) {
    std::mt19937_64 rng(seed);
    Checkpoint cp;
    cp.params = p;
    cp.weights.resize_zero(p);
    cp.weights.w_in = random_matrix(p.n_rec, p.n_in, rng, 0.3);
    cp.weights.w_rec = random_matrix(p.n_rec, p.n_rec, rng, 0.2);
    cp.weights.w_rec.diagonal().setZero();
    cp.weights.w_out = random_matrix(p.n_out, p.n_rec, rng, 0.5);
    cp.weights.b_out = random_matrix(p.n_out, 1, rng, 0.1);
    cp.weights.b_rec = random_matrix(p.n_rec, 1, rng, 0.05);
    cp.config = {{"task", {{"name", "fmnist-rows"}}}, {"seed", 7}};
    return cp;
}

Checkpoint through_nir(const Checkpoint& cp) {
    std::vector<std::string> notes;
    const std::string bytes = nir_to_bytes(nir_from_checkpoint(cp, notes));
    return checkpoint_from_nir(nir_from_bytes(bytes, "memory"), {}, "memory");
}

// Checkpoint text holds every double in shortest round-trip form: equal text, equal bits
// (params, weights, config and extra alike).
void check_bit_exact(const Checkpoint& a, const Checkpoint& b) { CHECK(checkpoint_text(a) == checkpoint_text(b)); }

// A NIR graph written from the spec: Input -> Affine -> CubaLIF (+ Linear back) -> Affine -> LI -> Output.
NirGraph cuba_graph(int n_in, int n, int n_out, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.5, 1.5);
    auto per = [&](double base) {
        std::vector<double> v(static_cast<size_t>(n));
        for (double& x : v) x = base * u(rng);
        return NirArray::vector(v);
    };
    auto matrix = [&](int rows, int cols, double scale) {
        NirArray a;
        a.shape = {rows, cols};
        const Matrix m = random_matrix(rows, cols, rng, scale);
        a.values.assign(m.data(), m.data() + m.size());
        return a;
    };
    NirGraph g;
    g.version = "1.0";
    NirArray shape_in = NirArray::vector({double(n_in)}), shape_out = NirArray::vector({double(n_out)});
    shape_in.integer = shape_out.integer = true;
    g.nodes["in"] = {"Input", {{"shape", shape_in}}, {}};
    g.nodes["fc1"] = {"Affine", {{"weight", matrix(n, n_in, 2.0)}, {"bias", per(0.5)}}, {}};
    g.nodes["lif1"] = {"CubaLIF",
                       {{"tau_mem", NirArray::vector(std::vector<double>(n, 0.02))},
                        {"tau_syn", NirArray::vector(std::vector<double>(n, 0.005))},
                        {"r", per(20.0)},           // per neuron, not the unit gain
                        {"w_in", per(1.0)},
                        {"v_leak", NirArray::vector(std::vector<double>(n, 0.0))},
                        {"v_threshold", NirArray::vector(std::vector<double>(n, 1.0))},
                        {"v_reset", NirArray::vector(std::vector<double>(n, 0.0))}},
                       {}};
    g.nodes["rec"] = {"Linear", {{"weight", matrix(n, n, 1.5)}}, {}};
    g.nodes["fc2"] = {"Affine", {{"weight", matrix(n_out, n, 1.0)}, {"bias", NirArray::vector(std::vector<double>(n_out, 0.1))}}, {}};
    g.nodes["li"] = {"LI",
                     {{"tau", NirArray::vector(std::vector<double>(n_out, 0.01))},
                      {"r", NirArray::vector(std::vector<double>(n_out, 2.0))},
                      {"v_leak", NirArray::vector(std::vector<double>(n_out, 0.25))}},
                     {}};
    g.nodes["out"] = {"Output", {{"shape", shape_out}}, {}};
    g.edges = {{"in", "fc1"}, {"fc1", "lif1"}, {"lif1", "rec"}, {"rec", "lif1"}, {"lif1", "fc2"}, {"fc2", "li"}, {"li", "out"}};
    return g;
}

std::string import_error(const NirGraph& g) {
    try {
        checkpoint_from_nir(g, {}, "g.nir");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("checkpoint to NIR to checkpoint is bit-exact", "[nir]") {
    RsnnParams lif;  // qrsim's defaults: reset by subtraction, 2 refractory steps
    lif.n_in = 9, lif.n_rec = 12, lif.n_out = 4;
    RsnnParams cuba = lif;  // odd times whose ms -> s -> ms conversion is not exact on its own
    cuba.tau_m = 23.7, cuba.tau_syn = 4.3, cuba.tau_syn_out = 2.9, cuba.tau_out = 17.1, cuba.dt = 0.7;
    cuba.reset_to_zero = 1, cuba.refractory = 0, cuba.v_th = 0.45;
    for (const RsnnParams& p : {lif, cuba}) {
        INFO("tau_syn " << p.tau_syn);
        const Checkpoint cp = random_checkpoint(p, 3);
        check_bit_exact(cp, through_nir(cp));
    }
    SECTION("a feed-forward network keeps its layers") {
        RsnnParams mlp = lif;
        mlp.n_rec = 10, mlp.tau_m = 1e9, mlp.refractory = 0;
        Checkpoint cp = random_checkpoint(mlp, 5);
        cp.weights.w_in.bottomRows(4).setZero();  // layers of 6 and 4
        Matrix rec = Matrix::Zero(10, 10);
        rec.block(6, 0, 4, 6) = cp.weights.w_rec.block(6, 0, 4, 6);
        cp.weights.w_rec = rec;
        cp.weights.w_out.leftCols(6).setZero();
        cp.extra = {{"nir", {{"layers", {6, 4}}}}};
        std::vector<std::string> notes;
        const NirGraph g = nir_from_checkpoint(cp, notes);
        CHECK(g.nodes.count("lif0") == 1);
        CHECK(g.nodes.count("lif1") == 1);
        CHECK(g.nodes.count("fc_rec") == 0);
        const Checkpoint back = through_nir(cp);
        check_bit_exact(cp, back);
    }
}

TEST_CASE("a NIR LIF under a constant input follows the continuous-time solution", "[nir]") {
    // tau dv/dt = v_leak - v + r b from v = 0: v(t) = (v_leak + r b)(1 - exp(-t / tau)).
    NirGraph g = cuba_graph(3, 2, 2, 1);
    g.nodes["lif1"] = {"LIF",
                       {{"tau", NirArray::vector({0.02, 0.02})},
                        {"r", NirArray::vector({1.0, 3.0})},
                        {"v_leak", NirArray::vector({0.3, -0.1})},
                        {"v_threshold", NirArray::vector({100.0, 100.0})}},
                       {}};
    g.nodes["fc1"].params["bias"] = NirArray::vector({0.5, 0.2});
    const double dt_s = 0.0005;
    NirImportOptions options;
    options.dt_ms = dt_s * 1000;
    const Checkpoint cp = checkpoint_from_nir(g, options, "g.nir");
    const double decay = std::exp(-dt_s / 0.02);
    CHECK(cp.params.tau_m == Approx(20.0).epsilon(1e-15));
    CHECK(cp.params.reset_to_zero == 1);
    CHECK(cp.params.refractory == 0);
    CHECK(cp.weights.w_in(1, 2) == Approx(3.0 * (1 - decay) * g.nodes["fc1"].params["weight"].values[1 * 3 + 2]).epsilon(1e-14));

    PreparedWeights w;
    w.prepare(cp.weights);
    RsnnStepper stepper(cp.params);
    SpikeSample silent;
    for (int t = 0; t < 400; ++t) silent.begin_step();
    const double v_inf[2] = {0.3 + 1.0 * 0.5, -0.1 + 3.0 * 0.2};
    double worst = 0;
    for (int t = 0; t < 400; ++t) {
        stepper.step(w, silent, t);
        for (int j = 0; j < 2; ++j)
            worst = std::max(worst, std::abs(stepper.v()[j] - v_inf[j] * (1 - std::exp(-(t + 1) * dt_s / 0.02))));
    }
    INFO("largest deviation from the continuous solution " << worst);
    CHECK(worst < 1e-12);
    CHECK(stepper.v()[0] > 0.79);  // 400 steps = 10 tau: near v_inf, the check is not vacuous
}

TEST_CASE("a recurrent CubaLIF network from NIR spikes as a reference written from the NIR equations", "[nir]") {
    const int n_in = 6, n = 10, n_out = 3, steps = 300;
    const NirGraph g = cuba_graph(n_in, n, n_out, 9);
    const Checkpoint cp = checkpoint_from_nir(g, {}, "g.nir");  // dt 1 ms
    REQUIRE(cp.params.tau_syn == Approx(5.0));

    std::mt19937_64 rng(4);
    std::bernoulli_distribution fire(0.2);
    SpikeSample s;
    std::vector<std::vector<int>> x(steps, std::vector<int>(n_in, 0));
    for (int t = 0; t < steps; ++t) {
        s.begin_step();
        for (int i = 0; i < n_in; ++i)
            if (fire(rng)) s.add_spike(i), x[t][i] = 1;
    }
    PreparedWeights w;
    w.prepare(cp.weights);
    RsnnStepper stepper(cp.params);

    // The reference, in NIR's own units and parameters: per step of dt, with the input held,
    //   I <- a_s I + (1 - a_s) w_in (W x + W_rec z_prev + b),  v <- (z_prev ? v_reset : a v) + (1 - a) r I,
    //   z = v >= v_threshold (qrsim's convention at equality), readout y <- k y + (1 - k)(v_leak + r (W z + b)).
    const auto& P = g.nodes.at("lif1").params;
    const auto& W1 = g.nodes.at("fc1").params.at("weight").values;
    const auto& B1 = g.nodes.at("fc1").params.at("bias").values;
    const auto& WR = g.nodes.at("rec").params.at("weight").values;
    const auto& W2 = g.nodes.at("fc2").params.at("weight").values;
    const auto& B2 = g.nodes.at("fc2").params.at("bias").values;
    const double a = std::exp(-0.001 / 0.02), a_s = std::exp(-0.001 / 0.005), k = std::exp(-0.001 / 0.01);
    std::vector<double> I(n, 0), v(n, 0), y(n_out, 0);
    std::vector<int> z(n, 0), z_prev(n, 0);
    int spikes = 0, mismatches = 0;
    double worst_v = 0, worst_y = 0;
    for (int t = 0; t < steps; ++t) {
        z_prev = z;
        for (int j = 0; j < n; ++j) {
            double u = B1[j];
            for (int i = 0; i < n_in; ++i) u += W1[j * n_in + i] * x[t][i];
            for (int i = 0; i < n; ++i) u += WR[j * n + i] * z_prev[i];
            I[j] = a_s * I[j] + (1 - a_s) * P.at("w_in").values[j] * u;
            v[j] = (z_prev[j] ? 0.0 : a * v[j]) + (1 - a) * P.at("r").values[j] * I[j];
            z[j] = v[j] >= 1.0;
            spikes += z[j];
        }
        for (int c = 0; c < n_out; ++c) {
            double u = B2[c];
            for (int j = 0; j < n; ++j) u += W2[c * n + j] * z[j];
            y[c] = k * y[c] + (1 - k) * (0.25 + 2.0 * u);
        }
        stepper.step(w, s, t);
        for (int j = 0; j < n; ++j) {
            mismatches += stepper.z()[j] != z[j];
            worst_v = std::max(worst_v, std::abs(stepper.v()[j] - v[j]));
        }
        for (int c = 0; c < n_out; ++c) worst_y = std::max(worst_y, std::abs(stepper.y()[c] - y[c]));
    }
    INFO(spikes << " spikes, membrane within " << worst_v << ", readout within " << worst_y);
    CHECK(spikes > 100);  // the network is active: the comparison is not vacuous
    CHECK(mismatches == 0);
    CHECK(worst_v < 1e-12);
    CHECK(worst_y < 1e-12);
}

TEST_CASE("graphs qrsim cannot hold are refused naming the node", "[nir]") {
    const NirGraph good = cuba_graph(3, 4, 2, 2);
    REQUIRE_NOTHROW(checkpoint_from_nir(good, {}, "g.nir"));
    NirGraph g = good;
    g.nodes["fc1"].type = "Conv2d";
    CHECK_THAT(import_error(g), Catch::Contains("node 'fc1' (Conv2d)") && Catch::Contains("not supported"));
    g = good;
    g.nodes["lif1"].type = "Spiky";
    CHECK_THAT(import_error(g), Catch::Contains("node 'lif1' has the unknown NIR type 'Spiky'"));
    g = good;
    g.edges.push_back({"li", "fc1"});  // the readout back into the input projection
    CHECK_THAT(import_error(g), Catch::Contains("closes a cycle qrsim cannot hold"));
    g = good;
    g.edges = {{"in", "fc1"}, {"fc1", "lif1"}, {"lif1", "fc2"}, {"fc2", "li"}, {"li", "out"}, {"lif1", "rec"}, {"rec", "fc1"}};
    CHECK_THAT(import_error(g), Catch::Contains("closes a cycle qrsim cannot hold"));
    g = good;
    g.nodes["fc2"].params["weight"].shape = {1, 8};
    CHECK_THAT(import_error(g), Catch::Contains("node 'fc2' (Affine): weight is 1 x 8, its input has 4 values"));
    g = good;
    g.nodes["lif1"].params["v_reset"] = NirArray::scalar(0.2);
    CHECK_THAT(import_error(g), Catch::Contains("node 'lif1' (CubaLIF): v_reset != 0 is not supported"));
    g = good;
    g.nodes["lif1"].params["tau_mem"] = NirArray::vector({0.02, 0.02, 0.03, 0.02});
    CHECK_THAT(import_error(g), Catch::Contains("'tau_mem' differs across neurons"));
    g = good;
    g.nodes["lif1"].params.erase("v_threshold");
    CHECK_THAT(import_error(g), Catch::Contains("node 'lif1' (CubaLIF): missing parameter 'v_threshold'"));
    g = good;
    g.edges.push_back({"fc2", "out"});
    CHECK_THAT(import_error(g), Catch::Contains("node 'fc2' (Affine) must feed exactly one node"));
}

TEST_CASE("NIR file bytes: not HDF5 and non-finite parameters are refused", "[nir]") {
    CHECK_THROWS_WITH(nir_from_bytes("{\"format\": \"qrsim-rsnn\"}", "x.nir"), Catch::Contains("x.nir: not an HDF5 file"));
    NirGraph g = cuba_graph(3, 4, 2, 2);
    g.nodes["lif1"].params["r"].values[2] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(nir_from_bytes(nir_to_bytes(g), "x.nir"),
                      Catch::Contains("/node/nodes/lif1/r[2] is not finite"));
    std::string cut = nir_to_bytes(cuba_graph(3, 4, 2, 2));
    cut.resize(cut.size() / 2);
    CHECK_THROWS_WITH(nir_from_bytes(cut, "x.nir"), Catch::Contains("x.nir: HDF5 cannot read it"));
}

TEST_CASE("the unit-gain resistance and the time conversion", "[nir]") {
    const double alpha = std::exp(-1.0 / 20.0), alpha_syn = std::exp(-1.0 / 5.0);
    CHECK(nir_input_gain(nir_unit_gain_resistance(alpha, alpha_syn), 1.0, alpha, alpha_syn) == Approx(1.0).epsilon(1e-15));
    CHECK(nir_input_gain(2.0, 0.5, alpha, 0.0) == Approx(1 - alpha).epsilon(1e-15));
    CHECK(nir_seconds_from_ms(20.0) == 0.02);
    CHECK(nir_ms_from_seconds(0.02) == Approx(20.0).epsilon(1e-15));
}

TEST_CASE("mutated NIR files fail with one clean error or read", "[nir]") {
    // A libFuzzer-free check of the reader and the import (fuzz/fuzz_nir.cpp goes further):
    // random byte edits of a good file must give a graph or a std::runtime_error, never
    // another exception or a crash.
    const std::string good = nir_to_bytes(cuba_graph(3, 4, 2, 2));
    std::mt19937_64 rng(99);
    std::uniform_int_distribution<size_t> where(0, good.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255), edits(1, 8);
    int refused = 0, read = 0, contained = 0;  // contained: HDF5 crashed or hung in the reading process
    for (int trial = 0; trial < 300; ++trial) {
        std::string bytes = good;
        for (int e = edits(rng); e > 0; --e) bytes[where(rng)] = static_cast<char>(byte(rng));
        try {
            checkpoint_from_nir(nir_from_bytes(bytes, "m.nir", 2), {}, "m.nir");  // 2 s: the good file reads in ms
            ++read;
        } catch (const std::runtime_error& e) {
            ++refused;
            const std::string what = e.what();
            contained += what.find("HDF5 crashed") != std::string::npos || what.find("did not finish") != std::string::npos;
        }
    }
    INFO(read << " mutated files read, " << refused << " refused, " << contained << " of them as HDF5 crashes or hangs");
    CHECK(read + refused == 300);
    CHECK(refused > 0);
}
