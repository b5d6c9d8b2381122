#include "learning_rules/synapse_fit.hpp"

#include <coin/ClpSimplex.hpp>
#include <coin/CoinPackedMatrix.hpp>
#include <coin/CoinPackedVector.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace qrsim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double clamp(double x, double lo, double hi) { return std::min(hi, std::max(lo, x)); }

// Rows whose error counts at w: two-sided rows always, one-sided rows when violated.
std::vector<int> active_rows(const FitProblem& p, const Vector& w, bool all_one_sided) {
    const Vector rw = p.r * w;
    std::vector<int> rows;
    for (int k = 0; k < p.r.rows(); ++k) {
        const RowKind kind = p.kind_of(k);
        if (kind == RowKind::equal || all_one_sided || (kind == RowKind::at_most && rw[k] > p.c[k]) ||
            (kind == RowKind::at_least && rw[k] < p.c[k]))
            rows.push_back(k);
    }
    return rows;
}

void normal_equations(const FitProblem& p, const std::vector<int>& rows, double ridge, Matrix& h, Vector& g) {
    Matrix ra(rows.size(), p.n());
    Vector ca(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        ra.row(i) = p.r.row(rows[i]);
        ca[i] = p.c[rows[i]];
    }
    h.noalias() = ra.transpose() * ra;
    g.noalias() = ra.transpose() * ca;
    // The ridge is relative to the whole problem's scale, so an empty active set stays regular.
    const double scale = std::max(p.r.colwise().squaredNorm().mean(), 1e-12);
    h.diagonal().array() += ridge * scale;
}

}  // namespace

double nearest_level(double x, double step, int max_code) {
    return step * clamp(std::round(x / step), -max_code, max_code);
}

Vector fit_residual(const FitProblem& p, const Vector& w) {
    Vector e = p.r * w - p.c;
    for (int k = 0; k < e.size(); ++k) {
        const RowKind kind = p.kind_of(k);
        if ((kind == RowKind::at_most && e[k] < 0) || (kind == RowKind::at_least && e[k] > 0)) e[k] = 0;
    }
    return e;
}

Vector box_qp(const Matrix& h, const Vector& g, const Vector& lo, const Vector& hi) {
    const int n = static_cast<int>(g.size());
    Vector w(n);
    std::vector<int8_t> at(n, 0);  // 0 free, -1 at lo, +1 at hi
    for (int i = 0; i < n; ++i) {
        w[i] = clamp(0.0, lo[i], hi[i]);
        if (w[i] == lo[i] && std::isfinite(lo[i]) && lo[i] == hi[i]) at[i] = -1;
    }
    const double tol = 1e-12 * std::max(1.0, h.diagonal().maxCoeff());
    for (int iter = 0; iter < 20 * n + 50; ++iter) {
        std::vector<int> free;
        for (int i = 0; i < n; ++i)
            if (at[i] == 0) free.push_back(i);
        const int nf = static_cast<int>(free.size());
        Vector z = w;
        if (nf > 0) {
            Matrix hff(nf, nf);
            Vector rhs(nf);
            for (int a = 0; a < nf; ++a) {
                rhs[a] = g[free[a]];
                for (int j = 0; j < n; ++j)
                    if (at[j] != 0) rhs[a] -= h(free[a], j) * w[j];
                for (int b = 0; b < nf; ++b) hff(a, b) = h(free[a], free[b]);
            }
            const Vector zf = hff.ldlt().solve(rhs);
            for (int a = 0; a < nf; ++a) z[free[a]] = zf[a];
        }
        // Step towards the subspace optimum, stopping at the first bound it crosses.
        double step = 1.0;
        int blocking = -1;
        for (int i : free) {
            if (z[i] < lo[i] && z[i] < w[i]) {
                const double s = (lo[i] - w[i]) / (z[i] - w[i]);
                if (s < step) step = s, blocking = i;
            } else if (z[i] > hi[i] && z[i] > w[i]) {
                const double s = (hi[i] - w[i]) / (z[i] - w[i]);
                if (s < step) step = s, blocking = i;
            }
        }
        if (blocking >= 0) {
            w[blocking] = z[blocking] < lo[blocking] ? lo[blocking] : hi[blocking];
            for (int i : free)
                if (i != blocking) w[i] += step * (z[i] - w[i]);
            for (int i : free) {
                const double eps = tol * (1 + std::abs(w[i]));
                if (z[i] < lo[i] && w[i] <= lo[i] + eps) w[i] = lo[i], at[i] = -1;
                else if (z[i] > hi[i] && w[i] >= hi[i] - eps) w[i] = hi[i], at[i] = 1;
            }
            continue;
        }
        w = z;
        // KKT on the bound variables: release the one whose gradient pulls inwards the most.
        const Vector grad = h * w - g;
        int release = -1;
        double worst = tol;
        for (int i = 0; i < n; ++i) {
            if (lo[i] == hi[i]) continue;
            const double pull = at[i] < 0 ? -grad[i] : at[i] > 0 ? grad[i] : 0.0;
            if (pull > worst) worst = pull, release = i;
        }
        if (release < 0) return w;
        at[release] = 0;
    }
    return w;
}

