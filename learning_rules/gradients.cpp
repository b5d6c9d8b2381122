#include "learning_rules/gradients.hpp"

#include <stdexcept>

namespace qrsim {

void GradientSum::resize_zero(const RsnnParams& p) {
    g_in_t.setZero(p.n_in, p.n_rec);
    g_rec_t.setZero(p.n_rec, p.n_rec);
    g_out_t.setZero(p.n_rec, p.n_out);
    g_b.setZero(p.n_out);
}

void GradientSum::set_zero() {
    g_in_t.setZero();
    g_rec_t.setZero();
    g_out_t.setZero();
    g_b.setZero();
}

GradientSum& GradientSum::operator+=(const GradientSum& other) {
    g_in_t += other.g_in_t;
    g_rec_t += other.g_rec_t;
    g_out_t += other.g_out_t;
    g_b += other.g_b;
    return *this;
}

void GradientSum::to_weights(RsnnWeights& out, double scale) const {
    out.w_in = scale * g_in_t.transpose();
    out.w_rec = scale * g_rec_t.transpose();
    out.w_out = scale * g_out_t.transpose();
    out.b_out = scale * g_b;
}

namespace {

// Adds the firing-rate regulariser's gradient dE/dz (constant over time) when enabled.
double regulariser(const GradientOptions& opt, const RsnnParams& p, const Vector& spike_count,
                   int n_steps, Vector& reg_dz) {
    if (opt.reg_coeff <= 0) return 0;
    double loss = 0;
    rate_regularisation_gradient(spike_count, n_steps, opt.reg_coeff, opt.reg_rate_hz, p.dt, reg_dz, loss);
    return loss;
}

}  // namespace

Bptt::Bptt(const RsnnParams& params, const GradientOptions& options)
    : p_(params), opt_(options), stepper_(params, options.spike_fn) {}

SampleOutcome Bptt::accumulate(const PreparedWeights& w, const SpikeSample& sample,
                               const TaskInfo& info, GradientSum& grad) {
    const int T = sample.n_steps();
    const int N = p_.n_rec;
    if (z_.rows() < T) {
        z_.resize(T, N);
        psi_.resize(T, N);
        v_.resize(T, N);
        err_.resize(T, p_.n_out);
        active_.resize(T);
    }

    // Forward pass, recording what the backward pass needs.
    stepper_.reset();
    ReadoutLoss loss(info, sample.label);
    Vector err(p_.n_out);
    Vector spike_count = Vector::Zero(N);
    for (int t = 0; t < T; ++t) {
        stepper_.step(w, sample, t);
        z_.row(t) = stepper_.z().transpose();
        psi_.row(t) = stepper_.psi().transpose();
        v_.row(t) = stepper_.v().transpose();
        active_[t] = stepper_.active();
        if (loss.step(t, stepper_.y(), err)) err_.row(t) = err.transpose();
        else err_.row(t).setZero();
        spike_count += stepper_.z();
    }
    const double reg_loss = regulariser(opt_, p_, spike_count, T, reg_dz_);

    // Backward pass: gy, gj, gz, gv, ga, gi are total derivatives of the loss w.r.t. y_t,
    // j_t, z_t, v_t, a_t, i_t. Without synaptic filters (alpha_syn = kappa_syn = 0) gj = gy
    // and gi = gv exactly; with reset by subtraction the membrane's carry is plain alpha.
    const double alpha = p_.alpha(), rho = p_.rho(), kappa = p_.kappa();
    const double alpha_syn = p_.alpha_syn(), kappa_syn = p_.kappa_syn();
    const bool to_zero = p_.reset_to_zero != 0;
    const Vector& beta = stepper_.beta();
    gy_.setZero(p_.n_out);
    gj_.setZero(p_.n_out);
    gv_next_.setZero(N);
    ga_next_.setZero(N);
    gi_next_.setZero(N);
    for (int t = T - 1; t >= 0; --t) {
        gy_ = err_.row(t).transpose() + kappa * gy_;
        gj_ = gy_ + kappa_syn * gj_;
        gz_.noalias() = w.w_out_t * gj_;
        if (opt_.reg_coeff > 0) gz_ += reg_dz_;
        if (t + 1 < T) {
            gz_.noalias() += w.w_rec_t * gi_next_;
            if (opt_.reset_gradient) {
                // d v_{t+1} / d z_t through the reset: -v_th, or -alpha v_t resetting to zero.
                if (to_zero) gz_.array() -= alpha * v_.row(t).transpose().array() * gv_next_.array();
                else gz_ -= p_.v_th * gv_next_;
            }
            gz_ += ga_next_;
        }
        const auto psi = psi_.row(t).transpose().array();
        if (to_zero) gv_ = psi * gz_.array() + alpha * (1.0 - z_.row(t).transpose().array()) * gv_next_.array();
        else gv_ = psi * gz_.array() + alpha * gv_next_.array();
        ga_ = -beta.array() * psi * gz_.array() + rho * ga_next_.array();
        gi_ = gv_ + alpha_syn * gi_next_;

        grad.g_b += gj_;
        for (int j : active_[t]) grad.g_out_t.row(j) += z_(t, j) * gj_.transpose();
        for (int e = sample.step_begin[t]; e < sample.step_begin[t + 1]; ++e)
            grad.g_in_t.row(sample.channels[e]) += gi_.transpose();
        if (t > 0)
            for (int i : active_[t - 1]) grad.g_rec_t.row(i) += z_(t - 1, i) * gi_.transpose();
        gv_next_.swap(gv_);
        ga_next_.swap(ga_);
        gi_next_.swap(gi_);
    }
    return {loss.loss() + reg_loss, loss.prediction(), spike_count.sum()};
}

Eprop::Eprop(const RsnnParams& params, const GradientOptions& options)
    : p_(params), opt_(options), stepper_(params, options.spike_fn), n_pre_(params.n_in + params.n_rec),
      n_online_(options.online_traces ? params.n_rec : params.n_alif) {
    ebar_.setZero(n_online_, n_pre_);
    eps_a_.setZero(p_.n_alif, n_pre_);
    g_.setZero(p_.n_rec, n_pre_);
    if (opt_.reg_coeff > 0) e_sum_.setZero(n_online_, n_pre_);
}

bool eprop_supports(const RsnnParams& p) { return p.tau_syn == 0 && p.tau_syn_out == 0 && !p.reset_to_zero; }

extern const char* const kEpropUnsupported =
    "e-prop supports neurons without synaptic filters that reset by subtraction "
    "(tau_syn = tau_syn_out = 0, reset_to_zero = 0); train this network with BPTT";

SampleOutcome Eprop::accumulate(const PreparedWeights& w, const Matrix& feedback,
                                const SpikeSample& sample, const TaskInfo& info, GradientSum& grad) {
    // Its eligibility traces are derived for this neuron model only.
    if (!eprop_supports(p_)) throw std::invalid_argument(kEpropUnsupported);
    const int T = sample.n_steps();
    const int N = p_.n_rec, n_lif = p_.n_rec - p_.n_alif;
    const int first_online = N - n_online_;  // rows [first_online, N) keep per-synapse traces
    const double alpha = p_.alpha(), rho = p_.rho(), kappa = p_.kappa();
    const bool reg = opt_.reg_coeff > 0;

    stepper_.reset();
    ReadoutLoss loss(info, sample.label);
    pre_trace_.setZero(n_pre_);
    ebar_.setZero();
    eps_a_.setZero();
    g_.setZero();
    if (reg) e_sum_.setZero();
    z_out_trace_.setZero(N);
    spike_count_.setZero(N);
    if (pre_hist_.rows() < T) {
        pre_hist_.resize(T, n_pre_);
        psi_hist_.resize(T, N);
        signal_hist_.resize(T, N);
    }
    double one_trace = 0;

    for (int t = 0; t < T; ++t) {
        stepper_.step_neurons(w, sample, t);
        if (override_) override_(t, stepper_);
        stepper_.step_readout(w);
        const Vector& psi = stepper_.psi();

        // Presynaptic traces: the eligibility vector of v, the same for every synapse of an input.
        pre_trace_ *= alpha;
        for (int e = sample.step_begin[t]; e < sample.step_begin[t + 1]; ++e) pre_trace_[sample.channels[e]] += 1.0;
        for (int i : stepper_.active_prev()) pre_trace_[p_.n_in + i] += stepper_.z_prev()[i];
        pre_hist_.row(t) = pre_trace_.transpose();
        psi_hist_.row(t) = psi.transpose();

        const bool in_window = loss.step(t, stepper_.y(), err_);
        if (in_window) learning_signal_.noalias() = feedback * err_;
        else learning_signal_.setZero(N);
        signal_hist_.row(t) = learning_signal_.transpose();

        // Online rows: e_ji = psi_j (pre_i - beta_j eps_a_ji), kappa-filtered into ebar; the
        // ALIF adaptation eligibility then advances.
        for (int j = first_online; j < N; ++j) {
            const int r = j - n_lif;  // ALIF index, < 0 for LIF
            const int o = j - first_online;
            if (r >= 0) e_row_ = psi[j] * (pre_trace_.transpose() - p_.beta * eps_a_.row(r)).transpose();
            else e_row_ = psi[j] * pre_trace_;
            ebar_.row(o) = kappa * ebar_.row(o) + e_row_.transpose();
            if (reg) e_sum_.row(o) += e_row_.transpose();
            if (r >= 0) eps_a_.row(r) = psi[j] * pre_trace_.transpose() + (rho - psi[j] * p_.beta) * eps_a_.row(r);
            if (learning_signal_[j] != 0) g_.row(j) += learning_signal_[j] * ebar_.row(o);
        }

        z_out_trace_ = kappa * z_out_trace_ + stepper_.z();
        one_trace = kappa * one_trace + 1.0;
        if (observer_) observer_(t, *this);
        spike_count_ += stepper_.z();
        if (in_window) {
            grad.g_out_t.noalias() += z_out_trace_ * err_.transpose();
            grad.g_b += one_trace * err_;
        }
    }
    const double reg_loss = regulariser(opt_, p_, spike_count_, T, reg_dz_);
    if (!reg) reg_dz_.setZero(N);
    if (reg) g_.bottomRows(n_online_).noalias() += reg_dz_.tail(n_online_).asDiagonal() * e_sum_;

    // LIF rows without online traces: their eligibility psi_j pre_i factorises, so
    //   sum_t L_j^t ebar_ji^t = sum_s (sum_{t>=s} kappa^(t-s) L_j^t) psi_j^s pre_i^s,
    // the same sum reordered into one matrix product per sample.
    if (first_online > 0) {
        Vector filtered = Vector::Zero(N);
        for (int t = T - 1; t >= 0; --t) {
            filtered = signal_hist_.row(t).transpose() + kappa * filtered;
            psi_hist_.row(t).head(first_online).array() *=
                (filtered.head(first_online) + reg_dz_.head(first_online)).transpose().array();
        }
        g_.topRows(first_online).noalias() +=
            psi_hist_.topRows(T).leftCols(first_online).transpose() * pre_hist_.topRows(T);
    }

    grad.g_in_t += g_.leftCols(p_.n_in).transpose();
    grad.g_rec_t += g_.rightCols(N).transpose();
    return {loss.loss() + reg_loss, loss.prediction(), spike_count_.sum()};
}

}  // namespace qrsim
