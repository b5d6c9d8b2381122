// Gradient checks of the float reference: BPTT against central finite differences on a
// smooth relaxation, and e-prop against BPTT where the theory says they coincide.
#include "learning_rules/gradients.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace qrsim;

namespace {

RsnnParams small_params(int n_alif) {
    RsnnParams p;
    p.n_in = 7;
    p.n_rec = 8;
    p.n_alif = n_alif;
    p.n_out = 3;
    p.tau_a = 50.0;  // short, so adaptation matters within the sample
    p.beta = 1.5;
    return p;
}

TaskInfo small_task(int steps) {
    TaskInfo info;
    info.name = "synthetic";
    info.n_inputs = 7;
    info.n_steps = steps;
    info.n_classes = 3;
    info.readout_begin = steps - 6;
    return info;
}

SpikeSample random_sample(const TaskInfo& info, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution fire(0.25);
    SpikeSample s;
    s.label = 1;
    for (int t = 0; t < info.n_steps; ++t) {
        s.begin_step();
        for (int i = 0; i < info.n_inputs; ++i)
            if (fire(rng)) s.add_spike(i);
    }
    return s;
}

RsnnWeights random_weights(const RsnnParams& p, uint64_t seed, double rec_scale) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> n(0.0, 1.0);
    RsnnWeights w;
    w.resize_zero(p);
    for (int j = 0; j < p.n_rec; ++j) {
        for (int i = 0; i < p.n_in; ++i) w.w_in(j, i) = 0.6 * n(rng);
        for (int i = 0; i < p.n_rec; ++i) w.w_rec(j, i) = i == j ? 0.0 : rec_scale * n(rng);
    }
    for (int k = 0; k < p.n_out; ++k) {
        for (int j = 0; j < p.n_rec; ++j) w.w_out(k, j) = 0.5 * n(rng);
        w.b_out[k] = 0.1 * n(rng);
    }
    // Fixed hidden biases (a converted network's bias registers): part of the forward pass
    // the gradients differentiate through, not trained.
    for (int j = 0; j < p.n_rec; ++j) w.b_rec[j] = 0.05 * n(rng);
    return w;
}

// The loss by a forward pass alone, independent of the backward code.
double forward_loss(const RsnnParams& p, const RsnnWeights& weights, const SpikeSample& s,
                    const TaskInfo& info, const GradientOptions& opt) {
    PreparedWeights w;
    w.prepare(weights);
    RsnnStepper stepper(p, opt.spike_fn);
    ReadoutLoss loss(info, s.label);
    Vector err, counts = Vector::Zero(p.n_rec);
    for (int t = 0; t < s.n_steps(); ++t) {
        stepper.step(w, s, t);
        loss.step(t, stepper.y(), err);
        counts += stepper.z();
    }
    double reg = 0;
    Vector dz;
    if (opt.reg_coeff > 0) rate_regularisation_gradient(counts, s.n_steps(), opt.reg_coeff, opt.reg_rate_hz, p.dt, dz, reg);
    return loss.loss() + reg;
}

double relative_error(const Matrix& a, const Matrix& b) {
    return (a - b).norm() / std::max(b.norm(), 1e-300);
}

// Central differences of forward_loss for every entry of one weight matrix.
Matrix finite_differences(const RsnnParams& p, RsnnWeights w, Matrix RsnnWeights::*field,
                          const SpikeSample& s, const TaskInfo& info, const GradientOptions& opt) {
    const double h = 1e-6;
    Matrix& m = w.*field;
    Matrix g(m.rows(), m.cols());
    for (int r = 0; r < m.rows(); ++r)
        for (int c = 0; c < m.cols(); ++c) {
            const double keep = m(r, c);
            m(r, c) = keep + h;
            const double up = forward_loss(p, w, s, info, opt);
            m(r, c) = keep - h;
            const double down = forward_loss(p, w, s, info, opt);
            m(r, c) = keep;
            g(r, c) = (up - down) / (2 * h);
        }
    return g;
}

}  // namespace

