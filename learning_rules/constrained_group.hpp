// Training under the chip's synapse constraints (constraint_spec.hpp): the trainable
// parameterisation of one group of weights for
//   qr     Quantized Rewiring (Petschenig & Legenstein 2023), exact version: after every
//          update a projection puts the hidden parameters back into the compliant region,
//          so NO rounding outcome of the forward pass can exceed the fan-in limit K;
//   deepr  DEEP R (Bellec et al. ICLR 2018): fixed signs, a budget of exactly K active
//          connections per neuron, L1 + Langevin noise, random reactivation;
//   dense  plain float weights, no constraint (the baseline that prune_and_round cuts).
// The methods restated: docs/references.md#quantized-rewiring and #deep-r.
//
// The qr projection, after every step: (1) the pair's net weight (a negative count counts
// for the opposite sign) fixes its sign; (2) canonical form: uniform clipped to the largest
// code, dynapse1 into the sign's types, an integer large count and the rest small (the
// large base of each sign may be any multiple > 1 of the one small base, see BaseChoice);
// (3) the smallest pairs of the group are zeroed down to connectivity x all pairs; (4) per
// row, the smallest entries (worst case: every count rounded up; a pair loses its own
// smallest first, ties from the smaller pair) are removed until exactly <= K; (5) regrowth:
// pruned pairs keep hidden 0 and still receive gradient (options.regrow), and optionally
// random dormant pairs take up free entries (options.random_regrowth).
// deepr rounds an active weight to the levels ONE entry can carry (dynapse1 {s, 4s},
// dynapse2 {s..15s}, uniform codes), so K active connections never need more than K entries.
//
// Use in a trainer, per minibatch:
//   group->weights(w, &rng);            // effective weights (stochastic rounding)
//   ... forward / backward -> dw = dE/dw ...
//   group->hidden_gradient(dw, dh);     // straight-through, scaled to weight space
//   optimizer.step(group->hidden(), dh);
//   group->after_step(lr, rng);         // projection (qr) / rewiring (deepr)
// and group->weights(w, nullptr) (nearest rounding) to evaluate or export.
#pragma once

#include "common/constraint_spec.hpp"
#include "common/rsnn.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace qrsim {

// ---- Checking a weight matrix against a spec

struct ConstraintCheck {
    long long violations = 0;         // fanin_violations + weight_violations
    long long fanin_violations = 0;   // rows using more than K entries
    long long weight_violations = 0;  // weights that no entry combination realises
    int max_fanin = 0;                // entries of the fullest row
    long long active_pairs = 0;       // non-zero weights
    long long entries = 0;            // entries used by the whole group
};

// Entries are counted with entry_count (the fewest that realise each weight).
ConstraintCheck check_constraints(const Matrix& w, const ConstraintSpec& spec, const GroupQuant& quant);

// How the dynapse bases are chosen from the initial weights (config constraint.bases):
//   ladder     dynapse1: small r/8, large 4 x small, exc and inh alike; dynapse2: s, 2s,
//              4s, 8s (choose_quant below)
//   optimised  dynapse1: the Quantized Rewiring paper's choice, the small base fixed (the
//              ladder's r/8), each sign's large base by Nelder-Mead on dynapse1_base_cost;
//              dynapse2: the core's 4 programmable bases by Nelder-Mead on
//              dynapse2_base_cost; once, at initialisation. The on-chip learning firmware
//              assumes the dynapse2 ladder (the tile runs any bases).
enum class BaseChoice { ladder, optimised };
std::string to_string(BaseChoice bases);
BaseChoice base_choice_from_string(const std::string& name);  // throws on unknown names

// The levels for weights like w. Range r = min(4 x rms of the non-zero weights, max |w|)
// (4/sqrt(cols) if w is all zero); uniform: scale = r / 2^(b-1); dynapse1: bases r/8 and
// r/2 = 4 x r/8 (exc and inh alike); dynapse2: bases s, 2s, 4s, 8s with s = r/16, so one
// entry reaches 15 s. Kind none: scale 1. BaseChoice::optimised (dynapse1 and dynapse2 only,
// else std::invalid_argument): optimise_dynapse1_bases with the ladder's small base, or
// optimise_dynapse2_bases from the ladder.
GroupQuant choose_quant(const ConstraintSpec& spec, const Matrix& w, BaseChoice bases = BaseChoice::ladder);

// The paper's cost of dynapse1 levels for the weights w (one group, rows = neurons):
//   alpha x median over all pairs of |w_hat - w|
//   + (1 - alpha) x mean over rows of (entries w_hat uses / entries if only the small base existed)
// where w_hat is w split greedily (c_large = floor(|w| / large base of its sign), the rest
// rounded to a count of the small base; c_large + c_small entries) and then cut like the
// projection's steps (3)-(4): the smallest pairs down to the connectivity budget, per row
// the smallest entries (ties: of the smaller pair) until <= K. Rows that need no small
// entry are left out of the mean. quant must be dynapse1 with one small base for both signs.
double dynapse1_base_cost(const ConstraintSpec& spec, const Matrix& w, const GroupQuant& quant, double alpha = 0.5);

// dynapse1 levels {s, L_exc, s, L_inh}: s = small_base, and (L_exc, L_inh) minimising
// dynapse1_base_cost, by 2-D Nelder-Mead over x = log(L / s - 1) (so L > s always) from the
// ladder's L = 4 s; never costlier than the ladder's large bases. The evaluation count and
// the costs go to *info when given.
struct BaseChoiceInfo {
    double ladder_cost = 0;     // of {s, 4s, s, 4s}
    double optimised_cost = 0;  // of the levels returned
    int evaluations = 0;
};
GroupQuant optimise_dynapse1_bases(const ConstraintSpec& spec, const Matrix& w, double small_base,
                                   BaseChoiceInfo* info = nullptr);