Vector solve_bounded_lsq(const FitProblem& p, double ridge) {
    // Semi-smooth Newton on the squared hinge: fit the rows active at the current w, repeat
    // until the active set is stable. Starting with every row active gives a sensible first w.
    Matrix h;
    Vector g, w;
    std::vector<int> rows = active_rows(p, Vector::Zero(p.n()), true);
    for (int iter = 0; iter < 50; ++iter) {
        normal_equations(p, rows, ridge, h, g);
        w = box_qp(h, g, p.lo, p.hi);
        std::vector<int> next = active_rows(p, w, false);
        if (next == rows) break;
        rows.swap(next);
    }
    return w;
}

LpNorm lp_norm_from_string(const std::string& name) {
    if (name == "l1") return LpNorm::l1;
    if (name == "linf") return LpNorm::linf;
    throw std::invalid_argument("LP norm '" + name + "' is unknown (known: l1, linf)");
}

namespace {

// The LP of one neuron in Clp. Columns: w (n), then the error variables (one per row for
// L1, one in all for L-infinity).
class LpModel {
public:
    LpModel(const FitProblem& p, LpNorm norm) : n_(p.n()) {
        const int samples = static_cast<int>(p.r.rows());
        const int n_err = norm == LpNorm::l1 ? samples : 1;
        const int cols = n_ + n_err;
        std::vector<double> col_lo(cols, 0.0), col_hi(cols, COIN_DBL_MAX), obj(cols, 0.0);
        for (int i = 0; i < n_; ++i) {
            col_lo[i] = std::isfinite(p.lo[i]) ? p.lo[i] : -COIN_DBL_MAX;
            col_hi[i] = std::isfinite(p.hi[i]) ? p.hi[i] : COIN_DBL_MAX;
        }
        for (int e = n_; e < cols; ++e) obj[e] = 1.0;
        CoinPackedMatrix m(false, 0, 0);
        m.setDimensions(0, cols);
        std::vector<double> row_lo, row_hi;
        std::vector<int> index(n_ + 1);
        std::vector<double> value(n_ + 1);
        std::iota(index.begin(), index.begin() + n_, 0);
        for (int k = 0; k < samples; ++k) {
            for (int i = 0; i < n_; ++i) value[i] = p.r(k, i);
            index[n_] = n_ + (norm == LpNorm::l1 ? k : 0);
            const RowKind kind = p.kind_of(k);
            // r.w - e <= c  (the current may not exceed the target by more than e)
            if (kind != RowKind::at_least) {
                value[n_] = -1.0;
                m.appendRow(n_ + 1, index.data(), value.data());
                row_lo.push_back(-COIN_DBL_MAX);
                row_hi.push_back(p.c[k]);
            }
            // r.w + e >= c  (nor fall short of it by more than e)
            if (kind != RowKind::at_most) {
                value[n_] = 1.0;
                m.appendRow(n_ + 1, index.data(), value.data());
                row_lo.push_back(p.c[k]);
                row_hi.push_back(COIN_DBL_MAX);
            }
        }
        model_.setLogLevel(0);
        model_.loadProblem(m, col_lo.data(), col_hi.data(), obj.data(), row_lo.data(), row_hi.data());
    }

    LpSolution solve() {
        model_.dual();  // re-solves warm from the previous basis after bound changes
        if (!model_.isProvenOptimal())
            throw std::runtime_error("Clp: the synapse LP did not reach an optimum (status " +
                                     std::to_string(model_.status()) + ")");
        LpSolution s;
        s.w = Eigen::Map<const Vector>(model_.primalColumnSolution(), n_);
        s.objective = model_.objectiveValue();
        return s;
    }

    void fix(int i, double value) {
        model_.setColumnLower(i, value);
        model_.setColumnUpper(i, value);
    }

private:
    int n_;
    ClpSimplex model_;
};

}  // namespace

LpSolution solve_lp(const FitProblem& p, LpNorm norm) { return LpModel(p, norm).solve(); }

