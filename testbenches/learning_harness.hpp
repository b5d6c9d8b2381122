// What the on-chip learning testbenches share: the fmnist-rows set-up on a preset, the
// tile's weights read back as float matrices, cosines, and a Probe: one tile whose
// parameters (every fan-in entry's hidden parameter and every bias, in weight units) are
// compared with the float trainer's change of the same parameters, per group.
#pragma once

#include "firmware/quantized_rewiring.hpp"
#include "hw_models/checkpoint_loader.hpp"
#include "hw_models/chip.hpp"
#include "hw_models/onchip_training.hpp"
#include "learning_rules/gradients.hpp"
#include "learning_rules/optimizer.hpp"
#include "learning_rules/trainer.hpp"

#include <algorithm>
#include <cstdio>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace qrsim {
namespace harness {

// fmnist-rows, 128 recurrent neurons (the last n_alif of them ALIF), the dynapse2 preset
// (K = 64) with the given overrides.
struct Setup {
    HwConfig hw;
    RsnnParams p;
    std::unique_ptr<Task> task;
    TileNetwork net;

    Setup(std::vector<std::string> overrides, int train, int test, int n_alif = 0) {
        overrides.push_back("memory.sram_bits=8000000");  // room for per-synapse trace reservations
        hw = load_hw_config("dynapse2", overrides);
        TaskOptions to;
        to.train_samples = train;
        to.test_samples = test;
        task = make_task(to);
        p.n_in = task->info().n_inputs;
        p.n_rec = 128;
        p.n_alif = n_alif;
        p.n_out = task->info().n_classes;
        net = network_from_checkpoint(initial_qr_checkpoint(p, hw.constraint(), 3), hw);
    }
};

// The tile's weights as float matrices (LUT value x 2^-membrane_frac_bits, entries summed).
inline RsnnWeights tile_weights(Tile& tile, const TileNetwork& net, const HwConfig& hw) {
    RsnnWeights w;
    RsnnParams p;
    p.n_in = net.n_in;
    p.n_rec = net.n_rec;
    p.n_out = net.n_out;
    w.resize_zero(p);
    const auto& lut = tile.weight_lut();
    const int group = fw::lut_size(static_cast<fw::CodeKind>(hw.kind), hw.weight_bits);
    const double lsb = std::ldexp(1.0, -hw.membrane_frac_bits);
    FaninTable& f = tile.fanin_table();
    for (int s = 0; s < net.n_neurons(); ++s)
        for (int e = 0; e < hw.fanin; ++e) {
            if (!f.valid(s, e)) continue;
            const bool ro = net.is_readout(s);
            const double x = lsb * lut[(ro ? group : 0) + fw::lut_index(static_cast<fw::CodeKind>(hw.kind), hw.weight_bits, f.code(s, e))];
            const int a = f.address(s, e);
            if (ro) w.w_out(s - net.n_rec, a - net.n_in) += x;
            else if (a < net.n_in) w.w_in(s, a) += x;
            else w.w_rec(s, a - net.n_in) += x;
        }
    for (int k = 0; k < net.n_out; ++k) w.b_out[k] = lsb * tile.bias_of(net.n_rec + k);
    return w;
}

inline double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

enum Group { hidden_group = 0, readout_group = 1, bias_group = 2, group_count };
const char* const kGroupName[group_count] = {"hidden", "readout", "bias"};

// Per group, the chip's and the float's change of every compared parameter.
struct Changes {
    std::vector<double> chip[group_count], flt[group_count];
    void add(Group g, double c, double f) {
        chip[g].push_back(c);
        flt[g].push_back(f);
    }
};

struct GroupFigures {
    double cosine = 0, ratio = 0;
};

inline GroupFigures compare(const std::vector<double>& chip, const std::vector<double>& flt) {
    double cc = 0, ff = 0;
    for (size_t i = 0; i < chip.size(); ++i) cc += chip[i] * chip[i], ff += flt[i] * flt[i];
    return {cosine(chip, flt), ff > 0 ? std::sqrt(cc / ff) : 0.0};
}

// One network state on one tile: the float gradient of a sample at the tile's weights, per
// parameter in the order of Parameters, and the tile's parameters in weight units.
struct Probe {
    Setup su;
    Chip chip;
    LearningEngine& eng;
    Eprop eprop;
    double lsb[group_count];  // weight units per hidden LSB (hidden, readout) and per bias LSB

    // GradientOptions{}: for LIF the exactly equal reordered sum, fast; online_traces: the
    // per-step traces, to compare with the firmware's. The last n_alif recurrent neurons are ALIF.
    Probe(std::vector<std::string> overrides, int samples, const std::string& name, GradientOptions go = {},
          int n_alif = 0)
        : su(std::move(overrides), samples, 1, n_alif),
          chip(su.hw, su.net, name),
          eng(chip.enable_learning(make_learn_params(su.hw, su.net, su.p, su.task->info()))),
          eprop(su.p, go) {
        const double hidden_lsb = std::ldexp(1.0, -eng.params().hidden_frac);
        lsb[hidden_group] = unit_weight(su.net.hidden, su.hw) * hidden_lsb;
        lsb[readout_group] = unit_weight(su.net.out, su.hw) * hidden_lsb;
        lsb[bias_group] = std::ldexp(1.0, -su.hw.membrane_frac_bits);
    }

