// Quantized Rewiring, DEEP R and the dense baseline for one group of weights; see the
// header and docs/references.md#quantized-rewiring and #deep-r.
#include "learning_rules/constrained_group.hpp"

#include "learning_rules/nelder_mead.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace qrsim {
namespace {

constexpr double kLargeRatio = 4.0;   // dynapse1 ladder: large base = 4 x small base, both signs
constexpr double kFullMask = 15.0;    // dynapse2 with bases s, 2s, 4s, 8s: one entry reaches 15 s
constexpr double kSnap = 1e-9;        // units closer than this to an integer are that integer
constexpr double kRegrowUnits = 1e-2; // QR random regrowth: a new pair starts this small
constexpr double kDormantTheta = -1e-12;  // DEEP R: dormant connections are kept below zero
constexpr double kInf = std::numeric_limits<double>::infinity();

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Rounds x >= 0 to an integer: unbiased stochastic rounding with an rng, nearest without.
double round_units(double x, std::mt19937_64* rng) {
    const double lo = std::floor(x);
    const double frac = x - lo;
    if (!rng) return frac >= 0.5 ? lo + 1 : lo;
    if (frac == 0) return lo;
    return uniform01(*rng) < frac ? lo + 1 : lo;
}

// The weight of one unit of a pair's magnitude: the uniform scale, the smallest dynapse base.
double unit_weight(const GroupQuant& quant) {
    switch (quant.kind) {
    case WeightKind::none: return 1.0;
    case WeightKind::uniform: return quant.scale;
    case WeightKind::dynapse1:
    case WeightKind::dynapse2: return quant.base[0];
    }
    return 1.0;
}

long long connectivity_budget(const ConstraintSpec& spec, long long pairs) {
    return spec.connectivity >= 1.0 ? pairs : static_cast<long long>(std::floor(spec.connectivity * pairs));
}

// dynapse1: a = ratio x large + small, the largest integer large count and the rest
// (>= 0) small, in units of the small base. An integer ratio (the ladder's 4) splits
// exactly; another one leaves rounding noise in the quotient and the rest, so within kSnap
// of an integer they are that integer (a pair of 3 large + 2 small must not read back as 2
// large + (ratio + 2 - tiny) small, nor grow a phantom fraction of a small entry).
struct Dynapse1Split {
    double large, small;
};
Dynapse1Split split_dynapse1(double a, double ratio) {
    double large = std::floor(a / ratio);
    if (ratio == std::floor(ratio)) return {large, a - ratio * large};
    if (std::abs(a - ratio * (large + 1)) <= kSnap) large += 1;
    double small = std::max(0.0, a - ratio * large);
    const double n = std::nearbyint(small);
    if (std::abs(small - n) <= kSnap) small = n;
    return {large, small};
}

// The large/small base ratios of dynapse1 levels {s, L_exc, s, L_inh}: {L_exc / s, L_inh / s}.
std::array<double, 2> dynapse1_ratios(const GroupQuant& quant) {
    return {quant.base[1] / quant.base[0], quant.base[3] / quant.base[2]};
}

// dynapse2 bases {s, 2s, 4s, 8s}: every mask weighs an integer number of s.
bool is_dynapse2_ladder(const GroupQuant& quant) {
    const double s = quant.base[0];
    auto same = [](double x, double y) { return std::abs(x - y) <= 1e-12 * std::abs(y); };
    return same(quant.base[1], 2 * s) && same(quant.base[2], 4 * s) && same(quant.base[3], 8 * s);
}

// The weight of all four dynapse2 bases (mask 15) in units of the smallest, base[0].
double dynapse2_full_units(const GroupQuant& quant) {
    if (is_dynapse2_ladder(quant)) return kFullMask;
    return (quant.base[0] + quant.base[1] + quant.base[2] + quant.base[3]) / quant.base[0];
}

// The magnitudes one dynapse2 entry carries, in units of base[0]: 0 and the 15 masks' sums,
// sorted, duplicates removed.
std::vector<double> dynapse2_entry_units(const GroupQuant& quant) {
    std::vector<double> levels{0.0};
    for (int mask = 1; mask <= 15; ++mask) levels.push_back(entry_weight(quant, mask) / quant.base[0]);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    return levels;
}

// Rounds x >= 0 to one of the sorted levels (levels[0] = 0) between its neighbours:
// unbiased with an rng, nearest without; above the top level it saturates.
double round_to_levels(double x, const std::vector<double>& levels, std::mt19937_64* rng) {
    if (levels.empty()) return x;
    // A rest computed as a - F n can land an ulp below 0.
    if (x < levels.front()) return levels.front();
    const auto hi = std::upper_bound(levels.begin(), levels.end(), x);
    if (hi == levels.end()) return levels.back();
    const double up = *hi, down = *(hi - 1);
    if (rng) return uniform01(*rng) * (up - down) < x - down ? up : down;
    return x - down >= up - x ? up : down;
}

// ---- Per-pair arithmetic of the projection.
// A pair's weight is sign x a x unit, a >= 0 real. In the worst case of rounding (a rounded
// up) it occupies entries(a) fan-in entries; each entry carries a "token" of weight, and the
// fan-in step removes the smallest tokens of the row first (ties: tokens of the smaller
// pair first), so a pair always loses its own smallest tokens first:
//   none, uniform  one token a
//   dynapse1       a = R L + small, R = the sign's large/small base ratio (the ladder's 4):
//                  the fraction of small, floor(small) tokens of 1, L of R
//   dynapse2       e = ceil(a / F): the rest a - F (e - 1), then e - 1 full tokens of F, F
//                  the weight of all 4 bases in units of the smallest (the ladder's 15)
// Only dynapse1 tokens depend on the pair's sign (exc and inh may have different large bases).
struct PairLadder {
    WeightKind kind = WeightKind::none;
    int fanin = 0;
    std::array<double, 2> ratio{kLargeRatio, kLargeRatio};  // dynapse1: exc, inh
    double full = kFullMask;                                 // dynapse2: F
    std::array<double, 2> max_magnitude{kInf, kInf};         // exc, inh