Vector round_lsq_feedback(const FitProblem& p, const Vector& w_relaxed, double step, int max_code,
                          const std::vector<char>& quantized, double ridge) {
    Matrix h;
    Vector g;
    normal_equations(p, active_rows(p, w_relaxed, false), ridge, h, g);
    Matrix hinv = h.ldlt().solve(Matrix::Identity(p.n(), p.n()));
    Vector w = w_relaxed;
    std::vector<int> todo;
    for (int i = 0; i < p.n(); ++i)
        if (quantized[i]) todo.push_back(i);
    while (!todo.empty()) {
        // Greedy (OBQ): round the synapse whose rounding costs least after the refit.
        size_t best = 0;
        double best_cost = kInf;
        for (size_t a = 0; a < todo.size(); ++a) {
            const int i = todo[a];
            const double d = w[i] - nearest_level(w[i], step, max_code);
            const double cost = d * d / hinv(i, i);
            if (cost < best_cost) best_cost = cost, best = a;
        }
        const int i = todo[best];
        todo.erase(todo.begin() + best);
        const double q = nearest_level(w[i], step, max_code);
        // Refit the others with w_i fixed at q: w -= (w_i - q) Hinv_:i / Hinv_ii, then drop i.
        const Vector col = hinv.col(i);
        w -= (w[i] - q) / col[i] * col;
        hinv -= col * col.transpose() / col[i];
        w[i] = q;
    }
    return w;
}

Vector polish_levels(const FitProblem& p, const Vector& w_rounded, double step, int max_code,
                     const std::vector<char>& quantized) {
    const Eigen::MatrixXd r = p.r;  // column-major: one input's column is contiguous
    const int samples = static_cast<int>(r.rows()), n = p.n();
    Vector w = w_rounded;
    Vector e = r * w - p.c;
    auto counts = [&](int k, double x) {  // does row k's error x count?
        const RowKind kind = p.kind_of(k);
        return kind == RowKind::equal || (kind == RowKind::at_most && x > 0) || (kind == RowKind::at_least && x < 0);
    };
    // The squared residual after moving input i by di and input j by dj.
    auto loss_after = [&](int i, double di, int j = -1, double dj = 0) {
        double sum = 0;
        for (int k = 0; k < samples; ++k) {
            const double x = e[k] + di * r(k, i) + (j >= 0 ? dj * r(k, j) : 0.0);
            if (counts(k, x)) sum += x * x;
        }
        return sum;
    };
    auto move = [&](int i, double d) {
        w[i] += d;
        e.noalias() += d * r.col(i);
    };
    auto level_ok = [&](int i, double d) {
        const double to = w[i] + d;
        return std::abs(to) <= step * (max_code + 0.5) && to >= p.lo[i] && to <= p.hi[i];
    };
    auto single_moves = [&] {
        bool moved = false;
        for (int i = 0; i < n; ++i) {
            const double now = loss_after(i, 0.0);
            if (quantized[i]) {
                for (double d : {step, -step})
                    if (level_ok(i, d) && loss_after(i, d) < now * (1 - 1e-12)) {
                        move(i, d);
                        moved = true;
                        break;
                    }
                continue;
            }
            // Semi-smooth Newton on the one coordinate: exact for two-sided rows.
            for (int it = 0; it < 4; ++it) {
                double g = 0, h = 0;
                for (int k = 0; k < samples; ++k)
                    if (counts(k, e[k])) g += e[k] * r(k, i), h += r(k, i) * r(k, i);
                if (h <= 0) break;
                const double d = clamp(w[i] - g / h, p.lo[i], p.hi[i]) - w[i];
                if (d == 0 || loss_after(i, d) >= loss_after(i, 0.0) * (1 - 1e-12)) break;
                move(i, d);
                moved = true;
            }
        }
        return moved;
    };
    // Pairs of one-level moves, screened by the quadratic model on the rows that count now
    // and verified exactly: they cross the ridges single moves cannot (raise one synapse,
    // lower a correlated one).
    auto pair_move = [&] {
        Vector m(samples);
        for (int k = 0; k < samples; ++k) m[k] = counts(k, e[k]) ? 1.0 : 0.0;
        const Eigen::MatrixXd rm = m.asDiagonal() * r;
        const Eigen::MatrixXd h = rm.transpose() * r;
        const Vector g = rm.transpose() * e;
        const double now = e.cwiseProduct(m).squaredNorm();
        struct Candidate {
            double gain;
            int i, j;
            double di, dj;
        };
        std::vector<Candidate> found;
        for (int i = 0; i < n; ++i) {
            if (!quantized[i]) continue;
            for (int j = i + 1; j < n; ++j) {
                if (!quantized[j]) continue;
                for (double di : {step, -step})
                    for (double dj : {step, -step}) {
                        const double delta = 2 * (di * g[i] + dj * g[j]) + di * di * h(i, i) + dj * dj * h(j, j) +
                                             2 * di * dj * h(i, j);
                        if (delta < -1e-12 * now && level_ok(i, di) && level_ok(j, dj))
                            found.push_back({delta, i, j, di, dj});
                    }
            }
        }
        std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) { return a.gain < b.gain; });
        constexpr size_t kVerify = 8;
        for (size_t a = 0; a < std::min(found.size(), kVerify); ++a) {
            const Candidate& c = found[a];
            if (loss_after(c.i, c.di, c.j, c.dj) < now * (1 - 1e-12)) {
                move(c.i, c.di);
                move(c.j, c.dj);
                return true;
            }
        }
        return false;
    };
    constexpr int kMaxRounds = 200;
    for (int round = 0; round < kMaxRounds; ++round) {
        while (single_moves()) {
        }
        if (!pair_move()) break;
    }
    return w;
}

