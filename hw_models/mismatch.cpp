#include "hw_models/mismatch.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace qrsim {

namespace {

class FactorDraw {
public:
    explicit FactorDraw(uint64_t seed) : rng_(seed) {}
    // Always draws, so a parameter's spread never shifts the draws of the others.
    double operator()(double spread) {
        const double n = normal_(rng_);
        return std::clamp(1.0 + spread * n, 0.05, 3.0);
    }

private:
    std::mt19937_64 rng_;
    std::normal_distribution<double> normal_{0.0, 1.0};
};

// A time constant tau scaled by g: the decay exp(-dt/tau) becomes exp(-dt/(g tau)) = f^(1/g).
fw::Decay scaled_decay(const fw::Decay& d, fw::LeakMode leak, double g) {
    return decay_of(std::pow(decay_factor(d, leak), 1.0 / g));
}

}  // namespace

void apply_mismatch(TileNetwork& net, const MismatchConfig& m, const HwConfig& hw) {
    FactorDraw draw(m.seed);
    const int n = net.n_neurons();
    net.neuron_configs.assign(n, fw::NeuronConfig{});
    net.neuron_luts.assign(n, GroupLut{});
    for (int j = 0; j < n; ++j) {
        fw::NeuronConfig c = net.nominal_config_of(j);
        const double g_tau = draw(m.time_constants), g_adapt = draw(m.time_constants), g_th = draw(m.thresholds);
        if (m.time_constants > 0) {
            c.alpha = scaled_decay(c.alpha, c.leak, g_tau);
            if (c.adaptive) c.rho = scaled_decay(c.rho, c.leak, g_adapt);
        }
        if (m.thresholds > 0 && !net.is_readout(j))
            c.v_th = std::max<int32_t>(1, static_cast<int32_t>(std::lround(c.v_th * g_th)));
        net.neuron_configs[j] = c;

        // dynapse kinds: a factor per base (each base is its own synapse circuit);
        // uniform: one factor for the neuron's scale.
        GroupLut lut = net.lut(net.lut_group(j));
        const bool per_base = lut.kind != fw::code_uniform;
        double g_scale = draw(m.weights);
        for (size_t b = 0; b < lut.stored.size(); ++b) {
            const double g = per_base ? (b == 0 ? g_scale : draw(m.weights)) : g_scale;
            if (m.weights <= 0) continue;
            const long long v = std::llround(lut.stored[b] * g);
            if (!fw::fits_signed(v, hw.lut_bits))
                throw std::runtime_error("mismatch.weights = " + std::to_string(m.weights) + ": neuron " +
                                         std::to_string(j) + " draws a weight of " + std::to_string(v) +
                                         " LSBs, outside synapse.lut_bits = " + std::to_string(hw.lut_bits) +
                                         " (lower the spread or raise lut_bits)");
            lut.stored[b] = static_cast<int32_t>(v);
        }
        lut.expand();
        net.neuron_luts[j] = std::move(lut);
    }
}

}  // namespace qrsim
