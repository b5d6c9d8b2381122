#include "learning_rules/layerwise_conversion.hpp"

#include "learning_rules/rsnn_stepper.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

namespace qrsim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kDynapse2MaxCode = 15;  // one entry: sign x mask over bases s, 2s, 4s, 8s
constexpr double kRidge = 1e-6;       // relative to the mean diagonal of the Gram matrix
constexpr int kPreselectFactor = 3;   // candidates kept for the exact elimination: 3K

// Runs fn(0..n-1) on `threads` threads; rethrows the first exception.
void parallel_for(int n, int threads, const std::function<void(int)>& fn) {
    threads = std::max(1, std::min(threads, n));
    std::atomic<int> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        for (int i; (i = next++) < n;) {
            try {
                fn(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                next = n;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The integer grid of a group's levels: w = step x code, |code| <= max_code (one entry).
struct Grid {
    double step = 0;  // 0: float weights
    int max_code = 0;
    double bound() const { return step > 0 ? step * max_code : kInf; }
};

Grid grid_of(const GroupQuant& q) {
    switch (q.kind) {
    case WeightKind::uniform: return {q.scale, uniform_max_code(q.weight_bits)};
    case WeightKind::dynapse2: return {q.base[0], kDynapse2MaxCode};
    default: return {};
    }
}

// The scale of a layer's levels is the conversion's free choice (the chip keeps one per
// layer): each layer is fitted at these multiples of the naive levels' scale and keeps the
// one with the smallest rounded residual (a finer grid clips more).
constexpr double kLevelScales[] = {1.4, 1.3, 1.2, 1.1, 1.0, 0.93, 0.86, 0.8, 0.74, 0.68, 0.62, 0.56, 0.5, 0.45};

GroupQuant scaled(GroupQuant q, double m) {
    q.scale *= m;
    for (double& b : q.base) b *= m;
    return q;
}

// The levels moved to the nearest grid whose step is a multiple of `lsb` (the tile's LUT
// resolution), so the tile stores exactly the weights the fit chose; lsb 0: unchanged.
GroupQuant on_lut_grid(const GroupQuant& q, double lsb) {
    const double step = grid_of(q).step;
    if (lsb <= 0 || step <= 0) return q;
    GroupQuant on = scaled(q, std::max(1.0, std::round(step / lsb)) * lsb / step);
    // Exact multiples (lsb is a power of two): no ulp of round-off from the scaling.
    auto snap = [&](double& x) { x = std::round(x / lsb) * lsb; };
    snap(on.scale);
    for (double& b : on.base) snap(b);
    return on;
}

// fit(levels, solver) fits a layer and returns its rounded squared residual. The candidate
// scales are compared with LSQ fits (an LP fit is many times slower); the last call is the
// fit with `solver` at the chosen levels, left in q. Returns the chosen multiplier.
template <class Fit>
double choose_level_scale(GroupQuant& q, double lsb, const std::string& solver, Fit fit) {
    double best = 1.0;
    if (grid_of(q).step > 0) {
        double best_sq = kInf;
        for (double m : kLevelScales) {
            const double sq = fit(on_lut_grid(scaled(q, m), lsb), "lsq");
            if (sq < best_sq) best_sq = sq, best = m;
        }
        q = on_lut_grid(scaled(q, best), lsb);
    }
    fit(q, solver);
    return best;
}

// The p-quantile of the positive entries of a (1 if there are none).
double positive_percentile(const Matrix& a, double p) {
    std::vector<double> v;
    for (Eigen::Index i = 0; i < a.size(); ++i)
        if (a.data()[i] > 0) v.push_back(a.data()[i]);
    if (v.empty()) return 1.0;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k];
}

// One converted hidden layer: neurons (the ANN units kept) x (sources + bias channel).
struct Block {
    std::vector<int> units;
    Matrix w;
};

// The layout of the converted network in the RSNN's terms.
struct Layout {
    int pixels = 0;              // input channels before the bias channel
    std::vector<int> offset;     // per block: first recurrent neuron
    int n_rec = 0;

    explicit Layout(int pixels_, const std::vector<Block>& blocks) : pixels(pixels_) {
        for (const Block& b : blocks) {
            offset.push_back(n_rec);
            n_rec += static_cast<int>(b.units.size());
        }
    }
};

// Writes the blocks (and, if given, the readout) into an RsnnWeights of `params`; a block's
// bias goes to the neuron's bias register or to its synapse from the always-on channel.
RsnnWeights assemble(const RsnnParams& params, const std::vector<Block>& blocks, bool bias_registers,
                     const Matrix* w_out, const Vector* b_out) {
    const Layout layout(params.n_in - 1, blocks);
    RsnnWeights w;
    w.resize_zero(params);
    for (size_t l = 0; l < blocks.size(); ++l) {
        const Block& b = blocks[l];
        const int n_src = static_cast<int>(b.w.cols()) - 1;
        for (int j = 0; j < static_cast<int>(b.units.size()); ++j) {
            const int row = layout.offset[l] + j;
            for (int i = 0; i < n_src; ++i) {
                if (l == 0) w.w_in(row, i) = b.w(j, i);
                else w.w_rec(row, layout.offset[l - 1] + i) = b.w(j, i);
            }
            (bias_registers ? w.b_rec[row] : w.w_in(row, layout.pixels)) = b.w(j, n_src);
        }
    }
    if (w_out) w.w_out.rightCols(w_out->cols()) = *w_out;  // the readout reads the last block
    if (b_out) w.b_out = *b_out;
    return w;
}

// Per recurrent neuron: the first step its spikes count for its rate (its layer's delay).
std::vector<int> layer_delays(const std::vector<Block>& blocks) {
    std::vector<int> from;
    for (size_t l = 0; l < blocks.size(); ++l) from.insert(from.end(), blocks[l].units.size(), static_cast<int>(l));
    return from;
}

// Rates per step of every recurrent neuron: counts over the steps after its layer's delay.
Matrix rates_of(const SnnRun& run, const std::vector<int>& from, int steps) {
    Matrix r = run.counts;
    for (int j = 0; j < static_cast<int>(from.size()); ++j) r.col(j) /= static_cast<double>(steps - from[j]);
    return r;
}

struct Sampled {
    std::vector<int> indices;  // training images used
    Matrix pixel_rates;        // samples x (pixels + 1): the encoder's rates, bias channel 1
    std::vector<Matrix> pre;   // ANN pre-activations per layer
};

Sampled sample_inputs(const Ann& ann, const ImageSet& train, const ConversionOptions& o) {
    Sampled s;
    std::vector<int> all(train.x.rows());
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 rng(o.seed ^ 0x636f6e76ULL);
    std::shuffle(all.begin(), all.end(), rng);
    s.indices.assign(all.begin(), all.begin() + std::min<size_t>(all.size(), o.samples));
    const int n = static_cast<int>(s.indices.size()), pixels = static_cast<int>(train.x.cols());
    Matrix x(n, pixels);
    s.pixel_rates.resize(n, pixels + 1);
    for (int k = 0; k < n; ++k) {
        x.row(k) = train.x.row(s.indices[k]);
        for (int p = 0; p < pixels; ++p) {
            const int value = static_cast<int>(std::lround(x(k, p) * 255));
            s.pixel_rates(k, p) = static_cast<double>(rate_code_count(value, o.coding.steps)) / o.coding.steps;
        }
        s.pixel_rates(k, pixels) = 1.0;
    }
    s.pre = ann.forward_all(x);
    return s;
}

// The fit problem of one neuron over the chosen inputs (columns of r).
FitProblem neuron_problem(const Matrix& r, const std::vector<int>& inputs, const Vector& target,
                          const std::vector<RowKind>& kind, double bound) {
    FitProblem p;
    p.r.resize(r.rows(), inputs.size());
    for (size_t a = 0; a < inputs.size(); ++a) p.r.col(a) = r.col(inputs[a]);
    p.c = target;
    p.kind = kind;
    p.lo = Vector::Constant(inputs.size(), -bound);
    p.hi = Vector::Constant(inputs.size(), bound);
    return p;
}

// The bias is the last input (chosen inputs are sorted, the bias has the largest index); a
// bias register holds it in the membrane's fixed point: no level, no weight bound.
void free_bias(FitProblem& p, std::vector<char>& quantized) {
    const int b = p.n() - 1;
    p.lo[b] = -kInf;
    p.hi[b] = kInf;
    quantized[b] = 0;
}

// Chooses at most K of the candidate inputs of one neuron: preselect by |w_ann| x rms(rate),
// then remove the cheapest by the exact L2 cost until K remain. `free_input` (the readout's
// bias, -1: none) is always kept and not counted.
std::vector<int> choose_fanin(const std::vector<int>& candidates, int fanin, const Matrix& gram, const Vector& rhs,
                              const Vector& score, int free_input) {
    std::vector<int> counted;
    for (int i : candidates)
        if (i != free_input) counted.push_back(i);
    std::vector<int> chosen = candidates;
    if (fanin > 0 && static_cast<int>(counted.size()) > fanin) {
        const size_t pre = std::min(counted.size(), static_cast<size_t>(kPreselectFactor * fanin));
        std::partial_sort(counted.begin(), counted.begin() + pre, counted.end(),
                          [&](int a, int b) { return score[a] > score[b]; });
        counted.resize(pre);
        chosen = counted;
        if (free_input >= 0) chosen.push_back(free_input);
        const int n = static_cast<int>(chosen.size());
        Matrix g(n, n);
        Matrix b(n, 1);
        for (int a = 0; a < n; ++a) {
            b(a, 0) = rhs[chosen[a]];
            for (int c = 0; c < n; ++c) g(a, c) = gram(chosen[a], chosen[c]);
        }
        std::vector<char> protect(n, 0);
        if (free_input >= 0) protect[n - 1] = 1;
        ObsEliminator obs(g, b, kRidge * std::max(g.diagonal().mean(), 1e-12));
        const std::vector<int> kept = obs.eliminate_to(fanin, protect);
        std::vector<int> out;
        for (int a : kept) out.push_back(chosen[a]);
        chosen = out;
    }
    std::sort(chosen.begin(), chosen.end());
    return chosen;
}

struct FitStats {
    double relaxed_sq = 0;
    long long rows = 0;
};

// Fits one neuron: relaxation (bounded LSQ or LP), then the levels by error feedback.
Vector fit_neuron(const FitProblem& p, const std::string& solver, const Grid& grid, const std::vector<char>& quantized,
                  double& relaxed_sq) {
    Vector w;
    const bool lp = solver != "lsq";
    const LpNorm norm = lp ? lp_norm_from_string(solver) : LpNorm::l1;
    w = lp ? solve_lp(p, norm).w : solve_bounded_lsq(p, kRidge);
    relaxed_sq = fit_residual(p, w).squaredNorm();
    if (grid.step <= 0) return w;
    return lp ? round_lp_feedback(p, norm, w, grid.step, grid.max_code, quantized).w
              : polish_levels(p, round_lsq_feedback(p, w, grid.step, grid.max_code, quantized, kRidge), grid.step,
                              grid.max_code, quantized);
}

// Hidden layer targets: currents v_th z / lambda, one-sided where the unit is silent or saturated.
void hidden_targets(const Matrix& z, double lambda, double v_th, Matrix& c, std::vector<std::vector<RowKind>>& kind) {
    c.resize(z.rows(), z.cols());
    kind.assign(z.cols(), std::vector<RowKind>(z.rows(), RowKind::equal));
    for (Eigen::Index j = 0; j < z.cols(); ++j)
        for (Eigen::Index k = 0; k < z.rows(); ++k) {
            const double y = z(k, j) / lambda;
            if (y <= 0) c(k, j) = 0, kind[j][k] = RowKind::at_most;
            else if (y >= 1) c(k, j) = v_th, kind[j][k] = RowKind::at_least;
            else c(k, j) = v_th * y;
        }
}

// The same targets as plain numbers for dense L2 fits (pruning, fan-in choice): the linear
// pre-activation below zero, clipped at saturation.
Matrix linear_targets(const Matrix& z, double lambda, double v_th) {
    return (v_th * z / lambda).cwiseMin(v_th);
}

}  // namespace

RsnnParams converted_params(int n_in, int n_rec, int n_out, const ConversionOptions& o) {
    RsnnParams p;
    p.n_in = n_in;
    p.n_rec = n_rec;
    p.n_alif = 0;
    p.n_out = n_out;
    p.tau_m = 1e9;  // integrate-and-fire: alpha = 1 - 1e-9
    p.tau_out = o.tau_out;
    p.v_th = o.v_th;
    p.beta = 0;
    p.refractory = 0;
    return p;
}

SnnRun simulate_snn(const RsnnParams& params, const RsnnWeights& weights, const Task& task, Split split,
                    const std::vector<int>& indices, const std::vector<int>& count_from, int threads) {
    SnnRun run;
    const int n = static_cast<int>(indices.size());
    run.predictions.assign(n, -1);
    if (!count_from.empty()) run.counts.setZero(n, params.n_rec);
    PreparedWeights prepared;
    prepared.prepare(weights);
    const TaskInfo& info = task.info();
    const int chunk = 64;
    parallel_for((n + chunk - 1) / chunk, threads, [&](int c) {
        RsnnStepper stepper(params);
        SpikeSample sample;
        Vector unused;
        for (int s = c * chunk; s < std::min(n, (c + 1) * chunk); ++s) {
            task.encode(split, indices[s], sample);
            stepper.reset();
            ReadoutLoss readout(info, sample.label);
            for (int t = 0; t < info.n_steps; ++t) {
                stepper.step(prepared, sample, t);
                if (!count_from.empty())
                    for (int j : stepper.active())
                        if (t >= count_from[j]) run.counts(s, j) += stepper.z()[j];
                readout.step(t, stepper.y(), unused);
            }
            run.predictions[s] = readout.prediction();
        }
    });
    return run;
}

namespace {

// Options the conversion cannot honour, refused before any work (std::invalid_argument).
void check_conversion_options(const Ann& ann, const Task& rate_task, const ConversionOptions& o) {
    validate(o.spec);
    if (o.spec.kind == WeightKind::dynapse1)
        throw std::invalid_argument("convert: constraint dynapse1 is not supported (use none, uniform or dynapse2)");
    if (o.method != "fit" && o.method != "naive")
        throw std::invalid_argument("convert: method '" + o.method + "' is unknown (known: fit, naive)");
    if (o.solver != "lsq") lp_norm_from_string(o.solver);
    const int n_hidden = static_cast<int>(ann.layers.size()) - 1;
    if (n_hidden < 1) throw std::invalid_argument("convert: the ANN needs at least one hidden layer");
    bool prunes = false;
    for (size_t l = 0; l < o.prune_to.size(); ++l) prunes |= o.prune_to[l] > 0;
    if (prunes && o.method != "fit") throw std::invalid_argument("convert: node pruning needs method fit");
    if (static_cast<int>(o.prune_to.size()) > n_hidden)
        throw std::invalid_argument("convert: prune_to lists " + std::to_string(o.prune_to.size()) +
                                    " sizes, the ANN has " + std::to_string(n_hidden) + " hidden layers");
    const TaskInfo& info = rate_task.info();
    if (info.n_inputs != ann.n_in() + 1 || info.n_steps != o.coding.steps || info.readout_begin != o.coding.readout_begin)
        throw std::invalid_argument("convert: the rate task does not match the ANN's inputs or the coding options");
    if (o.coding.readout_begin <= n_hidden - 1)
        throw std::invalid_argument("convert: the readout window starts before the pipeline delay of " +
                                    std::to_string(n_hidden - 1) + " steps");
}

// Per-layer errors of the final network, on the sampled images, the same way for both
// methods: each neuron's mean current from the rates its sources really produce.
void measure_layer_errors(const Ann& ann, const Task& rate_task, const ConversionOptions& o, const Sampled& s,
                          const std::vector<double>& lambda, double out_scale, const std::vector<Block>& blocks,
                          ConversionResult& result) {
    const int n_hidden = static_cast<int>(ann.layers.size()) - 1;
    const int n_out = ann.n_out(), pixels = ann.n_in();
    const int n_samples = static_cast<int>(s.indices.size());
    const int steps = o.coding.steps;
    const RsnnParams& p = result.checkpoint.params;
    const RsnnWeights& w = result.checkpoint.weights;
    const std::vector<int> from = layer_delays(blocks);
    const SnnRun run = simulate_snn(p, w, rate_task, Split::train, s.indices, from, o.threads);
    const Matrix rates = rates_of(run, from, steps);
    const Matrix current =
        (s.pixel_rates * w.w_in.transpose() + rates * w.w_rec.transpose()).rowwise() + w.b_rec.transpose();
    const Layout layout(pixels, blocks);
    for (int l = 0; l <= n_hidden; ++l) {
        LayerFit& fit = result.layers[l];
        fit.name = l < n_hidden ? "hidden" + std::to_string(l) : "readout";
        fit.ann_units = ann.layers[l].n_out;
        double sq = 0, target_sq = 0;
        long long count = 0;
        if (l < n_hidden) {
            const Block& b = blocks[l];
            fit.neurons = static_cast<int>(b.units.size());
            fit.rate_scale = lambda[l];
            Matrix c;
            std::vector<std::vector<RowKind>> kind;
            hidden_targets(s.pre[l], lambda[l], o.v_th, c, kind);
            for (int j = 0; j < fit.neurons; ++j) {
                FitProblem prob;
                prob.r = current.col(layout.offset[l] + j);
                prob.c = c.col(b.units[j]);
                prob.kind = kind[b.units[j]];
                sq += fit_residual(prob, Vector::Ones(1)).squaredNorm();
                target_sq += prob.c.squaredNorm();
                count += n_samples;
            }
        } else {
            fit.neurons = n_out;
            fit.rate_scale = out_scale;
            const Matrix y = rates * w.w_out.transpose();
            const Matrix e = (y.rowwise() + w.b_out.transpose()) - out_scale * s.pre.back();
            sq = e.squaredNorm();
            target_sq = (out_scale * s.pre.back()).squaredNorm();
            count = static_cast<long long>(e.size());
        }
        fit.rms_error = std::sqrt(sq / std::max<long long>(count, 1)) / o.v_th;
        fit.rel_error = std::sqrt(sq / std::max(target_sq, 1e-300));
    }

}

// The constraint check of every layer, and the checkpoint's record of its levels and layers.
void check_and_record(const Ann& ann, const ConversionOptions& o, const std::vector<Block>& blocks,
                      ConversionResult& result) {
    const int n_hidden = static_cast<int>(ann.layers.size()) - 1;
    const int pixels = ann.n_in();
    const ConstraintSpec& spec = o.spec;
    const RsnnParams& p = result.checkpoint.params;
    const RsnnWeights& w = result.checkpoint.weights;
    const Layout layout(pixels, blocks);
    Matrix group(p.n_rec, p.n_in + p.n_rec);
    group << w.w_in, w.w_rec;
    result.hidden_check = {};
    for (int l = 0; l < n_hidden; ++l) {
        const ConstraintCheck c =
            check_constraints(group.middleRows(layout.offset[l], blocks[l].units.size()), spec, result.layer_quant[l]);
        ConstraintCheck& all = result.hidden_check;
        all.violations += c.violations;
        all.fanin_violations += c.fanin_violations;
        all.weight_violations += c.weight_violations;
        all.max_fanin = std::max(all.max_fanin, c.max_fanin);
        all.active_pairs += c.active_pairs;
        all.entries += c.entries;
        result.layers[l].max_fanin = c.max_fanin;
    }
    result.readout_check = check_constraints(w.w_out, spec, result.readout_quant);
    result.layers[n_hidden].max_fanin = result.readout_check.max_fanin;
    result.pipeline_delay = n_hidden - 1;

    // The first hidden layer's levels are the "hidden" group, the others per-layer groups.
    CheckpointConstraint levels;
    levels.spec = spec;
    levels.hidden = result.layer_quant[0];
    levels.readout = result.readout_quant;
    for (int l = 1; l < n_hidden; ++l)
        levels.layers.push_back({layout.offset[l], static_cast<int>(blocks[l].units.size()), result.layer_quant[l]});
    nlohmann::json layers = nlohmann::json::array();
    for (int l = 0; l < n_hidden; ++l)
        layers.push_back({{"name", result.layers[l].name}, {"rec_offset", layout.offset[l]},
                          {"neurons", blocks[l].units.size()}, {"ann_units", blocks[l].units}});
    result.checkpoint.extra = constraint_to_extra(levels);
    result.checkpoint.extra.update(nlohmann::json{
        {"conversion",
         {{"ann", ann.name}, {"method", o.method}, {"solver", o.solver},
          {"bias", o.bias_registers ? "register" : "channel"}, {"bias_channel", pixels},
          {"coding", {{"steps", o.coding.steps}, {"readout_begin", o.coding.readout_begin}}},
          {"pipeline_delay", result.pipeline_delay}, {"hidden_layers", layers}}}});
}


std::vector<int> all_units(int n) {
    std::vector<int> v(n);
    std::iota(v.begin(), v.end(), 0);
    return v;
}

// One ANN's conversion: what every layer's fit reads (the sampled images, the ANN's weights,
// the rate scale lambda of each layer) and one method per stage. The naive network fixes the
// levels for both methods, so they differ only in the fit.
class LayerwiseConversion {
public:
    LayerwiseConversion(const Ann& ann, const ImageSet& train, const Task& rate_task, const ConversionOptions& o)
        : ann_(ann), rate_task_(rate_task), o_(o), n_layers_(static_cast<int>(ann.layers.size())),
          n_hidden_(n_layers_ - 1), pixels_(ann.n_in()), n_out_(ann.n_out()), s_(sample_inputs(ann, train, o)),
          n_samples_(static_cast<int>(s_.indices.size())) {
        lambda_.resize(n_hidden_);
        for (int l = 0; l < n_hidden_; ++l) lambda_[l] = positive_percentile(s_.pre[l].cwiseMax(0.0), o.percentile);
        const double kappa = std::exp(-1.0 / o.tau_out);
        out_scale_ = o.readout_peak * (1 - kappa) / positive_percentile(s_.pre.back().cwiseAbs(), o.percentile);
        w_ann_.resize(n_layers_);
        b_ann_.resize(n_layers_);
        conn_.resize(n_layers_);
        for (int l = 0; l < n_layers_; ++l) {
            w_ann_[l] = ann.layers[l].dense_weights();
            b_ann_[l] = ann.layers[l].dense_bias();
            conn_[l] = ann.layers[l].connectivity();
        }
        naive_out_ = out_scale_ * lambda_[n_hidden_ - 1] * w_ann_[n_layers_ - 1];
    }

    ConversionResult run() const {
        ConversionResult result;
        std::vector<Block> naive;
        for (int l = 0; l < n_hidden_; ++l)
            naive.push_back(naive_block(l, all_units(ann_.layers[l].n_out), all_units(ann_.layers[l].n_in)));
        levels_from_naive(naive, result);
        std::vector<Block> blocks = naive;
        if (o_.method == "fit") {
            blocks.clear();
            for (int l = 0; l < n_hidden_; ++l) {
                const auto start = std::chrono::steady_clock::now();
                LayerFit fit;
                blocks.push_back(fit_hidden_layer(l, blocks, result.layer_quant[l], fit));
                const int target = l < static_cast<int>(o_.prune_to.size()) ? o_.prune_to[l] : 0;
                if (target > 0 && target < ann_.layers[l].n_out) blocks.back() = prune_layer(l, target, blocks);
                fit.seconds = seconds_since(start);
                result.layers.push_back(fit);
            }
            fit_readout(blocks, result);
        } else {
            result.layers.resize(n_layers_);
        }
        measure_layer_errors(ann_, rate_task_, o_, s_, lambda_, out_scale_, blocks, result);
        check_and_record(ann_, o_, blocks, result);
        return result;
    }

private:
    // Data-based normalisation: the naive weights, and the scores the fit preselects by.
    Block naive_block(int l, const std::vector<int>& units, const std::vector<int>& sources) const {
        const double in_scale = l == 0 ? 1.0 : lambda_[l - 1];
        Block b;
        b.units = units;
        b.w.setZero(units.size(), sources.size() + 1);
        for (size_t j = 0; j < units.size(); ++j) {
            for (size_t i = 0; i < sources.size(); ++i)
                b.w(j, i) = o_.v_th * in_scale / lambda_[l] * w_ann_[l](units[j], sources[i]);
            b.w(j, sources.size()) = o_.v_th * b_ann_[l][units[j]] / lambda_[l];
        }
        return b;
    }

    RsnnParams params_for(const std::vector<Block>& blocks) const {
        return converted_params(pixels_ + 1, Layout(pixels_, blocks).n_rec, n_out_, o_);
    }

    // Levels per layer (a uniform layer's own scale, each layer's rows on their own) and of
    // the readout from the naive network cut to the constraint; that network is the
    // result of method naive.
    void levels_from_naive(const std::vector<Block>& naive, ConversionResult& result) const {
        const Vector naive_bias = out_scale_ * b_ann_[n_layers_ - 1];
        const RsnnParams p = params_for(naive);
        RsnnWeights w = assemble(p, naive, o_.bias_registers, &naive_out_, &naive_bias);
        Matrix group(p.n_rec, p.n_in + p.n_rec);
        group << w.w_in, w.w_rec;
        const Layout layout(pixels_, naive);
        result.layer_quant.resize(n_hidden_);
        for (int l = 0; l < n_hidden_; ++l) {
            Matrix rows = group.middleRows(layout.offset[l], naive[l].units.size());
            prune_and_round(rows, o_.spec, result.layer_quant[l]);
            group.middleRows(layout.offset[l], naive[l].units.size()) = rows;
        }
        prune_and_round(w.w_out, o_.spec, result.readout_quant);
        if (o_.method == "naive") {
            w.w_in = group.leftCols(p.n_in);
            w.w_rec = group.rightCols(p.n_rec);
            result.checkpoint.params = p;
            result.checkpoint.weights = w;
        }
    }

    // Per-step rates of every neuron of the float SNN converted so far, on the sampled
    // training images (counted after each neuron's layer delay).
    Matrix measured_rates(const std::vector<Block>& converted) const {
        const RsnnParams p = params_for(converted);
        const std::vector<int> from = layer_delays(converted);
        const RsnnWeights w = assemble(p, converted, o_.bias_registers, nullptr, nullptr);
        return rates_of(simulate_snn(p, w, rate_task_, Split::train, s_.indices, from, o_.threads), from, o_.coding.steps);
    }

    // The rates of the last block's neurons as the converted network produces them, and a
    // column of ones for the bias.
    Matrix last_block_rates(const std::vector<Block>& blocks) const {
        const int n_src = static_cast<int>(blocks.back().units.size());
        Matrix r(n_samples_, n_src + 1);
        r.leftCols(n_src) = measured_rates(blocks).rightCols(n_src);
        r.col(n_src).setOnes();
        return r;
    }

    static Vector rms_of(const Matrix& r, int n_samples) {
        return (r.colwise().squaredNorm() / n_samples).cwiseSqrt().transpose();
    }

    double relaxed_rms_error(const std::vector<double>& relaxed) const {
        return std::sqrt(std::accumulate(relaxed.begin(), relaxed.end(), 0.0) /
                         (double(relaxed.size()) * n_samples_)) / o_.v_th;
    }

    // Per neuron of hidden layer l, the inputs (columns of r: the sources, then the bias) it
    // keeps within the fan-in limit, preselected by the naive weight times the input's rms rate.
    std::vector<std::vector<int>> choose_hidden_fanin(int l, const std::vector<int>& sources, const Matrix& r,
                                                      const Matrix& gram, const Matrix& rhs) const {
        const int n_src = static_cast<int>(sources.size());
        const int units = ann_.layers[l].n_out;
        const Vector rms = rms_of(r, n_samples_);
        const Block scale = naive_block(l, all_units(units), sources);
        std::vector<std::vector<int>> chosen(units);
        parallel_for(units, o_.threads, [&](int j) {
            std::vector<int> candidates;
            for (int i = 0; i < n_src; ++i)
                if (conn_[l](j, sources[i]) != 0) candidates.push_back(i);
            candidates.push_back(n_src);  // the bias: a register (free) or the always-on input's synapse
            const Vector score = scale.w.row(j).transpose().cwiseAbs().cwiseProduct(rms);
            const int free_input = o_.bias_registers ? n_src : -1;
            chosen[j] = choose_fanin(candidates, o_.spec.fanin, gram, rhs.col(j), score, free_input);
        });
        return chosen;
    }

    // Hidden layer l fitted on its sources' rates in the network converted so far (the pixel
    // rates for the first layer): fan-in chosen per neuron, levels and weights fitted.
    Block fit_hidden_layer(int l, const std::vector<Block>& blocks, GroupQuant& levels, LayerFit& fit) const {
        Matrix r;
        std::vector<int> sources;
        if (l == 0) {
            r = s_.pixel_rates;
            sources = all_units(pixels_);
        } else {
            sources = blocks[l - 1].units;
            r = last_block_rates(blocks);
        }
        const int n_src = static_cast<int>(sources.size());
        const int units = ann_.layers[l].n_out;
        Matrix c;
        std::vector<std::vector<RowKind>> kind;
        hidden_targets(s_.pre[l], lambda_[l], o_.v_th, c, kind);
        const Matrix gram = r.transpose() * r;
        const Matrix rhs = r.transpose() * linear_targets(s_.pre[l], lambda_[l], o_.v_th);
        const std::vector<std::vector<int>> chosen = choose_hidden_fanin(l, sources, r, gram, rhs);
        Block block;
        block.units = all_units(units);
        std::vector<double> relaxed(units), residual(units);
        auto fit_layer = [&](const GroupQuant& at, const std::string& solver) {
            const Grid grid = grid_of(at);
            block.w.setZero(units, n_src + 1);
            parallel_for(units, o_.threads, [&](int j) {
                FitProblem p = neuron_problem(r, chosen[j], c.col(j), kind[j], grid.bound());
                std::vector<char> quantized(chosen[j].size(), 1);
                if (o_.bias_registers) free_bias(p, quantized);
                const Vector w = fit_neuron(p, solver, grid, quantized, relaxed[j]);
                residual[j] = fit_residual(p, w).squaredNorm();
                for (size_t a = 0; a < chosen[j].size(); ++a) block.w(j, chosen[j][a]) = w[a];
            });
            return std::accumulate(residual.begin(), residual.end(), 0.0);
        };
        fit.level_scale = choose_level_scale(levels, o_.level_lsb, o_.solver, fit_layer);
        fit.relaxed_rms_error = relaxed_rms_error(relaxed);
        return block;
    }

    // Node pruning of the last block (layer l) to `target` neurons, by the next layer's dense
    // L2 refit on this layer's SNN rates.
    Block prune_layer(int l, int target, const std::vector<Block>& blocks) const {
        const Block& block = blocks.back();
        const int units = static_cast<int>(block.units.size());
        const Matrix rl = last_block_rates(blocks);
        const Matrix next = l + 1 < n_hidden_ ? linear_targets(s_.pre[l + 1], lambda_[l + 1], o_.v_th)
                                              : Matrix(out_scale_ * s_.pre.back());
        const Matrix g = rl.transpose() * rl;
        ObsEliminator obs(g, rl.transpose() * next, kRidge * std::max(g.diagonal().mean(), 1e-12));
        std::vector<char> protect(units + 1, 0);
        protect[units] = 1;
        std::vector<int> kept = obs.eliminate_to(target, protect);
        kept.pop_back();  // the bias channel
        Block pruned;
        pruned.units = kept;
        pruned.w.resize(kept.size(), block.w.cols());
        for (size_t j = 0; j < kept.size(); ++j) pruned.w.row(j) = block.w.row(kept[j]);
        return pruned;
    }

    // Readout: the logits (scaled) from the last block's rates; the bias is b_out, free.
    void fit_readout(const std::vector<Block>& blocks, ConversionResult& result) const {
        const auto start = std::chrono::steady_clock::now();
        const RsnnParams p = params_for(blocks);
        const std::vector<int>& sources = blocks.back().units;
        const int n_src = static_cast<int>(sources.size());
        const Matrix r = last_block_rates(blocks);
        const Matrix c = out_scale_ * s_.pre.back();
        const Matrix gram = r.transpose() * r;
        const Matrix rhs = r.transpose() * c;
        const Vector rms = rms_of(r, n_samples_);
        std::vector<std::vector<int>> chosen(n_out_);
        parallel_for(n_out_, o_.threads, [&](int j) {
            std::vector<int> candidates;
            Vector score = Vector::Zero(n_src + 1);
            for (int i = 0; i < n_src; ++i)
                if (conn_[n_layers_ - 1](j, sources[i]) != 0) {
                    candidates.push_back(i);
                    score[i] = std::abs(naive_out_(j, sources[i])) * rms[i];
                }
            candidates.push_back(n_src);
            chosen[j] = choose_fanin(candidates, o_.spec.fanin, gram, rhs.col(j), score, n_src);
        });
        Matrix w_out;
        Vector b_out(n_out_);
        std::vector<double> relaxed(n_out_), residual(n_out_);
        LayerFit fit;
        auto fit_layer = [&](const GroupQuant& levels, const std::string& solver) {
            const Grid grid = grid_of(levels);
            w_out.setZero(n_out_, n_src);
            parallel_for(n_out_, o_.threads, [&](int j) {
                const std::vector<int>& in = chosen[j];
                FitProblem prob = neuron_problem(r, in, c.col(j), {}, grid.bound());
                std::vector<char> quantized(in.size(), 1);
                free_bias(prob, quantized);
                const Vector w = fit_neuron(prob, solver, grid, quantized, relaxed[j]);
                residual[j] = fit_residual(prob, w).squaredNorm();
                for (size_t a = 0; a + 1 < in.size(); ++a) w_out(j, in[a]) = w[a];
                b_out[j] = w[in.size() - 1];
            });
            return std::accumulate(residual.begin(), residual.end(), 0.0);
        };
        fit.level_scale = choose_level_scale(result.readout_quant, o_.level_lsb, o_.solver, fit_layer);
        fit.relaxed_rms_error = relaxed_rms_error(relaxed);
        fit.seconds = seconds_since(start);
        result.layers.push_back(fit);
        result.checkpoint.params = p;
        result.checkpoint.weights = assemble(p, blocks, o_.bias_registers, &w_out, &b_out);
    }

    const Ann& ann_;
    const Task& rate_task_;
    const ConversionOptions& o_;
    const int n_layers_, n_hidden_, pixels_, n_out_;
    const Sampled s_;
    const int n_samples_;
    std::vector<double> lambda_;
    double out_scale_ = 0;
    std::vector<Matrix> w_ann_, conn_;
    std::vector<Vector> b_ann_;
    Matrix naive_out_;
};

}  // namespace

ConversionResult convert_ann(const Ann& ann, const ImageSet& train, const Task& rate_task, const ConversionOptions& o) {
    check_conversion_options(ann, rate_task, o);
    return LayerwiseConversion(ann, train, rate_task, o).run();
}

}  // namespace qrsim