LpSolution round_lp_feedback(const FitProblem& p, LpNorm norm, const Vector& w_relaxed, double step, int max_code,
                             const std::vector<char>& quantized) {
    LpModel model(p, norm);
    LpSolution s{w_relaxed, 0.0};
    std::vector<int> todo;
    for (int i = 0; i < p.n(); ++i)
        if (quantized[i]) todo.push_back(i);
    // Fix the synapses in a few batches, those closest to a level first; the re-solve after
    // each batch moves the rest to absorb the rounding error.
    constexpr int kBatches = 8;
    const size_t batch = std::max<size_t>(1, (todo.size() + kBatches - 1) / kBatches);
    while (!todo.empty()) {
        std::sort(todo.begin(), todo.end(), [&](int a, int b) {
            return std::abs(s.w[a] - nearest_level(s.w[a], step, max_code)) <
                   std::abs(s.w[b] - nearest_level(s.w[b], step, max_code));
        });
        const size_t take = std::min(batch, todo.size());
        for (size_t a = 0; a < take; ++a) model.fix(todo[a], nearest_level(s.w[todo[a]], step, max_code));
        todo.erase(todo.begin(), todo.begin() + take);
        s = model.solve();
    }
    for (int i = 0; i < p.n(); ++i)
        if (quantized[i]) s.w[i] = nearest_level(s.w[i], step, max_code);  // exact levels, not solver round-off
    return s;
}

ObsEliminator::ObsEliminator(const Matrix& gram, const Matrix& rhs, double ridge) {
    Matrix h = gram;
    h.diagonal().array() += ridge;
    hinv_ = h.ldlt().solve(Matrix::Identity(h.rows(), h.cols()));
    w_ = hinv_ * rhs;
    active_.assign(h.rows(), 1);
}

double ObsEliminator::cost(int i) const { return w_.row(i).squaredNorm() / hinv_(i, i); }

void ObsEliminator::remove(int i) {
    if (i < 0 || i >= static_cast<int>(active_.size())) throw std::logic_error("ObsEliminator: no input " + std::to_string(i));
    if (!active_[i]) throw std::logic_error("ObsEliminator: input removed twice");
    const Vector col = hinv_.col(i);
    w_ -= col * (w_.row(i) / col[i]);
    hinv_ -= col * col.transpose() / col[i];
    w_.row(i).setZero();
    hinv_.row(i).setZero();
    hinv_.col(i).setZero();
    hinv_(i, i) = 1.0;  // keeps cost() finite for removed inputs; they are never chosen again
    active_[i] = 0;
}

std::vector<int> ObsEliminator::eliminate_to(int target, const std::vector<char>& protect) {
    auto counted = [&](int i) { return active_[i] && (protect.empty() || !protect[i]); };
    int remaining = 0;
    for (int i = 0; i < static_cast<int>(active_.size()); ++i) remaining += counted(i);
    while (remaining > target) {
        int best = -1;
        double best_cost = kInf;
        for (int i = 0; i < static_cast<int>(active_.size()); ++i)
            if (counted(i) && cost(i) < best_cost) best_cost = cost(i), best = i;
        // Every cost NaN or inf (weights so large the Gram matrix overflowed): no input
        // can be chosen, and remove(-1) would write outside the matrices.
        if (best < 0) throw std::runtime_error("fan-in elimination: the fit's costs are not finite (weights too large)");
        remove(best);
        --remaining;
    }
    std::vector<int> kept;
    for (int i = 0; i < static_cast<int>(active_.size()); ++i)
        if (active_[i]) kept.push_back(i);
    return kept;
}

}  // namespace qrsim