    // The ladder's tokens, or those of the levels (dynapse1 ratios, dynapse2 F) when given.
    explicit PairLadder(const ConstraintSpec& spec, const GroupQuant* levels = nullptr)
        : kind(spec.kind), fanin(spec.fanin) {
        if (levels && kind == WeightKind::dynapse1) ratio = dynapse1_ratios(*levels);
        if (levels && kind == WeightKind::dynapse2) full = dynapse2_full_units(*levels);
        if (kind == WeightKind::uniform) max_magnitude.fill(uniform_max_code(spec.weight_bits));
        // No pair can use more than K entries.
        if (fanin > 0 && kind == WeightKind::dynapse1) max_magnitude = {ratio[0] * fanin, ratio[1] * fanin};
        if (fanin > 0 && kind == WeightKind::dynapse2) max_magnitude.fill(full * fanin);
    }

    double canonical(double a, bool negative) const {
        if (kind != WeightKind::none) {
            const double n = std::nearbyint(a);
            if (std::abs(a - n) <= kSnap) a = n;
        }
        return std::min(a, max_magnitude[negative]);
    }

    // Calls fn(size, count) for the pair's tokens, smallest first.
    template <class Fn>
    void for_each_token(double a, bool negative, Fn fn) const {
        if (a == 0) return;
        switch (kind) {
        case WeightKind::none:
        case WeightKind::uniform: fn(a, 1); break;
        case WeightKind::dynapse1: {
            const auto [large, small] = split_dynapse1(a, ratio[negative]);
            const double whole = std::floor(small);
            if (small > whole) fn(small - whole, 1);
            if (whole > 0) fn(1.0, static_cast<int>(whole));
            if (large > 0) fn(ratio[negative], static_cast<int>(large));
            break;
        }
        case WeightKind::dynapse2: {
            const double e = std::ceil(a / full);
            fn(a - full * (e - 1), 1);
            if (e > 1) fn(full, static_cast<int>(e - 1));
            break;
        }
        }
    }

    int entries(double a, bool negative) const {
        int n = 0;
        for_each_token(a, negative, [&](double, int count) { n += count; });
        return n;
    }

    // The magnitude left when the pair drops its `drop` smallest tokens.
    double drop_smallest(double a, bool negative, int drop) const {
        double left = 0;
        for_each_token(a, negative, [&](double size, int count) {
            const int dropped = std::min(drop, count);
            drop -= dropped;
            left += size * (count - dropped);
        });
        return left;
    }
};

// Where a selection of the `excess` smallest values ends: all values < t, plus `ties` of
// those == t (in the caller's tie order).
struct Threshold {
    double t;
    long long ties;
};

Threshold drop_threshold(std::vector<double>& values, long long excess) {
    std::nth_element(values.begin(), values.begin() + (excess - 1), values.end());
    const double t = values[excess - 1];
    const long long below = std::count_if(values.begin(), values.end(), [t](double v) { return v < t; });
    return {t, excess - below};
}

// The same when only `keep` values survive and keep is small (a row's K entries): a min-heap
// of the K largest rejects most values with one comparison, unlike a full nth_element.
Threshold keep_threshold(const std::vector<double>& values, long long keep, std::vector<double>& heap) {
    heap.assign(values.begin(), values.begin() + keep);
    std::make_heap(heap.begin(), heap.end(), std::greater<>());
    for (size_t i = keep; i < values.size(); ++i) {
        if (values[i] <= heap.front()) continue;
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        heap.back() = values[i];
        std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
    const double t = heap.front();  // the keep-th largest
    long long above = 0, equal = 0;
    for (double v : values) {
        above += v > t;
        equal += v == t;
    }
    return {t, equal - (keep - above)};
}

// Step (3): zero the smallest pairs (ties: lowest index) until at most `budget` are non-zero.
void enforce_connectivity(std::vector<double>& mag, long long budget, std::vector<double>& scratch) {
    scratch.clear();
    for (double a : mag)
        if (a > 0) scratch.push_back(a);
    const long long excess = static_cast<long long>(scratch.size()) - budget;
    if (excess <= 0) return;
    auto [t, ties] = drop_threshold(scratch, excess);
    for (double& a : mag) {
        if (a == t && ties > 0) {
            a = 0;
            --ties;
        } else if (a < t) {
            a = 0;
        }
    }
}

// Step (4): per row, drop the smallest tokens until the worst-case entries are exactly <= K.
// negative: the pairs' signs (row-major, as mag), empty when the tokens do not depend on them.
struct TiedPair {
    double magnitude;
    int col;
    int tokens;
    bool operator<(const TiedPair& o) const { return std::tie(magnitude, col) < std::tie(o.magnitude, o.col); }
};
void enforce_fanin(std::vector<double>& mag, const std::vector<char>& negative, int rows, int cols,
                   const PairLadder& ladder, std::vector<double>& sizes, std::vector<double>& heap,
                   std::vector<TiedPair>& tied) {
    if (ladder.fanin <= 0) return;
    for (int r = 0; r < rows; ++r) {
        double* row = mag.data() + static_cast<size_t>(r) * cols;
        const char* neg = negative.empty() ? nullptr : negative.data() + static_cast<size_t>(r) * cols;
        auto is_negative = [neg](int c) { return neg && neg[c]; };
        sizes.clear();
        for (int c = 0; c < cols; ++c)
            ladder.for_each_token(row[c], is_negative(c), [&](double size, int count) {
                for (int i = 0; i < count; ++i) sizes.push_back(size);
            });
        const long long excess = static_cast<long long>(sizes.size()) - ladder.fanin;
        if (excess <= 0) continue;
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
        const auto kept = keep_threshold(sizes, ladder.fanin, heap);
        const double t = kept.t;
        long long ties = kept.ties;
        tied.clear();
        for (int c = 0; c < cols; ++c) {
            int below = 0, equal = 0;
            ladder.for_each_token(row[c], is_negative(c), [&](double size, int count) {
                below += size < t ? count : 0;
                equal += size == t ? count : 0;
            });
            if (equal > 0) tied.push_back({row[c], c, equal});
            if (below > 0) row[c] = ladder.drop_smallest(row[c], is_negative(c), below);
        }
        // The tied tokens go from the smallest pairs first; tied tokens are a pair's
        // smallest remaining ones, since its tokens below t are already gone.
        std::sort(tied.begin(), tied.end());
        for (const TiedPair& p : tied) {
            if (ties == 0) break;
            const int drop = static_cast<int>(std::min<long long>(ties, p.tokens));
            row[p.col] = ladder.drop_smallest(row[p.col], is_negative(p.col), drop);
            ties -= drop;
        }
    }
}

void require_shape(const Matrix& m, int rows, int cols, const char* what) {
    if (m.rows() != rows || m.cols() != cols)
        throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(rows) + " x " +
                                    std::to_string(cols) + ", got " + std::to_string(m.rows()) + " x " +
                                    std::to_string(m.cols()));
}

// ---- Quantized Rewiring ----------------------------------------------------------------

class QuantizedRewiring final : public ConstrainedGroup {
public:
    QuantizedRewiring(const ConstraintSpec& spec, const GroupQuant& quant, const Matrix& initial,
                      const GroupOptions& options)
        : ConstrainedGroup("qr", spec, quant, static_cast<int>(initial.rows()), static_cast<int>(initial.cols()),
                           options.allowed),
          ladder_(spec, &quant), unit_(unit_weight(quant)), regrow_(options.regrow),
          random_regrowth_(options.random_regrowth) {
        require_supported_levels();
        // Programmed dynapse2 bases: a pair's last entry rounds to the masks' sums; the
        // ladder's sums are the integers, which round_units rounds.
        if (quant.kind == WeightKind::dynapse2 && !is_dynapse2_ladder(quant)) entry_units_ = dynapse2_entry_units(quant);
        set_weights(initial);
    }

