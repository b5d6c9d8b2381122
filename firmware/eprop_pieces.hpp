// The firmware SDK's e-prop pieces (Bellec et al. 2020) with Quantized Rewiring: what the
// built-in rules (firmware/eprop.cpp) are composed of, and what a rule of your own calls
// (docs/add_a_rule.md). See firmware/learning.hpp for the call order and
// firmware/eprop_kernels.hpp for the arithmetic.
//
// Per step t (float equations in docs/references.md#e-prop):
//   eps_i   = decay(eps_i, alpha) + s_i[t]           presynaptic, s = x_t and z_{t-1}
//   psi_j   = pseudo_derivative(v_j - A_j)           A_j = v_th (LIF) or the adaptive threshold
//                                                    (ALIF); 0 on a refractory step
//   per synapse (SpiNNaker-like, exact e-prop for LIF and ALIF):
//     ebar_e = decay(ebar_e, kappa) + psi_j d_e,     d_e = eps_a(e) - eta_e   (eta = 0 for LIF)
//     eta_e  = decay(eta_e, rho) + c_j d_e           ALIF rows, c_j = gamma beta psi_j / v_th
//   where eta = beta eps^a, the adaptation eligibility vector scaled into eps's format: the
//   float recursion eps^a' = psi eps + (rho - psi beta) eps^a times beta. One eta per entry
//   of an ALIF row, so ALIF learns on chip with per-synapse placement only.
//   per presynaptic neuron (ReckOn-like memory, factorised approximation):
//     epsbar_i = decay(epsbar_i, kappa) + eps_i,  psibar_j = decay(psibar_j, kappa) + psi_j
//     ebar_e ~ (1 - kappa) psibar_j epsbar_a(e)     (filter of a product ~ product of filters)
//   zbar_j  = decay(zbar_j, kappa) + z_j[t]          readout eligibility (exact)
// In the readout window:
//   err_k = softmax(y_t)_k - [k == target],  L_j = sum_k B_jk err_k  (B = W_out^T or random)
//   G_e  += L_j ebar_e (hidden entries),  err_k zbar_j (readout entries),  err_k onebar (bias)
// Update (in hidden LSBs, stochastic rounding), then the QR projection:
//   adam        G summed over `batch` samples in per-entry accumulators, then an Adam step
//               from per-entry moments (firmware/adam.hpp) of about `step` weight units
//   sign        the same accumulators, a step of `step` against their sign
//   accumulate  the same accumulators, dh = -lr G
//   (sign and accumulate with momentum beta: an apply leaves beta G in the accumulators, so
//   G is the heavy-ball sum m = beta m + g: signum, momentum SGD; carry_row)
//   stochastic  no accumulators: every window step applies dh = -lr G, stochastically rounded
//               to h's LSB (ReckOn-like; h's code and address live in the CAM)
// Accumulators narrower than 32 bits are block-scaled (one exponent per row, accumulate_row).
// The CAM holds the nearest code of h; optionally (stochastic_weights, accumulating modes)
// every update writes fresh stochastic roundings of h instead, as the float QR trainer's
// forward pass, and finish writes the nearest codes.
// Decays use the membrane's leak mode (1.15 multiply or shift) with the configured rounding
// (stochastic: one firmware LFSR draw per non-zero trace).
#pragma once

#include "firmware/adam.hpp"
#include "firmware/eprop_kernels.hpp"
#include "firmware/learning.hpp"
#include "firmware/neuron_core.hpp"
#include "firmware/quantized_rewiring.hpp"