// The squared error of dynapse2 levels for the weights w (one group, rows = neurons):
//   mean over all pairs of (w_hat - w)^2
// where w_hat is w in the nearest representation (full entries of all 4 bases, the rest the
// nearest mask's sum) cut like the projection's steps (3)-(4): the smallest pairs down to the
// connectivity budget, per row the smallest entries until <= K. So it weighs the levels'
// rounding against the entries a large weight takes from the row's K. quant: dynapse2 with
// base[0] > 0 the smallest base.
double dynapse2_base_cost(const ConstraintSpec& spec, const Matrix& w, const GroupQuant& quant);

// dynapse2 bases minimising dynapse2_base_cost, by 4-D Nelder-Mead over x = log(base / s)
// from the ladder (s = ladder.base[0]), from it at half and twice the scale, and from ratios
// of 3; sorted ascending; never costlier than the ladder, which is returned if nothing beats it.
GroupQuant optimise_dynapse2_bases(const ConstraintSpec& spec, const Matrix& w, const GroupQuant& ladder,
                                   BaseChoiceInfo* info = nullptr);

// The mask (1 allowed, 0 forbidden) of the recurrent group [w_in | w_rec]: no self-connections.
Matrix no_self_connections_mask(int n_rec, int n_in);

// ---- The trainable group

struct GroupOptions {
    // DEEP R
    double l1 = 1e-5;            // alpha: theta -= lr * l1 each step for active connections
    double temperature = 1e-12;  // T: theta += sqrt(2 lr T) N(0,1) for active connections
    // Quantized Rewiring
    bool regrow = true;          // dormant pairs receive gradient and may regrow through it
    bool random_regrowth = false;  // also reactivate random dormant pairs into free entries
    // All methods
    Matrix allowed;                   // rows x cols, 0 = pair never connected; empty: all allowed
    std::optional<GroupQuant> quant;  // levels to use; default: choose_quant(initial weights, bases)
    BaseChoice bases = BaseChoice::ladder;  // optimised: chosen on the allowed pairs of the initial weights
};
using DeepROptions = GroupOptions;

class ConstrainedGroup {
public:
    virtual ~ConstrainedGroup() = default;

    // method: "qr", "deepr" or "dense". The initial weights set the levels (unless
    // options.quant) and are projected into the constraint region. Throws
    // std::invalid_argument on an unknown method, invalid spec or mismatched shapes.
    static std::unique_ptr<ConstrainedGroup> make(const std::string& method, const ConstraintSpec& spec,
                                                  const Matrix& initial_weights, uint64_t seed,
                                                  const GroupOptions& options = {});

    // What the optimizer steps on. qr: units of the level step per pair (uniform, dynapse2,
    // none), or 4 counts per pair [exc small, exc large, inh small, inh large] side by side
    // (dynapse1: rows x 4 cols); deepr: theta (weight units, < 0 dormant); dense: weights.
    virtual Matrix& hidden() = 0;
    // Effective weights (rows x cols): stochastic rounding with the rng, nearest without.
    virtual void weights(Matrix& w, std::mt19937_64* stochastic) const = 0;
    // Straight-through gradient of the hidden parameters from dE/dw, scaled so that a step
    // -lr * d_hidden moves the weight by -lr * dw.
    virtual void hidden_gradient(const Matrix& dw, Matrix& d_hidden) const = 0;
    // After every optimizer step: qr projects, deepr rewires, dense re-zeroes forbidden pairs.
    virtual void after_step(double learning_rate, std::mt19937_64& rng) = 0;
    // Replaces the parameters by ones whose effective weights are w (in the current levels),
    // then constrains them (e.g. to load a checkpoint; compliant w come back unchanged).
    virtual void set_weights(const Matrix& w) = 0;
    // The most entries any row can use under ANY rounding outcome of weights().
    virtual int worst_case_fanin() const = 0;

    // The weight a step of one unit in hidden() moves: the scale or smallest base for qr
    // (the sum of the four bases for dynapse1, whose four counts move together), 1 otherwise.
    // Adam's steps are about lr in hidden units whatever the gradient's scale, so give a qr
    // group lr / hidden_unit() to move its weights as fast as a dense group's.
    double hidden_unit() const;
    GroupQuant quant() const { return quant_; }
    // How the levels were chosen when options.bases was optimised (empty for the ladder).
    const std::optional<BaseChoiceInfo>& base_choice() const { return base_info_; }
    ConstraintCheck check(const Matrix& w) const { return check_constraints(w, spec_, quant_); }
    const ConstraintSpec& spec() const { return spec_; }
    const std::string& method() const { return method_; }
    int rows() const { return rows_; }
    int cols() const { return cols_; }

protected:
    ConstrainedGroup(std::string method, const ConstraintSpec& spec, const GroupQuant& quant, int rows,
                     int cols, const Matrix& allowed);
    bool allowed(int pair) const { return allowed_.empty() || allowed_[pair] != 0; }

    std::string method_;
    ConstraintSpec spec_;
    GroupQuant quant_;
    int rows_ = 0;
    int cols_ = 0;
    std::vector<char> allowed_;  // per pair (row-major); empty: all allowed
    std::optional<BaseChoiceInfo> base_info_;  // set by make()
};

// Post-training baseline: choose the levels from w's largest K pairs per row, round every
// weight to the nearest level, then keep per row the largest entries within K (and the
// largest pairs within the connectivity budget). w is replaced by the result.
void prune_and_round(Matrix& w, const ConstraintSpec& spec, GroupQuant& quant);

}  // namespace qrsim
