// The recurrent spiking network of the float reference: LIF and ALIF neurons with reset
// by subtraction and refractoriness, and a leaky readout (Bellec et al. 2020, eqs. in
// docs/references.md#e-prop). Neurons [0, n_rec - n_alif) are LIF, the rest ALIF.
//
//   i_t = alpha_syn i_{t-1} + W_in x_t + W_rec z_{t-1} + b_rec     (alpha_syn = 0: i_t is the input)
//   v_t = alpha v_{t-1} + i_t - v_th z_{t-1}                        reset by subtraction
//   v_t = alpha v_{t-1} (1 - z_{t-1}) + i_t                         reset to zero
//   a_t = rho a_{t-1} + z_{t-1},   A_t = v_th + beta a_t
//   z_t = H(v_t - A_t) unless refractory
//   j_t = kappa_syn j_{t-1} + W_out z_t + b_out,   y_t = kappa y_{t-1} + j_t
//
// tau_syn > 0 makes the neurons current-based (CubaLIF: a synaptic current filter before
// the membrane), tau_syn_out > 0 the readout (CubaLI); 0 (the default) leaves the filter
// out, so i_t and j_t are the summed input of the step.
//
// Parameter          default   unit
//   tau_m            20        ms   membrane time constant
//   tau_a            2000      ms   threshold adaptation time constant (ALIF)
//   tau_out          20        ms   readout time constant
//   v_th             0.6            threshold
//   beta             1.8            adaptation strength (ALIF); 0 makes a LIF
//   refractory       2         steps
//   gamma            0.3            pseudo-derivative dampening
//   dt               1         ms
//   tau_syn          0         ms   synaptic current time constant (0: none)
//   tau_syn_out      0         ms   readout synaptic time constant (0: none)
//   reset_to_zero    0              1: reset to zero instead of by subtraction
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>

namespace qrsim {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

struct RsnnParams {
    int n_in = 0;
    int n_rec = 128;
    int n_alif = 0;
    int n_out = 10;
    double tau_m = 20.0;
    double tau_a = 2000.0;
    double tau_out = 20.0;
    double v_th = 0.6;
    double beta = 1.8;
    int refractory = 2;
    double gamma = 0.3;
    double dt = 1.0;
    double tau_syn = 0.0;
    double tau_syn_out = 0.0;
    int reset_to_zero = 0;

    double alpha() const { return std::exp(-dt / tau_m); }
    double rho() const { return std::exp(-dt / tau_a); }
    double kappa() const { return std::exp(-dt / tau_out); }
    double alpha_syn() const { return tau_syn > 0 ? std::exp(-dt / tau_syn) : 0.0; }
    double kappa_syn() const { return tau_syn_out > 0 ? std::exp(-dt / tau_syn_out) : 0.0; }
    bool is_alif(int j) const { return j >= n_rec - n_alif; }
};

// Weights of the network. w_rec has a zero diagonal (no self-connections).
struct RsnnWeights {
    Matrix w_in;   // n_rec x n_in
    Matrix w_rec;  // n_rec x n_rec
    Matrix w_out;  // n_out x n_rec
    Vector b_out;  // n_out
    // A constant input current per step (the tile's neuron bias register). Converted ANNs
    // carry their biases here; training keeps it fixed (zero for trained networks).
    Vector b_rec;  // n_rec

    void resize_zero(const RsnnParams& p) {
        w_in.setZero(p.n_rec, p.n_in);
        w_rec.setZero(p.n_rec, p.n_rec);
        w_out.setZero(p.n_out, p.n_rec);
        b_out.setZero(p.n_out);
        b_rec.setZero(p.n_rec);
    }
};

}  // namespace qrsim
