// On-chip e-prop (Bellec et al. 2020) with Quantized Rewiring, and the pieces the
// readout-only delta rule shares with it. See firmware/learning.hpp for the call order and
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
//   stochastic  no accumulators: every window step applies dh = -lr G, stochastically rounded
//               to h's LSB (ReckOn-like; h's code and address live in the CAM)
// Accumulators narrower than 32 bits are block-scaled (one exponent per row, eprop.cpp).
// The CAM holds the nearest code of h; optionally (stochastic_weights, accumulating modes)
// every update writes fresh stochastic roundings of h instead, as the float QR trainer's
// forward pass, and finish writes the nearest codes.
// Decays use the membrane's leak mode (1.15 multiply or shift) with the configured rounding
// (stochastic: one firmware LFSR draw per non-zero trace).
#pragma once

#include "firmware/learning.hpp"

namespace qrsim {
namespace fw {

// Shared pieces (e-prop and the delta rule); `hidden`: the recurrent rows learn too.
void learn_init(LearnContext& c, bool hidden);
void learn_begin_sample(LearnContext& c, bool hidden);
// Presynaptic traces (eps for e-prop, epsbar for presynaptic placement, zbar always).
void presynaptic_trace_step(LearnContext& c, bool hidden);
// The readout error of step t into c.s.out[n_out, 2 n_out) (Q15); false outside the window.
bool window_error(LearnContext& c, uint16_t t);
// Readout entries and biases in the window: needs zbar in c.s.addr_b[2A, 2A + n_rec).
void readout_signal_step(LearnContext& c, const int32_t* err);
// End of sample: the accumulating modes apply every `batch` samples; rewiring of learned rows.
void learn_end_sample(LearnContext& c, bool hidden);
// Before inference: the nearest codes of the learned rows into the CAM.
void learn_finish(LearnContext& c, bool hidden);
// Gradient g of one row: added to the accumulators, or (stochastic) applied now.
void learn_entry_gradient(LearnContext& c, uint32_t slot, int32_t* h, const int32_t* addr, const int32_t* g,
                          bool readout);

}  // namespace fw
}  // namespace qrsim