    Matrix& hidden() override { return hidden_; }

    void weights(Matrix& w, std::mt19937_64* rng) const override {
        w.resize(rows_, cols_);
        const double* h = hidden_.data();
        double* out = w.data();
        const int n = rows_ * cols_;
        if (types() == 4) {
            for (int p = 0; p < n; ++p) {
                double sum = 0;
                for (int t = 0; t < 4; ++t)
                    sum += type_sign(t) * quant_.base[t] * round_units(std::max(0.0, h[4 * p + t]), rng);
                out[p] = sum;
            }
        } else if (quant_.kind == WeightKind::none) {
            std::copy(h, h + n, out);
        } else if (!entry_units_.empty()) {
            // Full entries as they are, the last entry's part rounded to a mask's sum.
            const double full = ladder_.full;
            for (int p = 0; p < n; ++p) {
                const double a = std::abs(h[p]);
                const double fulls = a > 0 ? std::ceil(a / full) - 1 : 0.0;
                out[p] = std::copysign(full * fulls + round_to_levels(a - full * fulls, entry_units_, rng), h[p]) * unit_;
            }
        } else {
            for (int p = 0; p < n; ++p)
                out[p] = std::copysign(round_units(std::abs(h[p]), rng), h[p]) * unit_;
        }
    }

    // w = sum_t sign_t base_t c_t, so dw/dc_t = sign_t base_t; dividing by base_t^2 (and by
    // the 4 counts that all move) makes the counts' steps add up to one weight-space step.
    void hidden_gradient(const Matrix& dw, Matrix& dh) const override {
        require_shape(dw, rows_, cols_, "QuantizedRewiring::hidden_gradient");
        dh.resize(hidden_.rows(), hidden_.cols());
        const int n = rows_ * cols_;
        for (int p = 0; p < n; ++p) {
            const bool frozen = !allowed(p) || (!regrow_ && dormant_[p]);
            const double g = frozen ? 0.0 : dw.data()[p];
            if (types() == 4) {
                for (int t = 0; t < 4; ++t) dh.data()[4 * p + t] = g * type_sign(t) / (4.0 * quant_.base[t]);
            } else {
                dh.data()[p] = g / unit_;
            }
        }
    }

    void after_step(double, std::mt19937_64& rng) override { project(&rng); }

    void set_weights(const Matrix& w) override {
        require_shape(w, rows_, cols_, "QuantizedRewiring::set_weights");
        hidden_.setZero(rows_, static_cast<Eigen::Index>(cols_) * types());
        dormant_.assign(static_cast<size_t>(rows_) * cols_, 0);
        for (int p = 0; p < rows_ * cols_; ++p) store(p, w.data()[p] / unit_);
        project(nullptr);
    }

    // Literally what weights() can produce: every count or magnitude rounded up.
    int worst_case_fanin() const override {
        int worst = 0;
        const double* h = hidden_.data();
        for (int r = 0; r < rows_; ++r) {
            long long row = 0;
            for (int c = 0; c < cols_; ++c) {
                const int p = r * cols_ + c;
                if (types() == 4) {
                    for (int t = 0; t < 4; ++t) row += static_cast<long long>(std::ceil(std::max(0.0, h[4 * p + t])));
                } else if (quant_.kind == WeightKind::dynapse2) {
                    row += static_cast<long long>(std::ceil(std::abs(h[p]) / ladder_.full));
                } else {
                    row += h[p] != 0;
                }
            }
            worst = std::max<int>(worst, static_cast<int>(row));
        }
        return worst;
    }

private:
    int types() const { return quant_.kind == WeightKind::dynapse1 ? 4 : 1; }
    static double type_sign(int t) { return t >= 2 ? -1.0 : 1.0; }

    // The projection's arithmetic needs one small base (dynapse1: any large bases above one
    // small base shared by both signs; dynapse2: base[0] the smallest, so a unit is the finest
    // step); levels given by the caller must match.
    void require_supported_levels() const {
        const double s = quant_.base[0];
        bool ok = unit_ > 0 && std::isfinite(unit_);
        if (quant_.kind == WeightKind::dynapse1)
            ok = ok && quant_.base[1] > s && quant_.base[2] == s && quant_.base[3] > s &&
                 std::isfinite(quant_.base[1]) && std::isfinite(quant_.base[3]);
        if (quant_.kind == WeightKind::dynapse2)
            for (int b = 1; b < 4; ++b) ok = ok && quant_.base[b] >= s && std::isfinite(quant_.base[b]);
        if (!ok)
            throw std::invalid_argument("qr: " + to_string(quant_.kind) +
                                        " levels must be s>0 (uniform scale>0), dynapse1 {s,L,s,L'} with L, L' > s "
                                        "(the ladder: 4s), dynapse2 {s,b1,b2,b3} with every b >= s (the ladder: "
                                        "2s, 4s, 8s)");
    }

    // The pair's signed weight in units; a negative count counts for the opposite sign.
    double signed_units(int p) const {
        const double* h = hidden_.data();
        if (types() == 1) return h[p];
        const auto& ratio = ladder_.ratio;
        return h[4 * p] + ratio[0] * h[4 * p + 1] - h[4 * p + 2] - ratio[1] * h[4 * p + 3];
    }