    const fw::LearnParams& lp() const { return eng.params(); }
    int n_entries() const { return lp().n_slots() * lp().K; }

    // Runs train sample i on the tile and adds the float e-prop gradient of the sample at the
    // weights the tile had into g. `replay`: the float neurons follow the tile's recorded
    // trajectory (membranes, adaptations, spikes), so the comparison sees the learning
    // rule's arithmetic alone; otherwise the float model runs its own dynamics.
    void run_with_float_gradient(int i, GradientSum& g, bool replay) {
        SpikeSample sample;
        su.task->encode(Split::train, i, sample);
        PreparedWeights pw;
        pw.prepare(tile_weights(chip.tile(0), su.net, su.hw));
        const Matrix feedback = lp().feedback == fw::feedback_random ? firmware_feedback_matrix(lp()) : Matrix(pw.w_out_t);
        const int T = sample.n_steps(), N = lp().n_rec;
        std::vector<Vector> v(T, Vector(N)), a(T, Vector(N)), z(T, Vector(N));
        std::vector<std::vector<char>> refractory_after(T, std::vector<char>(N));
        if (replay) {
            const double v_unit = std::ldexp(1.0, -su.hw.membrane_frac_bits);
            const double a_unit = std::ldexp(1.0, -su.hw.adaptation_frac_bits);
            eng.set_step_observer([&](int t) {
                for (int j = 0; j < N; ++j) {
                    const fw::NeuronState& s = chip.tile(0).neuron_state(j);
                    v[t][j] = v_unit * s.v;
                    a[t][j] = a_unit * s.a;
                    z[t][j] = s.z;
                    refractory_after[t][j] = s.refractory_left > 0;
                }
            });
        }
        if (replay) chip.run_sample(sample, su.task->info().readout_begin);
        if (replay)
            eprop.set_state_override([&](int t, RsnnStepper& s) {
                // A step is refractory when the counter was non-zero after the one before.
                s.impose(v[t], a[t], z[t], t > 0 ? refractory_after[t - 1] : std::vector<char>(N, 0));
            });
        eprop.accumulate(pw, feedback, sample, su.task->info(), g);
        eprop.set_state_override({});
        eng.set_step_observer({});
        if (!replay) chip.run_sample(sample, su.task->info().readout_begin);
    }
    // Every parameter in weight units: entries (slot * K + e), then the n_out biases.
    void parameters(std::vector<double>& value, std::vector<int32_t>& address) {
        std::vector<int32_t> h;
        eng.hidden_parameters(h, address);
        value.resize(h.size() + lp().n_out);
        for (int i = 0; i < n_entries(); ++i) value[i] = h[i] * lsb[i / lp().K < lp().n_rec ? hidden_group : readout_group];
        for (int k = 0; k < lp().n_out; ++k) value[n_entries() + k] = chip.tile(0).bias_of(lp().n_rec + k) * lsb[bias_group];
    }
    // Quantized Rewiring's projection of a parameter after a step: an entry's h is clipped to
    // the codes' range, in the float trainer as on chip (biases are saturated registers).
    double projected(int i, double value, double step) const {
        const double v = value + step;
        if (i >= n_entries()) return v;
        const double hmax = fw::qr_limits(lp()).hmax * lsb[group_of(i)];
        return std::clamp(v, -hmax, hmax);
    }
    Group group_of(int i) const {
        return i >= n_entries() ? bias_group : (i / lp().K < lp().n_rec ? hidden_group : readout_group);
    }
    // The float gradient of parameter i (an entry's connection, or a bias).
    double gradient_of(const GradientSum& g, int i, const std::vector<int32_t>& address) const {
        const int N = lp().n_rec, n_in = lp().n_in;
        if (i >= n_entries()) return g.g_b[i - n_entries()];
        const int s = i / lp().K, a = address[i];
        if (s >= N) return g.g_out_t(a - n_in, s - N);
        return a < n_in ? g.g_in_t(a, s) : g.g_rec_t(a - n_in, s);
    }
};

inline void report(const std::string& name, const char* what, const Changes& c, GroupFigures out[group_count]) {
    std::printf("update size %-38s %-22s", name.c_str(), what);
    for (int g = 0; g < group_count; ++g) {
        out[g] = compare(c.chip[g], c.flt[g]);
        std::printf(" | %s cosine %.3f ratio %.3f (%zu)", kGroupName[g], out[g].cosine, out[g].ratio, c.chip[g].size());
    }
    std::printf("\n");
}

// The float optimiser of an accumulating mode (the update the rule ran: LearnParams::update,
// with the momentum its accumulators carry) for one group, at that group's rate.
inline std::unique_ptr<Optimizer> float_optimizer(uint8_t update, double momentum) {
    if (update == fw::update_adam) return std::make_unique<Adam>(0.9, 1.0 - 1.0 / 1024, 1e-8);  // the firmware's beta2
    return make_optimizer(update == fw::update_sign ? "signum" : "sgd", momentum);
}

inline double float_rate(const LearnConfig& L, uint8_t update, Group g) {
    if (update == fw::update_adam || update == fw::update_sign) return L.step;
    return g == hidden_group ? L.learning_rate : g == readout_group ? L.readout_learning_rate : L.bias_learning_rate;
}

}  // namespace harness
}  // namespace qrsim
