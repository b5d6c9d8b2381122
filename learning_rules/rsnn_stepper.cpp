#include "learning_rules/rsnn_stepper.hpp"

#include <cmath>

namespace qrsim {

void PreparedWeights::prepare(const RsnnWeights& w) {
    w_in_t = w.w_in.transpose();
    w_rec_t = w.w_rec.transpose();
    w_out_t = w.w_out.transpose();
    b_out = w.b_out;
    b_rec = w.b_rec.size() ? w.b_rec : Vector::Zero(w.w_in.rows());
}

RsnnStepper::RsnnStepper(const RsnnParams& params, const SpikeFunction& spike_fn)
    : p_(params), fn_(spike_fn), alpha_(params.alpha()), rho_(params.rho()), kappa_(params.kappa()),
      alpha_syn_(params.alpha_syn()), kappa_syn_(params.kappa_syn()) {
    beta_.resize(p_.n_rec);
    for (int j = 0; j < p_.n_rec; ++j) beta_[j] = p_.is_alif(j) ? p_.beta : 0.0;
    reset();
}

void RsnnStepper::reset() {
    v_.setZero(p_.n_rec);
    a_.setZero(p_.n_rec);
    z_.setZero(p_.n_rec);
    z_prev_.setZero(p_.n_rec);
    psi_.setZero(p_.n_rec);
    current_.setZero(p_.n_rec);
    syn_.setZero(p_.n_rec);
    y_.setZero(p_.n_out);
    y_syn_.setZero(p_.n_out);
    refractory_left_.assign(p_.n_rec, 0);
    active_.clear();
    active_prev_.clear();
}

void RsnnStepper::step_neurons(const PreparedWeights& w, const SpikeSample& sample, int t) {
    z_prev_.swap(z_);
    active_prev_.swap(active_);

    current_ = w.b_rec;
    for (int e = sample.step_begin[t]; e < sample.step_begin[t + 1]; ++e)
        current_ += w.w_in_t.row(sample.channels[e]).transpose();
    for (int i : active_prev_) current_ += z_prev_[i] * w.w_rec_t.row(i).transpose();

    // Without a synaptic filter the current is the step's input itself, bit for bit.
    if (alpha_syn_ > 0) {
        syn_ = alpha_syn_ * syn_ + current_;
        current_ = syn_;
    }
    // The reset for the previous step's spike.
    if (p_.reset_to_zero) v_ = alpha_ * v_.cwiseProduct((1.0 - z_prev_.array()).matrix()) + current_;
    else v_ = alpha_ * v_ + current_ - p_.v_th * z_prev_;
    a_ = rho_ * a_ + z_prev_;

    active_.clear();
    const double inv_th = 1.0 / p_.v_th;
    for (int j = 0; j < p_.n_rec; ++j) {
        const double x = (v_[j] - p_.v_th - beta_[j] * a_[j]) * inv_th;
        double z = 0, psi = 0;
        if (refractory_left_[j] > 0) {
            --refractory_left_[j];
        } else if (fn_.smooth) {
            const double s = 1.0 / (1.0 + std::exp(-x / fn_.smooth_width));
            z = s;
            psi = s * (1.0 - s) / fn_.smooth_width * inv_th;
        } else {
            z = x >= 0 ? 1.0 : 0.0;
            psi = pseudo_derivative(x);
            if (z != 0) refractory_left_[j] = p_.refractory;
        }
        z_[j] = z;
        psi_[j] = psi;
        if (z != 0) active_.push_back(j);
    }
}

void RsnnStepper::impose(const Vector& v, const Vector& a, const Vector& z, const std::vector<char>& refractory) {
    v_ = v;
    a_ = a;
    z_ = z;
    active_.clear();
    for (int j = 0; j < p_.n_rec; ++j) {
        psi_[j] = refractory[j] ? 0.0 : pseudo_derivative((v_[j] - p_.v_th - beta_[j] * a_[j]) * (1.0 / p_.v_th));
        if (z_[j] != 0) active_.push_back(j);
    }
}

void RsnnStepper::step_readout(const PreparedWeights& w) {
    // The readout's input goes through its synaptic filter when it has one, else straight in.
    const bool filtered = kappa_syn_ > 0;
    Vector& input = filtered ? y_syn_ : y_;
    input = (filtered ? kappa_syn_ : kappa_) * input + w.b_out;
    for (int j : active_) input += z_[j] * w.w_out_t.row(j).transpose();
    if (filtered) y_ = kappa_ * y_ + y_syn_;
}

void rate_regularisation_gradient(const Vector& spike_counts, int n_steps, double coeff,
                                  double target_hz, double dt_ms, Vector& dz, double& loss) {
    const Vector rate_error = spike_counts / n_steps - Vector::Constant(spike_counts.size(), target_hz * dt_ms * 1e-3);
    loss = 0.5 * coeff * rate_error.squaredNorm();
    dz = coeff * rate_error / n_steps;
}

}  // namespace qrsim