    // Writes the canonical parameters of signed weight v (units): dynapse1 counts go to the
    // types of v's sign, largest type first (an integer large count, the rest small).
    void store(int p, double v) {
        double* h = hidden_.data();
        if (types() == 1) {
            h[p] = v == 0 ? 0.0 : v;
            return;
        }
        const auto [large, small] = split_dynapse1(std::abs(v), ladder_.ratio[v < 0]);
        const int first = v < 0 ? 2 : 0;
        std::fill(h + 4 * p, h + 4 * p + 4, 0.0);
        h[4 * p + first] = small;
        h[4 * p + first + 1] = large;
    }

    // Steps (1)-(4) of the projection, then optional random regrowth into free entries.
    void project(std::mt19937_64* rng) {
        const int n = rows_ * cols_;
        mag_.resize(n);
        negative_.resize(n);
        for (int p = 0; p < n; ++p) {
            const bool frozen = !allowed(p) || (!regrow_ && dormant_[p]);
            const double v = frozen ? 0.0 : signed_units(p);
            negative_[p] = v < 0;
            mag_[p] = ladder_.canonical(std::abs(v), negative_[p]);
        }
        enforce_connectivity(mag_, connectivity_budget(spec_, n), values_);
        enforce_fanin(mag_, negative_, rows_, cols_, ladder_, values_, heap_, tied_);
        if (rng && random_regrowth_) regrow_randomly(*rng);
        for (int p = 0; p < n; ++p) {
            store(p, negative_[p] ? -mag_[p] : mag_[p]);
            if (!regrow_) dormant_[p] = mag_[p] == 0;
        }
    }

    // DEEP R style: random dormant pairs, with a random sign, take up the entries left free
    // in each row (within the connectivity budget); each starts at kRegrowUnits, one entry.
    void regrow_randomly(std::mt19937_64& rng) {
        const int n = rows_ * cols_;
        long long global_free = connectivity_budget(spec_, n) -
                                std::count_if(mag_.begin(), mag_.end(), [](double a) { return a > 0; });
        for (int r = 0; r < rows_ && global_free > 0; ++r) {
            double* row = mag_.data() + static_cast<size_t>(r) * cols_;
            long long used = 0;
            scratch_.clear();
            for (int c = 0; c < cols_; ++c) {
                used += ladder_.entries(row[c], negative_[r * cols_ + c]);
                if (row[c] == 0 && allowed(r * cols_ + c)) scratch_.push_back(c);
            }
            const long long row_free = ladder_.fanin > 0 ? ladder_.fanin - used : static_cast<long long>(scratch_.size());
            const long long grow = std::min({row_free, global_free, static_cast<long long>(scratch_.size())});
            for (long long i = 0; i < grow; ++i) {
                std::swap(scratch_[i], scratch_[i + rng() % (scratch_.size() - i)]);
                const int c = scratch_[i];
                row[c] = kRegrowUnits;
                negative_[r * cols_ + c] = rng() & 1;
            }
            global_free -= std::max(0LL, grow);
        }
    }

    PairLadder ladder_;
    double unit_;
    std::vector<double> entry_units_;  // dynapse2 with programmed bases: dynapse2_entry_units
    bool regrow_;
    bool random_regrowth_;
    Matrix hidden_;
    std::vector<char> dormant_;  // pairs zero after the last projection (used when !regrow_)
    // Scratch of the projection, kept to avoid allocating every minibatch.
    std::vector<double> mag_;
    std::vector<char> negative_;
    std::vector<int> scratch_;
    std::vector<double> values_;
    std::vector<double> heap_;
    std::vector<TiedPair> tied_;
};

// ---- DEEP R ----------------------------------------------------------------------------

class DeepR final : public ConstrainedGroup {
public:
    DeepR(const ConstraintSpec& spec, const GroupQuant& quant, const Matrix& initial, uint64_t seed,
          const GroupOptions& options)
        : ConstrainedGroup("deepr", spec, quant, static_cast<int>(initial.rows()), static_cast<int>(initial.cols()),
                           options.allowed),
          l1_(options.l1), temperature_(options.temperature), rng_(seed) {
        make_levels();
        const int n = rows_ * cols_;
        theta_.setConstant(rows_, cols_, kDormantTheta);
        sign_.resize(n);
        active_.assign(n, 0);
        for (int p = 0; p < n; ++p) {
            const double w = initial.data()[p];
            sign_[p] = w > 0 ? 1 : w < 0 ? -1 : (rng_() & 1 ? 1 : -1);
        }
        // The paper's start: a random set of exactly the budget, theta = |initial weight|.
        for (int r = 0; r < rows_; ++r) activate_random(r, row_budget(r), rng_, [&](int p) {
            theta_.data()[p] = std::abs(initial.data()[p]);
        });
    }

    Matrix& hidden() override { return theta_; }

    void weights(Matrix& w, std::mt19937_64* rng) const override {
        w.resize(rows_, cols_);
        for (int p = 0; p < rows_ * cols_; ++p) {
            if (!active_[p]) {
                w.data()[p] = 0;
                continue;
            }
            // Before after_step an active theta may be negative: it weighs 0 until it goes dormant.
            const auto& levels = levels_[sign_[p] < 0];
            w.data()[p] = sign_[p] * round_to_levels(std::max(0.0, theta_.data()[p]), levels, rng);
        }
    }

    void hidden_gradient(const Matrix& dw, Matrix& dh) const override {
        require_shape(dw, rows_, cols_, "DeepR::hidden_gradient");
        dh.resize(rows_, cols_);
        for (int p = 0; p < rows_ * cols_; ++p) dh.data()[p] = active_[p] ? sign_[p] * dw.data()[p] : 0.0;
    }

    void after_step(double learning_rate, std::mt19937_64& rng) override {
        const double noise = std::sqrt(2.0 * learning_rate * temperature_);
        std::normal_distribution<double> normal;
        double* theta = theta_.data();
        for (int r = 0; r < rows_; ++r) {
            int n_active = 0;
            for (int p = r * cols_; p < (r + 1) * cols_; ++p) {
                if (active_[p]) {
                    theta[p] -= learning_rate * l1_;
                    if (noise > 0) theta[p] += noise * normal(rng);
                    active_[p] = theta[p] >= 0;
                    n_active += active_[p];
                }
                // The optimizer's momentum may have moved a dormant theta; it stays dormant.
                if (!active_[p]) theta[p] = std::min(theta[p], kDormantTheta);
            }
            activate_random(r, row_budget(r) - n_active, rng, [&](int p) { theta[p] = 0.0; });
        }
    }

