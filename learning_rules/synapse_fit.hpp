// The per-neuron problems of layer-wise synapse optimisation (Mern, Gupta, Kochenderfer,
// IEEE SSCI 2017; docs/references.md#layer-wise-conversion). One output neuron at a time: find its
// synapses w so that the current r_k . w it receives on sampled input k matches a target
// current c_k derived from the ANN's activation.
//
// Rows are two-sided (r.w = c) or one-sided: where the ANN unit is silent the neuron only
// has to stay below threshold (r.w <= c), where it saturates only above (r.w >= c).
//
//   bounded least squares  min  sum_eq (r.w - c)^2 + sum_one-sided max(0, violation)^2
//                          + ridge |w|^2,  lo <= w <= hi                    (Eigen, fast path)
//   LP, L1                 min  sum_k e_k,  |r_k.w - c_k| <= e_k (one side for one-sided rows)
//   LP, L-infinity         min  t,          |r_k.w - c_k| <= t                   (COIN-OR Clp)
//
// Integer levels (w = step x code, |code| <= max_code): solve the relaxation, then round one
// synapse at a time and let the ones not yet rounded absorb the error (error feedback):
// for L2 the exact refit through the inverse Gram matrix (OBQ/OBS update), for the LPs a
// warm-started re-solve with the rounded synapses fixed.
#pragma once

#include "common/rsnn.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace qrsim {

enum class RowKind : int8_t { equal, at_most, at_least };

struct FitProblem {
    Matrix r;                   // samples x inputs
    Vector c;                   // target per sample
    std::vector<RowKind> kind;  // per sample; empty: every row two-sided
    Vector lo, hi;              // per input (may be +-infinity)

    int n() const { return static_cast<int>(r.cols()); }
    RowKind kind_of(int k) const { return kind.empty() ? RowKind::equal : kind[k]; }
};

// The level nearest to x: step x code, |code| <= max_code.
double nearest_level(double x, double step, int max_code);

// Residual per row with one-sided rows that hold counted as 0.
Vector fit_residual(const FitProblem& p, const Vector& w);

// min 1/2 w'Hw - g'w subject to lo <= w <= hi, H symmetric positive definite (primal
// active set; exact for the small problems here).
Vector box_qp(const Matrix& h, const Vector& g, const Vector& lo, const Vector& hi);

// Bounded least squares with one-sided rows (the active set of violated one-sided rows is
// iterated to a fixed point). `ridge` is relative to the mean diagonal of r'r.
Vector solve_bounded_lsq(const FitProblem& p, double ridge = 1e-6);

enum class LpNorm { l1, linf };
LpNorm lp_norm_from_string(const std::string& name);  // "l1" | "linf"; throws otherwise

struct LpSolution {
    Vector w;
    double objective = 0;  // sum of errors (l1) or the largest error (linf)
};

// Throws std::runtime_error if Clp does not report an optimum.
LpSolution solve_lp(const FitProblem& p, LpNorm norm);

// Integer levels by error feedback. `quantized[i]` false leaves input i continuous (e.g. a
// readout bias). Codes are clamped to [-max_code, max_code]; returns w = step x code.
Vector round_lsq_feedback(const FitProblem& p, const Vector& w_relaxed, double step, int max_code,
                          const std::vector<char>& quantized, double ridge = 1e-6);
// Local search after rounding: moves one synapse by one level at a time while that lowers
// the squared residual (one-sided rows counted when violated), and moves each continuous
// input to its 1-D optimum; stops when a sweep over all inputs changes nothing. Greedy
// rounding fixes each synapse once; this revisits the early choices.
Vector polish_levels(const FitProblem& p, const Vector& w_rounded, double step, int max_code,
                     const std::vector<char>& quantized);
LpSolution round_lp_feedback(const FitProblem& p, LpNorm norm, const Vector& w_relaxed, double step, int max_code,
                             const std::vector<char>& quantized);

// Optimal brain surgeon on a least-squares fit of several targets on shared inputs:
// W = (G + ridge I)^-1 B with G = R'R (inputs x inputs) and B = R'C (inputs x targets).
// Removing input i raises the total squared error by |W_i|^2 / Hinv_ii exactly; remove()
// downdates Hinv and W so that W stays the refit on the remaining inputs.
class ObsEliminator {
public:
    ObsEliminator(const Matrix& gram, const Matrix& rhs, double ridge);
    double cost(int i) const;
    void remove(int i);
    // Removes the cheapest input, one at a time, until `target` unprotected inputs remain
    // (protect[i] != 0: never removed, not counted); returns the active inputs, ascending.
    std::vector<int> eliminate_to(int target, const std::vector<char>& protect = {});
    bool active(int i) const { return active_[i] != 0; }
    const Matrix& weights() const { return w_; }  // inputs x targets; removed rows are 0

private:
    Matrix hinv_, w_;
    std::vector<char> active_;
};

}  // namespace qrsim