namespace qrsim {
namespace fw {

// Working memory: the pieces use the LearnScratch buffers (firmware/learning.hpp) a rule's
// init carves with carve_scratch; `hidden` says whether the recurrent rows learn.

// ---- update policies: the rule picks one and hands it to the pieces that update ----------
// (`update`: an UpdateMode; a rule following learn.update passes LearnParams::update, one
// with a scheme of its own passes its constant, and declares it in its RuleInfo.)
inline bool accumulating(uint8_t update) { return update != update_stochastic; }
inline bool block_scaled(const LearnParams& p, uint8_t update) { return accumulating(update) && p.acc_bits < 32; }
inline bool redraws_codes(const LearnParams& p, uint8_t update) { return accumulating(update) && p.stochastic_weights; }
// One parameter's step in hidden (or bias) LSBs from its gradient g, stochastically rounded
// (unbiased, so the expected step is the float step however far below one LSB it is):
int64_t sgd_step(LearnContext& c, int64_t g, int32_t mult, uint8_t shift);   // -(g mult) >> shift
int64_t sign_step(LearnContext& c, int64_t g, int32_t mult, uint8_t shift);  // -(sign(g) mult) >> shift
// Adam from the parameter's moments m, r (updated here) and the bias correction corr
// (adam_correction, once per update).
int64_t adam_step(LearnContext& c, int64_t g, int32_t& m, int32_t& r, int32_t corr, int32_t mult, uint8_t shift);
// The step of `update` (adam, sign, else SGD).
int64_t policy_step(LearnContext& c, uint8_t update, int64_t g, int32_t& m, int32_t& r, int32_t corr, int32_t mult,
                    uint8_t shift);
// acc[0, n) += g (acc as read from lmem_accum row `slot`; slot n_slots: the biases).
// Narrow accumulators hold a row's sum as mantissas x 2^exponent: contributions are scaled
// down by the exponent (stochastic rounding, so small ones survive in expectation) and the
// whole row halves whenever an entry would overflow, as in block floating point.
void accumulate_row(LearnContext& c, uint8_t update, uint32_t slot, uint32_t n, int32_t* acc, const int32_t* g);

// ---- traces ------------------------------------------------------------------------------
// decay(x) of a trace; zero stays zero without a draw (a hardware pipeline skips empty
// rows the same way), so the draws follow the activity.
inline int32_t decay_trace(int32_t x, const Decay& d, const LearnParams& p, Lfsr32& lfsr) {
    if (x == 0) return 0;
    return static_cast<int32_t>(decay(x, d, p.leak, p.trace_rounding, lfsr));
}
// Presynaptic traces: eps and, presynaptic placement, epsbar (when `hidden`); zbar always.
void presynaptic_trace_step(LearnContext& c, bool hidden);
// psi of every hidden neuron (returned, n_rec words of c.s.neuron_a) and, presynaptic
// placement, psibar.
const int32_t* pseudo_derivative_step(LearnContext& c);
// Per-synapse traces ebar (and the ALIF rows' eta) from psi and eps.
void synapse_trace_step(LearnContext& c, const int32_t* psi);

// ---- the readout window ------------------------------------------------------------------
// The readout error of step t into c.s.out[n_out, 2 n_out) (Q15); false outside the window.
bool window_error(LearnContext& c, uint16_t t);
// Learning signals L_j = sum_k B_jk err_k (returned, n_rec words of c.s.neuron_a), B =
// W_out^T (learn.feedback = symmetric, read from the readout CAM) or the LFSR-regenerated
// random matrix.
const int32_t* learning_signals(LearnContext& c, const int32_t* err);
// Per-entry gradients of the hidden rows from L and the traces (per synapse, or the
// factorised presynaptic one), each row into learn_entry_gradient.
void hidden_gradients(LearnContext& c, uint8_t update, const int32_t* L);
// Readout entries and biases: needs zbar in c.s.addr_b[2A, 2A + n_rec).
void readout_signal_step(LearnContext& c, uint8_t update, const int32_t* err);
// Gradient g of one row: added to the accumulators, or (stochastic) applied now.
void learn_entry_gradient(LearnContext& c, uint8_t update, uint32_t slot, int32_t* h, const int32_t* addr,
                          const int32_t* g, bool readout);

// ---- a sample, a run ---------------------------------------------------------------------
// Once: hidden parameters from the CAM, dormant entries, zeroed accumulators and moments.
void learn_init(LearnContext& c, uint8_t update, bool hidden);
void learn_begin_sample(LearnContext& c, bool hidden);
// End of sample: the accumulating policies apply every `batch` samples; Quantized
// Rewiring's projection and rewiring of the learned rows.
void learn_end_sample(LearnContext& c, uint8_t update, bool hidden);
// Before inference: the nearest codes of the learned rows into the CAM.
void learn_finish(LearnContext& c, uint8_t update, bool hidden);
// Bits the pieces keep in each learning memory for `update` (RuleOps::memory_bits).
uint64_t learn_memory_bits(const LearnParams& p, uint8_t update, uint8_t mem, bool hidden);

}  // namespace fw
}  // namespace qrsim