    // Non-zero allowed weights become the active set (largest first within the budget),
    // with their signs; random dormant connections fill the rest of the budget at theta 0.
    void set_weights(const Matrix& w) override {
        require_shape(w, rows_, cols_, "DeepR::set_weights");
        std::fill(active_.begin(), active_.end(), 0);
        theta_.setConstant(kDormantTheta);
        std::vector<int> candidates;
        for (int r = 0; r < rows_; ++r) {
            candidates.clear();
            for (int p = r * cols_; p < (r + 1) * cols_; ++p)
                if (allowed(p) && w.data()[p] != 0) candidates.push_back(p);
            const size_t keep = std::min<size_t>(candidates.size(), row_budget(r));
            std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end(), [&](int x, int y) {
                return std::abs(w.data()[x]) > std::abs(w.data()[y]);
            });
            for (size_t i = 0; i < keep; ++i) {
                const int p = candidates[i];
                active_[p] = 1;
                sign_[p] = w.data()[p] > 0 ? 1 : -1;
                theta_.data()[p] = std::abs(w.data()[p]);
            }
            activate_random(r, row_budget(r) - static_cast<int>(keep), rng_, [&](int p) { theta_.data()[p] = 0.0; });
        }
    }

    // One entry per active connection at most (its weight is one level or zero).
    int worst_case_fanin() const override {
        int worst = 0;
        for (int r = 0; r < rows_; ++r)
            worst = std::max(worst, static_cast<int>(std::count(active_.begin() + r * cols_,
                                                                active_.begin() + (r + 1) * cols_, 1)));
        return worst;
    }

private:
    // Per neuron: K active connections (fewer if fewer are allowed or the connectivity
    // fraction of the row is smaller).
    int row_budget(int r) const {
        long long budget = std::min<long long>(cols_, connectivity_budget(spec_, cols_));
        if (spec_.fanin > 0) budget = std::min<long long>(budget, spec_.fanin);
        int allowed_in_row = 0;
        for (int p = r * cols_; p < (r + 1) * cols_; ++p) allowed_in_row += allowed(p);
        return static_cast<int>(std::min<long long>(budget, allowed_in_row));
    }

    // Activates `count` random dormant allowed connections of row r, initialising each.
    template <class Init>
    void activate_random(int r, int count, std::mt19937_64& rng, Init init) {
        if (count <= 0) return;
        dormant_.clear();
        for (int p = r * cols_; p < (r + 1) * cols_; ++p)
            if (!active_[p] && allowed(p)) dormant_.push_back(p);
        count = std::min<int>(count, static_cast<int>(dormant_.size()));
        for (int i = 0; i < count; ++i) {
            std::swap(dormant_[i], dormant_[i + rng() % (dormant_.size() - i)]);
            active_[dormant_[i]] = 1;
            init(dormant_[i]);
        }
    }

    // The magnitudes ONE entry can carry, per sign (0 exc, 1 inh), so that the K active
    // connections never need more than K entries. Empty for float (kind none).
    void make_levels() {
        for (auto& l : levels_) l.clear();
        switch (quant_.kind) {
        case WeightKind::none: return;
        case WeightKind::uniform:
            for (int code = 1; code <= uniform_max_code(quant_.weight_bits); ++code)
                levels_[0].push_back(entry_weight(quant_, code));
            levels_[1] = levels_[0];
            break;
        case WeightKind::dynapse1:
            levels_[0] = {entry_weight(quant_, 0), entry_weight(quant_, 1)};
            levels_[1] = {-entry_weight(quant_, 2), -entry_weight(quant_, 3)};
            break;
        case WeightKind::dynapse2:
            for (int mask = 1; mask <= 15; ++mask) levels_[0].push_back(entry_weight(quant_, mask));
            levels_[1] = levels_[0];
            break;
        }
        for (auto& l : levels_) {
            l.push_back(0.0);
            std::sort(l.begin(), l.end());
            l.erase(std::unique(l.begin(), l.end()), l.end());
        }
    }

    double l1_;
    double temperature_;
    std::mt19937_64 rng_;  // initial active set and set_weights' fill-up
    Matrix theta_;
    std::vector<int8_t> sign_;
    std::vector<char> active_;
    std::array<std::vector<double>, 2> levels_;
    std::vector<int> dormant_;  // scratch
};

// ---- Dense baseline ----------------------------------------------------------------------

class DenseGroup final : public ConstrainedGroup {
public:
    DenseGroup(const ConstraintSpec& spec, const GroupQuant& quant, const Matrix& initial, const GroupOptions& options)
        : ConstrainedGroup("dense", spec, quant, static_cast<int>(initial.rows()), static_cast<int>(initial.cols()),
                           options.allowed) {
        set_weights(initial);
    }

    Matrix& hidden() override { return w_; }
    void weights(Matrix& w, std::mt19937_64*) const override { w = w_; }

    void hidden_gradient(const Matrix& dw, Matrix& dh) const override {
        require_shape(dw, rows_, cols_, "DenseGroup::hidden_gradient");
        dh = dw;
        zero_forbidden(dh);
    }

    void after_step(double, std::mt19937_64&) override { zero_forbidden(w_); }

    void set_weights(const Matrix& w) override {
        require_shape(w, rows_, cols_, "DenseGroup::set_weights");
        w_ = w;
        zero_forbidden(w_);
    }

    int worst_case_fanin() const override {
        return rows_ == 0 ? 0 : static_cast<int>((w_.array() != 0).rowwise().count().maxCoeff());
    }

private:
    void zero_forbidden(Matrix& m) const {
        for (int p = 0; p < rows_ * cols_; ++p)
            if (!allowed(p)) m.data()[p] = 0;
    }

    Matrix w_;
};

}  // namespace

// ---- Public functions ----------------------------------------------------------------------

ConstrainedGroup::ConstrainedGroup(std::string method, const ConstraintSpec& spec, const GroupQuant& quant,
                                   int rows, int cols, const Matrix& allowed)
    : method_(std::move(method)), spec_(spec), quant_(quant), rows_(rows), cols_(cols) {
    if (allowed.size() == 0) return;
    require_shape(allowed, rows, cols, "ConstrainedGroup: allowed mask");
    allowed_.resize(static_cast<size_t>(rows) * cols);
    for (int p = 0; p < rows * cols; ++p) allowed_[p] = allowed.data()[p] != 0;
}