TEST_CASE("BPTT equals central finite differences on the smooth relaxation", "[gradients]") {
    const RsnnParams p = [] { auto q = small_params(4); q.refractory = 0; return q; }();
    const TaskInfo info = small_task(30);
    const SpikeSample s = random_sample(info, 11);
    const RsnnWeights weights = random_weights(p, 12, 0.4);
    GradientOptions opt;
    opt.spike_fn.smooth = true;
    opt.reset_gradient = true;  // the relaxation's exact gradient includes the reset path
    opt.reg_coeff = 0.5;

    PreparedWeights w;
    w.prepare(weights);
    GradientSum grad;
    grad.resize_zero(p);
    Bptt bptt(p, opt);
    const SampleOutcome out = bptt.accumulate(w, s, info, grad);
    CHECK(out.loss == Approx(forward_loss(p, weights, s, info, opt)).epsilon(1e-12));
    RsnnWeights g;
    grad.to_weights(g, 1.0);

    Matrix fd_rec = finite_differences(p, weights, &RsnnWeights::w_rec, s, info, opt);
    for (int j = 0; j < p.n_rec; ++j) fd_rec(j, j) = g.w_rec(j, j);  // self-connections are not part of the model
    CHECK(relative_error(g.w_in, finite_differences(p, weights, &RsnnWeights::w_in, s, info, opt)) < 1e-5);
    CHECK(relative_error(g.w_rec, fd_rec) < 1e-5);
    CHECK(relative_error(g.w_out, finite_differences(p, weights, &RsnnWeights::w_out, s, info, opt)) < 1e-5);
    CHECK(g.w_in.norm() > 1e-3);  // the check is not vacuous
    CHECK(g.w_rec.norm() > 1e-3);
}

TEST_CASE("BPTT equals central finite differences for current-based neurons that reset to zero", "[gradients]") {
    // CubaLIF hidden neurons (a synaptic current filter before the membrane), a CubaLI
    // readout and reset to zero: the models NIR's CubaLIF and CubaLI map onto.
    for (int n_alif : {0, 4}) {
        RsnnParams p = small_params(n_alif);
        p.refractory = 0;
        p.tau_syn = 5.0;
        p.tau_syn_out = 3.0;
        p.reset_to_zero = 1;
        const TaskInfo info = small_task(30);
        const SpikeSample s = random_sample(info, 41 + n_alif);
        const RsnnWeights weights = random_weights(p, 42, 0.4);
        GradientOptions opt;
        opt.spike_fn.smooth = true;
        opt.reset_gradient = true;
        opt.reg_coeff = 0.5;

        PreparedWeights w;
        w.prepare(weights);
        GradientSum grad;
        grad.resize_zero(p);
        const SampleOutcome out = Bptt(p, opt).accumulate(w, s, info, grad);
        INFO("ALIF neurons: " << n_alif);
        CHECK(out.loss == Approx(forward_loss(p, weights, s, info, opt)).epsilon(1e-12));
        RsnnWeights g;
        grad.to_weights(g, 1.0);
        Matrix fd_rec = finite_differences(p, weights, &RsnnWeights::w_rec, s, info, opt);
        for (int j = 0; j < p.n_rec; ++j) fd_rec(j, j) = g.w_rec(j, j);
        CHECK(relative_error(g.w_in, finite_differences(p, weights, &RsnnWeights::w_in, s, info, opt)) < 1e-5);
        CHECK(relative_error(g.w_rec, fd_rec) < 1e-5);
        CHECK(relative_error(g.w_out, finite_differences(p, weights, &RsnnWeights::w_out, s, info, opt)) < 1e-5);
        CHECK(g.w_in.norm() > 1e-3);
        CHECK(g.w_rec.norm() > 1e-3);
        // The filters really change the gradient: without them it is another one.
        RsnnParams plain = p;
        plain.tau_syn = plain.tau_syn_out = 0;
        plain.reset_to_zero = 0;
        GradientSum other;
        other.resize_zero(plain);
        Bptt(plain, opt).accumulate(w, s, info, other);
        RsnnWeights g_plain;
        other.to_weights(g_plain, 1.0);
        CHECK(relative_error(g_plain.w_in, g.w_in) > 1e-2);
    }
}

TEST_CASE("e-prop refuses neurons its traces are not derived for", "[gradients]") {
    for (int variant = 0; variant < 2; ++variant) {
        RsnnParams p = small_params(0);
        (variant == 0 ? p.tau_syn : p.tau_syn_out) = 5.0;
        if (variant == 1) p.reset_to_zero = 1;
        const TaskInfo info = small_task(10);
        const SpikeSample s = random_sample(info, 1);
        PreparedWeights w;
        w.prepare(random_weights(p, 2, 0.1));
        GradientSum grad;
        grad.resize_zero(p);
        Eprop eprop(p, GradientOptions{});
        CHECK_THROWS_WITH(eprop.accumulate(w, w.w_out_t, s, info, grad), Catch::Contains("train this network with BPTT"));
        CHECK_FALSE(eprop_supports(p));
    }
    CHECK(eprop_supports(small_params(4)));
}

