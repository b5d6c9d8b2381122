// Per-sample gradients of the readout loss (plus the firing-rate regulariser) with respect
// to the RSNN weights, by BPTT or by e-prop. Both accumulate into a GradientSum laid out
// like the transposed weights, so sparse presynaptic events touch contiguous rows.
#pragma once

#include "learning_rules/rsnn_stepper.hpp"

#include <functional>

namespace qrsim {

struct GradientSum {
    Matrix g_in_t;   // n_in x n_rec    (dLoss/dW_in)^T
    Matrix g_rec_t;  // n_rec x n_rec   (dLoss/dW_rec)^T
    Matrix g_out_t;  // n_rec x n_out   (dLoss/dW_out)^T
    Vector g_b;      // n_out

    void resize_zero(const RsnnParams& p);
    void set_zero();
    GradientSum& operator+=(const GradientSum& other);
    // The gradient in the weights' own layout, scaled (e.g. by 1/batch size).
    void to_weights(RsnnWeights& out, double scale) const;
};

struct GradientOptions {
    SpikeFunction spike_fn;
    bool reset_gradient = false;  // e-prop convention: no gradient through the reset term
    double reg_coeff = 0.0;       // firing-rate regularisation (0: off)
    double reg_rate_hz = 10.0;
    // e-prop only: keep per-synapse filtered eligibility traces, updated every step, for
    // every neuron (as a chip would). Off, LIF neurons take an exactly equal reordered sum
    // (one matrix product per sample); ALIF neurons always run online.
    bool online_traces = false;
};

struct SampleOutcome {
    double loss = 0;  // readout loss + regulariser
    int prediction = -1;
    double spikes = 0;  // recurrent spikes in the sample
};

// Backpropagation through time of the surrogate model. Buffers are kept between samples.
class Bptt {
public:
    Bptt(const RsnnParams& params, const GradientOptions& options);
    SampleOutcome accumulate(const PreparedWeights& w, const SpikeSample& sample,
                             const TaskInfo& info, GradientSum& grad);

private:
    RsnnParams p_;
    GradientOptions opt_;
    RsnnStepper stepper_;
    Matrix z_, psi_, v_, err_;              // per step: spikes, pseudo-derivatives, membranes, dLoss/dy
    std::vector<std::vector<int>> active_;  // per step: indices with z != 0
    Vector gy_, gj_, gz_, gv_, ga_, gi_, gv_next_, ga_next_, gi_next_, reg_dz_;
};

// Whether e-prop's traces below are derived for this network (LIF/ALIF, reset by
// subtraction, no synaptic filters), and the error for one that is not.
bool eprop_supports(const RsnnParams& params);
extern const char* const kEpropUnsupported;

// e-prop (Bellec et al. 2020) for the networks eprop_supports (accumulate refuses the
// others): forward-in-time eligibility traces, kappa-filtered, times
// the learning signal L_j = sum_k B_jk dLoss/dy_k. B = W_out^T (symmetric) or a fixed
// random matrix. `feedback` is n_rec x n_out; pass w.w_out_t for symmetric feedback.
class Eprop {
public:
    Eprop(const RsnnParams& params, const GradientOptions& options);
    SampleOutcome accumulate(const PreparedWeights& w, const Matrix& feedback,
                             const SpikeSample& sample, const TaskInfo& info, GradientSum& grad);

    // Read-only views for comparison harnesses (testbenches/): the observer runs after
    // every step's trace update, when pre_trace() and ebar() hold step t's values.
    void set_step_observer(std::function<void(int t, const Eprop&)> observer) { observer_ = std::move(observer); }
    // Runs between the neurons' and the readout's half of every step; may impose a recorded
    // state on the neurons (RsnnStepper::impose).
    void set_state_override(std::function<void(int t, RsnnStepper&)> f) { override_ = std::move(f); }
    const Vector& pre_trace() const { return pre_trace_; }  // alpha-filtered [inputs, recurrent]
    const Matrix& ebar() const { return ebar_; }            // rows of the online neurons (all with online_traces)
    const RsnnStepper& stepper() const { return stepper_; }

private:
    RsnnParams p_;
    GradientOptions opt_;
    RsnnStepper stepper_;
    int n_pre_;
    int n_online_;       // the last n_online_ neurons keep per-synapse traces
    Vector pre_trace_;   // alpha-filtered presynaptic activity [inputs, recurrent]
    Matrix ebar_;        // kappa-filtered eligibility of the online rows, per synapse
    Matrix eps_a_;       // ALIF adaptation eligibility, rows of the ALIF neurons only
    Matrix e_sum_;       // unfiltered eligibility of the online rows summed over time (regulariser)
    Matrix pre_hist_, psi_hist_, signal_hist_;  // per step, for the reordered LIF sum
    Matrix g_;           // dLoss/d[W_in W_rec], n_rec x n_pre
    Vector z_out_trace_; // kappa-filtered spikes for W_out
    Vector e_row_, err_, learning_signal_, spike_count_, reg_dz_;
    std::function<void(int, const Eprop&)> observer_;
    std::function<void(int, RsnnStepper&)> override_;
};

}  // namespace qrsim