double ConstrainedGroup::hidden_unit() const {
    if (method_ != "qr") return 1.0;
    // dynapse1 moves all four counts of a pair at once: a step of one unit in each moves the
    // weight by the sum of the four bases.
    if (quant_.kind == WeightKind::dynapse1)
        return std::abs(quant_.base[0]) + std::abs(quant_.base[1]) + std::abs(quant_.base[2]) + std::abs(quant_.base[3]);
    return unit_weight(quant_);
}

std::unique_ptr<ConstrainedGroup> ConstrainedGroup::make(const std::string& method, const ConstraintSpec& spec,
                                                         const Matrix& initial_weights, uint64_t seed,
                                                         const GroupOptions& options) {
    validate(spec);
    GroupQuant quant;
    std::optional<BaseChoiceInfo> base_info;
    if (options.quant) {
        quant = *options.quant;
    } else {
        quant = choose_quant(spec, initial_weights);
        if (options.bases == BaseChoice::optimised) {
            if (spec.kind != WeightKind::dynapse1 && spec.kind != WeightKind::dynapse2)
                throw std::invalid_argument("bases optimised: only for dynapse1 and dynapse2 levels, not " +
                                            to_string(spec.kind));
            // The ladder's small base (from all initial weights, as the ladder chooses it);
            // the large bases from the weights of the pairs that may connect.
            Matrix w = initial_weights;
            if (options.allowed.size() != 0) {
                require_shape(options.allowed, static_cast<int>(w.rows()), static_cast<int>(w.cols()),
                              "ConstrainedGroup: allowed mask");
                w = (options.allowed.array() != 0).select(w, 0.0);
            }
            BaseChoiceInfo info;
            quant = spec.kind == WeightKind::dynapse1 ? optimise_dynapse1_bases(spec, w, quant.base[0], &info)
                                                      : optimise_dynapse2_bases(spec, w, quant, &info);
            base_info = info;
        }
    }
    if (quant.kind != spec.kind)
        throw std::invalid_argument("ConstrainedGroup: levels of kind " + to_string(quant.kind) +
                                    " for a spec of kind " + to_string(spec.kind));
    std::unique_ptr<ConstrainedGroup> group;
    if (method == "qr") group = std::make_unique<QuantizedRewiring>(spec, quant, initial_weights, options);
    else if (method == "deepr") group = std::make_unique<DeepR>(spec, quant, initial_weights, seed, options);
    else if (method == "dense") group = std::make_unique<DenseGroup>(spec, quant, initial_weights, options);
    else throw std::invalid_argument("unknown constraint method '" + method + "' (allowed: qr, deepr, dense)");
    group->base_info_ = base_info;
    return group;
}

std::string to_string(BaseChoice bases) { return bases == BaseChoice::optimised ? "optimised" : "ladder"; }

BaseChoice base_choice_from_string(const std::string& name) {
    if (name == "ladder") return BaseChoice::ladder;
    if (name == "optimised") return BaseChoice::optimised;
    throw std::invalid_argument("unknown bases '" + name + "' (allowed: ladder, optimised)");
}

namespace {

// The base costs count entries and round weights, so they are piecewise constant in the
// bases: one simplex can settle on a plateau or in a local dip. Hence several starts, then
// restarts from the best vertex with a fresh simplex until one no longer improves.
// The levels of the best vertex, or the ladder if they do not cost less; *info gets both costs.
GroupQuant best_levels_or_ladder(const std::function<GroupQuant(const std::vector<double>&)>& levels,
                                 const std::function<double(const GroupQuant&)>& cost_of,
                                 const std::vector<std::vector<double>>& starts, const NelderMeadOptions& options,
                                 const GroupQuant& ladder, BaseChoiceInfo* info) {
    const double ladder_cost = cost_of(ladder);
    auto cost = [&](const std::vector<double>& x) { return cost_of(levels(x)); };
    NelderMeadResult best;
    best.value = kInf;
    int evaluations = 0;
    for (const auto& x0 : starts) {
        NelderMeadResult r = nelder_mead(cost, x0, options);
        evaluations += r.evaluations;
        if (r.value < best.value) best = std::move(r);
    }
    for (int restart = 0; restart < 5; ++restart) {
        NelderMeadResult r = nelder_mead(cost, best.x, options);
        evaluations += r.evaluations;
        if (!(r.value < best.value)) break;
        best = std::move(r);
    }
    const bool better = best.value < ladder_cost;
    if (info) *info = {ladder_cost, better ? best.value : ladder_cost, evaluations};
    return better ? levels(best.x) : ladder;
}

}  // namespace

