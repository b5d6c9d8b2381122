#include "learning_rules/optimizer.hpp"

#include <cmath>
#include <stdexcept>

namespace qrsim {

namespace {
void bind_state(const std::vector<ParamRef>& params, std::vector<std::vector<double>>& state) {
    if (state.size() == params.size()) return;
    state.resize(params.size());
    for (std::size_t k = 0; k < params.size(); ++k) state[k].assign(params[k].size, 0.0);
}
}  // namespace

Adam::Adam(double beta1, double beta2, double eps) : beta1_(beta1), beta2_(beta2), eps_(eps) {}

void Adam::step(const std::vector<ParamRef>& params, double learning_rate) {
    bind_state(params, m_);
    bind_state(params, v_);
    ++t_;
    const double bias_correction = std::sqrt(1.0 - std::pow(beta2_, t_)) / (1.0 - std::pow(beta1_, t_));
    for (std::size_t k = 0; k < params.size(); ++k) {
        const double step = learning_rate / params[k].unit * bias_correction;
        double* w = params[k].value;
        const double* g = params[k].grad;
        double* m = m_[k].data();
        double* v = v_[k].data();
        for (std::size_t i = 0; i < params[k].size; ++i) {
            m[i] = beta1_ * m[i] + (1.0 - beta1_) * g[i];
            v[i] = beta2_ * v[i] + (1.0 - beta2_) * g[i] * g[i];
            w[i] -= step * m[i] / (std::sqrt(v[i]) + eps_);
        }
    }
}

Sgd::Sgd(double momentum) : momentum_(momentum) {}

void Sgd::step(const std::vector<ParamRef>& params, double learning_rate) {
    bind_state(params, velocity_);
    for (std::size_t k = 0; k < params.size(); ++k) {
        double* w = params[k].value;
        const double* g = params[k].grad;
        double* u = velocity_[k].data();
        const double step = learning_rate;
        for (std::size_t i = 0; i < params[k].size; ++i) {
            u[i] = momentum_ * u[i] + g[i];
            w[i] -= step * u[i];
        }
    }
}

Signum::Signum(double momentum) : momentum_(momentum) {}

void Signum::step(const std::vector<ParamRef>& params, double learning_rate) {
    bind_state(params, m_);
    for (std::size_t k = 0; k < params.size(); ++k) {
        double* w = params[k].value;
        const double* g = params[k].grad;
        double* m = m_[k].data();
        const double step = learning_rate / params[k].unit;
        for (std::size_t i = 0; i < params[k].size; ++i) {
            m[i] = momentum_ * m[i] + (1.0 - momentum_) * g[i];
            w[i] -= step * static_cast<double>((m[i] > 0) - (m[i] < 0));
        }
    }
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double momentum) {
    if (name == "adam") return std::make_unique<Adam>();
    if (name == "sgd") return std::make_unique<Sgd>(momentum);
    if (name == "signum") return std::make_unique<Signum>(momentum);
    throw std::invalid_argument("train.optimizer: unknown optimizer '" + name + "' (use adam, sgd or signum)");
}

}  // namespace qrsim