TEST_CASE("e-prop equals BPTT without recurrent weights", "[gradients]") {
    for (bool online : {false, true})
    for (int n_alif : {0, 4, 8}) {
        const RsnnParams p = small_params(n_alif);
        const TaskInfo info = small_task(60);
        const SpikeSample s = random_sample(info, 21 + n_alif);
        RsnnWeights weights = random_weights(p, 22, 0.0);
        weights.w_in *= 1.5;  // enough input that the neurons spike and hit refractoriness
        GradientOptions opt;  // pseudo-derivative, no gradient through the reset
        opt.reg_coeff = 0.3;
        opt.online_traces = online;

        PreparedWeights w;
        w.prepare(weights);
        GradientSum g_bptt, g_eprop;
        g_bptt.resize_zero(p);
        g_eprop.resize_zero(p);
        Bptt bptt(p, opt);
        Eprop eprop(p, opt);
        const SampleOutcome a = bptt.accumulate(w, s, info, g_bptt);
        const SampleOutcome b = eprop.accumulate(w, w.w_out_t, s, info, g_eprop);
        INFO("ALIF neurons: " << n_alif << ", online traces: " << online << ", spikes: " << a.spikes);
        CHECK(a.spikes > 20);
        CHECK(a.loss == Approx(b.loss).epsilon(1e-12));
        CHECK(relative_error(g_eprop.g_in_t, g_bptt.g_in_t) < 1e-9);
        CHECK(relative_error(g_eprop.g_rec_t, g_bptt.g_rec_t) < 1e-9);
        CHECK(relative_error(g_eprop.g_out_t, g_bptt.g_out_t) < 1e-9);
        CHECK(relative_error(g_eprop.g_b, g_bptt.g_b) < 1e-9);
        CHECK(g_bptt.g_in_t.norm() > 1e-3);
    }
}

TEST_CASE("e-prop approximates BPTT with recurrent weights, but not exactly", "[gradients]") {
    const RsnnParams p = small_params(4);
    const TaskInfo info = small_task(60);
    const SpikeSample s = random_sample(info, 31);
    RsnnWeights weights = random_weights(p, 32, 0.5);
    weights.w_in *= 1.5;
    GradientOptions opt;
    PreparedWeights w;
    w.prepare(weights);
    GradientSum g_bptt, g_eprop;
    g_bptt.resize_zero(p);
    g_eprop.resize_zero(p);
    Bptt(p, opt).accumulate(w, s, info, g_bptt);
    Eprop(p, opt).accumulate(w, w.w_out_t, s, info, g_eprop);
    const double rel = relative_error(g_eprop.g_in_t, g_bptt.g_in_t);
    const double cosine = g_eprop.g_in_t.cwiseProduct(g_bptt.g_in_t).sum() / (g_eprop.g_in_t.norm() * g_bptt.g_in_t.norm());
    INFO("relative error " << rel << ", cosine " << cosine);
    CHECK(rel > 1e-6);     // the recurrent paths e-prop drops are really there
    CHECK(cosine > 0.3);   // yet the direction is related
    // The readout gradient has no recurrent path to drop: it is exact.
    CHECK(relative_error(g_eprop.g_out_t, g_bptt.g_out_t) < 1e-9);
}

TEST_CASE("a hidden bias is a constant input current every step", "[stepper]") {
    // Integrate-and-fire (a leak of 1e-12 per step, no refractoriness), no input spikes,
    // b = v_th / 4 (+1e-9 against the leak): the membrane reaches v_th every 4th step and
    // loses v_th on the next.
    RsnnParams p;
    p.n_in = 1;
    p.n_rec = 2;
    p.n_out = 1;
    p.tau_m = 1e12;
    p.refractory = 0;
    p.v_th = 0.5;
    RsnnWeights w;
    w.resize_zero(p);
    w.b_rec << p.v_th / 4 * (1 + 1e-9), 0.0;
    PreparedWeights prepared;
    prepared.prepare(w);
    SpikeSample quiet;
    for (int t = 0; t < 16; ++t) quiet.begin_step();
    RsnnStepper stepper(p);
    std::vector<int> spike_steps;
    for (int t = 0; t < 16; ++t) {
        stepper.step(prepared, quiet, t);
        CHECK(stepper.z()[1] == 0.0);
        if (stepper.z()[0] != 0) spike_steps.push_back(t);
    }
    CHECK(spike_steps == std::vector<int>{3, 7, 11, 15});
}