double dynapse1_base_cost(const ConstraintSpec& spec, const Matrix& w, const GroupQuant& quant, double alpha) {
    validate(spec);
    const double s = quant.base[0];
    if (quant.kind != WeightKind::dynapse1 || !(s > 0) || quant.base[2] != s || !(quant.base[1] > 0) ||
        !(quant.base[3] > 0))
        throw std::invalid_argument("dynapse1_base_cost: needs dynapse1 levels {s, L, s, L'} with s, L, L' > 0");
    const int rows = static_cast<int>(w.rows()), cols = static_cast<int>(w.cols());
    const size_t n = static_cast<size_t>(rows) * cols;
    if (n == 0) return 0.0;

    // The greedy split, per pair: the large count first, the rest rounded to small counts.
    std::vector<long long> large(n), small(n);
    std::vector<double> mag(n);  // |w_hat|
    for (size_t p = 0; p < n; ++p) {
        const double a = std::abs(w.data()[p]);
        const double big = w.data()[p] < 0 ? quant.base[3] : quant.base[1];
        large[p] = static_cast<long long>(std::floor(a / big));
        small[p] = static_cast<long long>(std::floor((a - static_cast<double>(large[p]) * big) / s + 0.5));
        mag[p] = static_cast<double>(large[p]) * big + static_cast<double>(small[p]) * s;
    }
    // Step (3) of the projection: the smallest pairs go, down to the connectivity budget.
    std::vector<double> scratch;
    enforce_connectivity(mag, connectivity_budget(spec, static_cast<long long>(n)), scratch);

    // Step (4) per row on the integer counts: entries of the smallest size first, among equal
    // sizes those of the smaller pair (then the lower column), until the row is within K.
    struct Tokens {
        double size, pair;
        int col;
        long long* count;
    };
    std::vector<Tokens> tokens;
    double ratio_sum = 0;
    int ratio_rows = 0;
    for (int r = 0; r < rows; ++r) {
        long long used = 0, small_only = 0;
        tokens.clear();
        for (int c = 0; c < cols; ++c) {
            const size_t p = static_cast<size_t>(r) * cols + c;
            small_only += static_cast<long long>(std::floor(std::abs(w.data()[p]) / s + 0.5));
            if (mag[p] == 0) large[p] = small[p] = 0;
            used += large[p] + small[p];
            if (small[p] > 0) tokens.push_back({s, mag[p], c, &small[p]});
            if (large[p] > 0) tokens.push_back({w.data()[p] < 0 ? quant.base[3] : quant.base[1], mag[p], c, &large[p]});
        }
        if (spec.fanin > 0 && used > spec.fanin) {
            std::sort(tokens.begin(), tokens.end(), [](const Tokens& x, const Tokens& y) {
                return std::tie(x.size, x.pair, x.col) < std::tie(y.size, y.pair, y.col);
            });
            long long excess = used - spec.fanin;
            for (const Tokens& t : tokens) {
                const long long drop = std::min(excess, *t.count);
                *t.count -= drop;
                excess -= drop;
                if (excess == 0) break;
            }
            used = spec.fanin;
        }
        if (small_only > 0) {
            ratio_sum += static_cast<double>(used) / static_cast<double>(small_only);
            ++ratio_rows;
        }
    }

    std::vector<double> error(n);
    for (size_t p = 0; p < n; ++p) {
        const double big = w.data()[p] < 0 ? quant.base[3] : quant.base[1];
        const double w_hat = static_cast<double>(large[p]) * big + static_cast<double>(small[p]) * s;
        error[p] = std::abs(w_hat - std::abs(w.data()[p]));  // w_hat has w's sign
    }
    // The median: the middle value, or the mean of the two middle ones.
    const size_t mid = n / 2;
    std::nth_element(error.begin(), error.begin() + mid, error.end());
    double median = error[mid];
    if (n % 2 == 0) median = 0.5 * (median + *std::max_element(error.begin(), error.begin() + mid));
    const double entry_ratio = ratio_rows ? ratio_sum / ratio_rows : 0.0;
    return alpha * median + (1 - alpha) * entry_ratio;
}

GroupQuant optimise_dynapse1_bases(const ConstraintSpec& spec, const Matrix& w, double small_base,
                                   BaseChoiceInfo* info) {
    if (spec.kind != WeightKind::dynapse1)
        throw std::invalid_argument("optimise_dynapse1_bases: the spec is " + to_string(spec.kind) + ", not dynapse1");
    if (!(small_base > 0) || !std::isfinite(small_base))
        throw std::invalid_argument("optimise_dynapse1_bases: the small base must be > 0");
    GroupQuant q;
    q.kind = WeightKind::dynapse1;
    q.weight_bits = spec.weight_bits;
    const double s = small_base;
    // x = log(L / s - 1): every x gives L > s, and the search steps in ratios, not in
    // weight units. |x| <= 12 keeps L / s within 1 + 6e-6 .. 1.6e5 (beyond, the cost is flat).
    auto levels = [&](const std::vector<double>& x) {
        GroupQuant l = q;
        auto large = [&](double xi) { return s * (1 + std::exp(std::clamp(xi, -12.0, 12.0))); };
        l.base = {s, large(x[0]), s, large(x[1])};
        return l;
    };
    GroupQuant ladder = q;
    ladder.base = {s, kLargeRatio * s, s, kLargeRatio * s};

    // Starts at large / small base ratios 2, 4 = the ladder, 8 and 16, the same for both signs.
    std::vector<std::vector<double>> starts;
    for (double ratio : {2.0, kLargeRatio, 8.0, 16.0}) starts.push_back({std::log(ratio - 1), std::log(ratio - 1)});
    NelderMeadOptions options;
    options.step = 0.5;              // a vertex at ratio 4 has neighbours at 1 + 3 e^0.5 = 5.9
    options.max_evaluations = 200;
    options.x_tolerance = 1e-3;      // 0.1 % of L - s
    options.f_tolerance = 1e-9;
    return best_levels_or_ladder(
        levels, [&](const GroupQuant& l) { return dynapse1_base_cost(spec, w, l); }, starts, options, ladder, info);
}

double dynapse2_base_cost(const ConstraintSpec& spec, const Matrix& w, const GroupQuant& quant) {
    validate(spec);
    if (quant.kind != WeightKind::dynapse2 || spec.kind != WeightKind::dynapse2)
        throw std::invalid_argument("dynapse2_base_cost: needs a dynapse2 spec and dynapse2 levels");
    const double s = quant.base[0];
    for (double b : quant.base)
        if (!(b >= s && s > 0 && std::isfinite(b)))
            throw std::invalid_argument("dynapse2_base_cost: the bases must be finite with base[0] > 0 the smallest");
    const int rows = static_cast<int>(w.rows()), cols = static_cast<int>(w.cols());
    const size_t n = static_cast<size_t>(rows) * cols;
    if (n == 0) return 0.0;
    const PairLadder ladder(spec, &quant);
    const std::vector<double> entry = dynapse2_entry_units(quant);
    // Nearest representation, in units of s: full entries, then the nearest mask for the rest.
    std::vector<double> mag(n);
    for (size_t p = 0; p < n; ++p) {
        const double a = std::abs(w.data()[p]) / s;
        const double fulls = std::floor(a / ladder.full);
        mag[p] = ladder.canonical(ladder.full * fulls + round_to_levels(a - ladder.full * fulls, entry, nullptr), false);
    }
    // The projection's steps (3) and (4); dynapse2 tokens do not depend on the sign.
    std::vector<double> values, heap;
    std::vector<TiedPair> tied;
    enforce_connectivity(mag, connectivity_budget(spec, static_cast<long long>(n)), values);
    enforce_fanin(mag, {}, rows, cols, ladder, values, heap, tied);
    double sum = 0;
    for (size_t p = 0; p < n; ++p) {
        const double e = mag[p] * s - std::abs(w.data()[p]);  // w_hat has w's sign
        sum += e * e;
    }
    return sum / static_cast<double>(n);
}

