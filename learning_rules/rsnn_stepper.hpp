// One forward time step of the RSNN, shared by evaluation, BPTT and e-prop so that all
// three simulate exactly the same network. Input events are sparse (SpikeSample), and
// recurrent spikes are gathered into an index list, so a step costs O(active x N).
#pragma once

#include "common/readout_loss.hpp"
#include "common/rsnn.hpp"
#include "common/task.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qrsim {

// How the spike nonlinearity and its derivative are modelled.
//  pseudo: z = H(x), psi = gamma/v_th max(0, 1 - |x|)       (Bellec et al. 2020)
//  smooth: z = sigmoid(x / width), psi = dz/dv exactly      (a smooth relaxation whose exact
//          gradient finite differences can check)
// where x = (v - A) / v_th.
struct SpikeFunction {
    bool smooth = false;
    double smooth_width = 0.2;
};

// Weights arranged for sparse forward access: rows of the transposes are contiguous, so a
// spike of presynaptic i adds one contiguous row.
struct PreparedWeights {
    Matrix w_in_t;   // n_in x n_rec
    Matrix w_rec_t;  // n_rec x n_rec
    Matrix w_out_t;  // n_rec x n_out
    Vector b_out;
    Vector b_rec;

    void prepare(const RsnnWeights& w);
};

class RsnnStepper {
public:
    RsnnStepper(const RsnnParams& params, const SpikeFunction& spike_fn = {});

    void reset();
    // Advances one step with the input events of step t of `sample`: the recurrent neurons,
    // then the readout from their spikes.
    void step(const PreparedWeights& w, const SpikeSample& sample, int t) {
        step_neurons(w, sample, t);
        step_readout(w);
    }
    void step_neurons(const PreparedWeights& w, const SpikeSample& sample, int t);
    void step_readout(const PreparedWeights& w);
    // Between the two halves: the recurrent neurons take a recorded state instead of their
    // own (a chip's membranes, adaptations and spikes, in float units; `refractory`: the step
    // was refractory), and psi follows from it. A comparison harness uses it to separate the
    // learning rule's arithmetic from the divergence of two neuron models' trajectories.
    void impose(const Vector& v, const Vector& a, const Vector& z, const std::vector<char>& refractory);

    const Vector& z() const { return z_; }          // spikes of this step
    const Vector& z_prev() const { return z_prev_; }
    const Vector& psi() const { return psi_; }      // pseudo-derivative dz/dv of this step
    const Vector& v() const { return v_; }
    const Vector& a() const { return a_; }
    const Vector& y() const { return y_; }          // readout
    const Vector& i_syn() const { return syn_; }    // synaptic current (CubaLIF; zero without)
    const std::vector<int>& active() const { return active_; }  // indices with z != 0
    const std::vector<int>& active_prev() const { return active_prev_; }
    const RsnnParams& params() const { return p_; }
    const Vector& beta() const { return beta_; }    // per neuron: beta for ALIF, 0 for LIF

private:
    // psi at x = (v - A) / v_th (the pseudo spike function).
    double pseudo_derivative(double x) const { return p_.gamma * (1.0 / p_.v_th) * std::max(0.0, 1.0 - std::abs(x)); }

    RsnnParams p_;
    SpikeFunction fn_;
    double alpha_, rho_, kappa_, alpha_syn_, kappa_syn_;
    Vector beta_;
    Vector v_, a_, z_, z_prev_, psi_, y_, current_, syn_, y_syn_;
    std::vector<int> refractory_left_;
    std::vector<int> active_, active_prev_;
};

// Firing-rate regularisation: E = c/2 sum_j (f_j - f0)^2 with f_j the sample's mean spikes
// per step; returns dE/dz_j^t (the same for every t) given the per-neuron spike counts.
void rate_regularisation_gradient(const Vector& spike_counts, int n_steps, double coeff,
                                  double target_hz, double dt_ms, Vector& dz, double& loss);

}  // namespace qrsim