GroupQuant optimise_dynapse2_bases(const ConstraintSpec& spec, const Matrix& w, const GroupQuant& ladder,
                                   BaseChoiceInfo* info) {
    if (spec.kind != WeightKind::dynapse2 || ladder.kind != WeightKind::dynapse2)
        throw std::invalid_argument("optimise_dynapse2_bases: the spec is " + to_string(spec.kind) + ", not dynapse2");
    const double s = ladder.base[0];
    if (!(s > 0) || !std::isfinite(s)) throw std::invalid_argument("optimise_dynapse2_bases: the ladder's s must be > 0");
    // x_b = log(base_b / s): any x gives positive bases, and the search steps in ratios. The
    // bases are sorted afterwards (which base a mask bit selects does not matter), so that
    // base[0] is the smallest, the unit of the projection.
    auto levels = [&](const std::vector<double>& x) {
        GroupQuant l = ladder;
        for (int b = 0; b < 4; ++b) l.base[b] = s * std::exp(std::clamp(x[b], -12.0, 12.0));
        std::sort(l.base.begin(), l.base.end());
        return l;
    };
    // Starts: the ladder, the ladder at half and at twice its scale, and ratios of 3 instead of 2.
    std::vector<std::vector<double>> starts;
    for (double scale : {1.0, 0.5, 2.0})
        starts.push_back({std::log(scale), std::log(2 * scale), std::log(4 * scale), std::log(8 * scale)});
    starts.push_back({std::log(0.5), std::log(1.5), std::log(4.5), std::log(13.5)});
    NelderMeadOptions options;
    options.step = 0.3;
    options.max_evaluations = 300;
    options.x_tolerance = 1e-3;
    options.f_tolerance = 1e-12 * dynapse2_base_cost(spec, w, ladder);
    return best_levels_or_ladder(
        levels, [&](const GroupQuant& l) { return dynapse2_base_cost(spec, w, l); }, starts, options, ladder, info);
}

GroupQuant choose_quant(const ConstraintSpec& spec, const Matrix& w, BaseChoice bases) {
    if (bases == BaseChoice::optimised) {
        if (spec.kind == WeightKind::dynapse2) return optimise_dynapse2_bases(spec, w, choose_quant(spec, w));
        if (spec.kind != WeightKind::dynapse1)
            throw std::invalid_argument("bases optimised: only for dynapse1 and dynapse2 levels, not " +
                                        to_string(spec.kind));
        return optimise_dynapse1_bases(spec, w, choose_quant(spec, w).base[0]);
    }
    validate(spec);
    GroupQuant q;
    q.kind = spec.kind;
    q.weight_bits = spec.weight_bits;
    double sum_sq = 0, max_abs = 0;
    long long nonzero = 0;
    for (Eigen::Index p = 0; p < w.size(); ++p) {
        const double a = std::abs(w.data()[p]);
        if (a == 0) continue;
        sum_sq += a * a;
        max_abs = std::max(max_abs, a);
        ++nonzero;
    }
    double range = nonzero ? std::min(4.0 * std::sqrt(sum_sq / nonzero), max_abs) : 0.0;
    if (range == 0) range = 4.0 / std::sqrt(std::max<double>(1.0, static_cast<double>(w.cols())));
    switch (spec.kind) {
    case WeightKind::none: break;
    case WeightKind::uniform: q.scale = range / (1 << (spec.weight_bits - 1)); break;
    case WeightKind::dynapse1: {
        const double s = range / 8;
        q.base = {s, kLargeRatio * s, s, kLargeRatio * s};
        break;
    }
    case WeightKind::dynapse2: {
        const double s = range / 16;
        q.base = {s, 2 * s, 4 * s, 8 * s};
        break;
    }
    }
    return q;
}

Matrix no_self_connections_mask(int n_rec, int n_in) {
    Matrix mask = Matrix::Ones(n_rec, n_in + n_rec);
    for (int j = 0; j < n_rec; ++j) mask(j, n_in + j) = 0;
    return mask;
}

void prune_and_round(Matrix& w, const ConstraintSpec& spec, GroupQuant& quant) {
    validate(spec);
    const int rows = static_cast<int>(w.rows()), cols = static_cast<int>(w.cols());
    // Levels from the weights that can survive: each row's K largest.
    Matrix largest = w;
    if (spec.fanin > 0 && spec.fanin < cols) {
        std::vector<double> mags(cols);
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) mags[c] = std::abs(w(r, c));
            std::nth_element(mags.begin(), mags.begin() + (cols - spec.fanin), mags.end());
            const double threshold = mags[cols - spec.fanin];
            for (int c = 0; c < cols; ++c)
                if (std::abs(w(r, c)) < threshold) largest(r, c) = 0;
        }
    }
    quant = choose_quant(spec, largest);

    // Nearest levels first, so the entries counted are the entries used.
    const PairLadder ladder(spec);
    const double unit = unit_weight(quant);
    std::vector<double> mag(static_cast<size_t>(rows) * cols);
    for (size_t p = 0; p < mag.size(); ++p) {
        const double a = std::abs(w.data()[p]) / unit;
        mag[p] = ladder.canonical(spec.kind == WeightKind::none ? a : round_units(a, nullptr), false);
    }
    std::vector<double> values, heap;
    std::vector<TiedPair> tied;
    enforce_connectivity(mag, connectivity_budget(spec, static_cast<long long>(mag.size())), values);
    enforce_fanin(mag, {}, rows, cols, ladder, values, heap, tied);  // the ladder: the same tokens for both signs
    for (size_t p = 0; p < mag.size(); ++p) w.data()[p] = std::copysign(mag[p] * unit, w.data()[p]);
}

ConstraintCheck check_constraints(const Matrix& w, const ConstraintSpec& spec, const GroupQuant& quant) {
    ConstraintCheck c;
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
        long long row_entries = 0;
        for (Eigen::Index j = 0; j < w.cols(); ++j) {
            const double x = w(r, j);
            if (x == 0) continue;
            ++c.active_pairs;
            const int n = entry_count(quant, x);
            if (n < 0) {
                ++c.weight_violations;
                ++row_entries;  // it takes at least one entry
            } else {
                row_entries += n;
            }
        }
        c.entries += row_entries;
        c.max_fanin = std::max<int>(c.max_fanin, static_cast<int>(row_entries));
        if (spec.fanin > 0 && row_entries > spec.fanin) ++c.fanin_violations;
    }
    c.violations = c.fanin_violations + c.weight_violations;
    return c;
}

}  // namespace qrsim
