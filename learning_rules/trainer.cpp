#include "learning_rules/trainer.hpp"

#include "learning_rules/constrained_group.hpp"
#include "learning_rules/gradients.hpp"
#include "learning_rules/optimizer.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>

namespace qrsim {

RsnnWeights initial_weights(const RsnnParams& p, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    RsnnWeights w;
    w.resize_zero(p);
    const double s_in = 1.0 / std::sqrt(std::max(1, p.n_in));
    const double s_rec = 1.0 / std::sqrt(std::max(1, p.n_rec));
    for (int j = 0; j < p.n_rec; ++j) {
        for (int i = 0; i < p.n_in; ++i) w.w_in(j, i) = s_in * normal(rng);
        for (int i = 0; i < p.n_rec; ++i) w.w_rec(j, i) = i == j ? 0.0 : s_rec * normal(rng);
    }
    for (int k = 0; k < p.n_out; ++k)
        for (int j = 0; j < p.n_rec; ++j) w.w_out(k, j) = s_rec * normal(rng);
    return w;
}

namespace {

// Runs fn(worker, begin, end) over [0, n) split into contiguous chunks, one per worker; the
// split depends only on n and the worker count, so results are deterministic.
template <class Worker, class Fn>
void parallel_chunks(std::vector<Worker>& workers, int n, Fn fn) {
    const int k = std::min<int>(static_cast<int>(workers.size()), std::max(n, 1));
    auto bounds = [&](int w) { return std::make_pair(n * w / k, n * (w + 1) / k); };
    if (k == 1) {
        fn(workers[0], 0, n);
        return;
    }
    std::vector<std::thread> threads;
    for (int w = 1; w < k; ++w) threads.emplace_back([&, w] { auto [b, e] = bounds(w); fn(workers[w], b, e); });
    auto [b, e] = bounds(0);
    fn(workers[0], b, e);
    for (auto& t : threads) t.join();
}

// The per-thread state of a training or evaluation pass.
struct Worker {
    Worker(const RsnnParams& p, const GradientOptions& opt) : bptt(p, opt), eprop(p, opt), stepper(p, opt.spike_fn) {
        grad.resize_zero(p);
    }
    Bptt bptt;
    Eprop eprop;
    RsnnStepper stepper;
    GradientSum grad;
    SpikeSample sample;
    double loss = 0;
    int correct = 0;
    double spikes = 0;
    std::vector<std::vector<int>> confusion;  // evaluate: [label][prediction]
    void clear_stats() { loss = 0; correct = 0; spikes = 0; confusion.clear(); }
};

// Splits the hidden group's [w_in | w_rec] matrix and joins it back.
void split_hidden(const Matrix& hidden, int n_in, RsnnWeights& w) {
    w.w_in = hidden.leftCols(n_in);
    w.w_rec = hidden.rightCols(hidden.cols() - n_in);
    w.w_rec.diagonal().setZero();  // no self-connections, whatever the parameterisation holds
}

Matrix join_hidden(const Matrix& w_in, const Matrix& w_rec) {
    Matrix m(w_in.rows(), w_in.cols() + w_rec.cols());
    m << w_in, w_rec;
    return m;
}

void validate_options(const RsnnParams& p, const TrainOptions& o) {
    if (p.n_in < 1 || p.n_rec < 1 || p.n_out < 1) throw std::invalid_argument("network: sizes must be positive");
    if (o.rule == "eprop" && !eprop_supports(p)) throw std::invalid_argument(kEpropUnsupported);
    if (o.rule != "bptt" && o.rule != "eprop")
        throw std::invalid_argument("train.rule: unknown rule '" + o.rule + "' (use bptt or eprop)");
    if (o.feedback != "symmetric" && o.feedback != "random")
        throw std::invalid_argument("train.feedback: unknown feedback '" + o.feedback + "' (use symmetric or random)");
    if (o.batch_size < 1) throw std::invalid_argument("train.batch_size: must be >= 1");
    if (o.threads < 1) throw std::invalid_argument("train.threads: must be >= 1");
    qrsim::validate(o.constraint);
    if (o.method != "dense" && o.method != "qr" && o.method != "deepr" && o.method != "prune-round")
        throw std::invalid_argument("constraint.method: unknown method '" + o.method +
                                    "' (use dense, qr, deepr or prune-round)");
    if (o.bases != "ladder" && o.bases != "optimised")
        throw std::invalid_argument("constraint.bases: unknown bases '" + o.bases + "' (use ladder or optimised)");
    if (o.bases == "optimised" &&
        ((o.constraint.kind != WeightKind::dynapse1 && o.constraint.kind != WeightKind::dynapse2) || o.method != "qr"))
        throw std::invalid_argument("constraint.bases: optimised is for constraint.method qr with constraint.kind "
                                    "dynapse1 or dynapse2 (got " + o.method + ", " + to_string(o.constraint.kind) + ")");
}

// prune-round trains unconstrained and is cut to the spec only when weights are read out.
std::string training_method(const std::string& method) { return method == "prune-round" ? "dense" : method; }

// A neuron that keeps only K of its initial weights loses part of its input variance (the K
// largest of 352 keep 14 % at K = 8: the network starts silent and, with weights rounded to
// the chip's levels, may never fire). This gain restores it: sqrt(sum of all squares / sum
// of the kept squares), over all rows; 1 without a fan-in limit. Quantized Rewiring keeps
// each row's K largest; DEEP R a random K (in expectation K / cols of the squares).
double fanin_gain(const Matrix& w, int fanin, bool keeps_largest) {
    const int cols = static_cast<int>(w.cols());
    if (fanin <= 0 || fanin >= cols) return 1.0;
    if (!keeps_largest) return std::sqrt(static_cast<double>(cols) / fanin);
    double all = 0, kept = 0;
    std::vector<double> sq(cols);
    for (int r = 0; r < w.rows(); ++r) {
        for (int c = 0; c < cols; ++c) sq[c] = w(r, c) * w(r, c);
        std::nth_element(sq.begin(), sq.begin() + (cols - fanin), sq.end());
        for (int c = 0; c < cols; ++c) all += sq[c];
        for (int c = cols - fanin; c < cols; ++c) kept += sq[c];
    }
    return kept > 0 ? std::sqrt(all / kept) : 1.0;
}

}  // namespace

struct Trainer::Impl {
    Impl(const RsnnParams& p, const TrainOptions& o, uint64_t s) : params(p), options(o), seed(s), rng(s) {
        validate_options(p, o);
        optimizer = make_optimizer(o.optimizer, o.momentum);
        grad_options.reg_coeff = o.reg_coeff;
        grad_options.reg_rate_hz = o.reg_rate_hz;
        for (int k = 0; k < o.threads; ++k) workers.emplace_back(params, grad_options);
        if (o.feedback == "random") {
            std::mt19937_64 frng(seed ^ 0x5eedfeedULL);
            std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(p.n_rec));
            random_feedback.resize(p.n_rec, p.n_out);
            for (int i = 0; i < random_feedback.size(); ++i) random_feedback.data()[i] = normal(frng);
        }
        RsnnWeights w = initial_weights(p, seed);
        if (o.method == "qr" || o.method == "deepr") {  // trained under the fan-in limit from the start
            const bool largest = o.method == "qr";
            const double g_hidden = fanin_gain(join_hidden(w.w_in, w.w_rec), o.constraint.fanin, largest);
            w.w_in *= g_hidden;
            w.w_rec *= g_hidden;
            w.w_out *= fanin_gain(w.w_out, o.constraint.fanin, largest);
        }
        set_weights(w);
    }

    void set_weights(const RsnnWeights& w) {
        GroupOptions group;
        group.l1 = options.deepr_l1;
        group.temperature = options.deepr_temperature;
        group.bases = base_choice_from_string(options.bases);
        const std::string method = training_method(options.method);
        readout = ConstrainedGroup::make(method, options.constraint, w.w_out, seed + 2, group);
        group.allowed = no_self_connections_mask(params.n_rec, params.n_in);
        hidden = ConstrainedGroup::make(method, options.constraint, join_hidden(w.w_in, w.w_rec), seed + 1, group);
        b_out = w.b_out;
        b_rec = w.b_rec.size() ? w.b_rec : Vector::Zero(params.n_rec);  // fixed: not trained
        optimizer = make_optimizer(options.optimizer, options.momentum);
    }

    // The weights a forward pass uses: stochastically rounded while training.
    RsnnWeights materialize(std::mt19937_64* stochastic) const {
        RsnnWeights w;
        Matrix m;
        hidden->weights(m, stochastic);
        split_hidden(m, params.n_in, w);
        readout->weights(w.w_out, stochastic);
        w.b_out = b_out;
        w.b_rec = b_rec;
        return w;
    }

    // The deployable weights with the levels they use: nearest rounding, and for
    // prune-round the post-training cut.
    RsnnWeights deployable(GroupQuant* hidden_q, GroupQuant* readout_q) const {
        RsnnWeights w = materialize(nullptr);
        GroupQuant hq = hidden->quant(), rq = readout->quant();
        if (options.method == "prune-round") {
            Matrix m = join_hidden(w.w_in, w.w_rec);
            prune_and_round(m, options.constraint, hq);
            split_hidden(m, params.n_in, w);
            prune_and_round(w.w_out, options.constraint, rq);
        }
        if (hidden_q) *hidden_q = hq;
        if (readout_q) *readout_q = rq;
        return w;
    }

    // After every update: can any rounding outcome break the spec?
    void check_update() {
        if (options.method != "qr" && options.method != "deepr") return;
        Matrix m;
        for (const ConstrainedGroup* g : {hidden.get(), readout.get()}) {
            g->weights(m, nullptr);
            const ConstraintCheck c = g->check(m);
            const int worst = g->worst_case_fanin();
            const bool over = options.constraint.fanin > 0 && worst > options.constraint.fanin;
            report.violations_during_training += c.violations + (over ? 1 : 0);
            report.max_fanin_during_training = std::max({report.max_fanin_during_training, worst, c.max_fanin});
        }
        ++report.updates_checked;
    }

    void train_batch(const Task& task, const std::vector<int>& order, int begin, int end, double lr) {
        const RsnnWeights w = materialize(&rng);
        prepared.prepare(w);
        const Matrix& feedback = options.feedback == "random" ? random_feedback : prepared.w_out_t;
        const TaskInfo& info = task.info();
        const bool eprop = options.rule == "eprop";
        parallel_chunks(workers, end - begin, [&](Worker& wk, int b, int e) {
            wk.grad.set_zero();
            for (int k = begin + b; k < begin + e; ++k) {
                task.encode(Split::train, order[k], wk.sample);
                const SampleOutcome out = eprop ? wk.eprop.accumulate(prepared, feedback, wk.sample, info, wk.grad)
                                                : wk.bptt.accumulate(prepared, wk.sample, info, wk.grad);
                wk.loss += out.loss;
                wk.correct += out.prediction == wk.sample.label;
                wk.spikes += out.spikes;
            }
        });
        GradientSum& total = workers[0].grad;
        for (std::size_t k = 1; k < workers.size(); ++k) total += workers[k].grad;

        RsnnWeights g;
        total.to_weights(g, 1.0 / (end - begin));
        g.w_rec.diagonal().setZero();
        hidden->hidden_gradient(join_hidden(g.w_in, g.w_rec), d_hidden);
        readout->hidden_gradient(g.w_out, d_readout);
        g_b = g.b_out;
        std::vector<ParamRef> refs{
            {hidden->hidden().data(), d_hidden.data(), static_cast<std::size_t>(d_hidden.size()), hidden->hidden_unit()},
            {readout->hidden().data(), d_readout.data(), static_cast<std::size_t>(d_readout.size()), readout->hidden_unit()},
            {b_out.data(), g_b.data(), static_cast<std::size_t>(b_out.size())}};
        optimizer->step(refs, lr);
        hidden->after_step(lr, rng);
        readout->after_step(lr, rng);
        check_update();
    }

    RsnnParams params;
    TrainOptions options;
    uint64_t seed;
    std::mt19937_64 rng;
    GradientOptions grad_options;
    std::unique_ptr<Optimizer> optimizer;
    std::unique_ptr<ConstrainedGroup> hidden, readout;
    Vector b_out, g_b, b_rec;
    Matrix d_hidden, d_readout, random_feedback;
    PreparedWeights prepared;
    ConstraintReport report;
    mutable std::vector<Worker> workers;
    int epochs_done = 0;
};

Trainer::Trainer(const RsnnParams& params, const TrainOptions& options, uint64_t seed)
    : impl_(std::make_unique<Impl>(params, options, seed)) {}

Trainer::~Trainer() = default;

void Trainer::set_weights(const RsnnWeights& weights) { impl_->set_weights(weights); }
const RsnnParams& Trainer::params() const { return impl_->params; }
RsnnWeights Trainer::effective_weights() const { return impl_->deployable(nullptr, nullptr); }

Checkpoint Trainer::deployable_checkpoint(const nlohmann::json& config) const {
    CheckpointConstraint levels;
    levels.spec = impl_->options.constraint;
    Checkpoint cp;
    cp.params = impl_->params;
    cp.weights = impl_->deployable(&levels.hidden, &levels.readout);
    cp.config = config;
    cp.extra = constraint_to_extra(levels);
    return cp;
}

ConstraintReport Trainer::constraint_report() const {
    const Impl& m = *impl_;
    ConstraintReport r = m.report;
    GroupQuant hq, rq;
    const RsnnWeights w = m.deployable(&hq, &rq);
    r.hidden_levels = hq;
    r.readout_levels = rq;
    r.hidden_base_choice = m.hidden->base_choice();
    r.readout_base_choice = m.readout->base_choice();
    for (const auto& c : {check_constraints(join_hidden(w.w_in, w.w_rec), m.options.constraint, hq),
                          check_constraints(w.w_out, m.options.constraint, rq)}) {
        r.violations += c.violations;
        r.max_fanin = std::max(r.max_fanin, c.max_fanin);
        r.entries += c.entries;
    }
    return r;
}

EpochResult Trainer::train_epoch(const Task& task, const ProgressCallback& progress) {
    Impl& m = *impl_;
    if (task.info().n_inputs != m.params.n_in || task.info().n_classes != m.params.n_out)
        throw std::invalid_argument("task '" + task.info().name + "' does not match the network's input/output sizes");
    const int n = task.size(Split::train);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(m.seed * 1000003ULL + m.epochs_done);
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    const double lr = m.options.learning_rate * std::pow(m.options.lr_decay, m.epochs_done);
    ++m.epochs_done;

    const auto start = std::chrono::steady_clock::now();
    double loss = 0;
    int correct = 0;
    Progress prog;
    prog.epoch = m.epochs_done;
    prog.epochs = m.options.epochs;
    prog.samples_total = n;
    for (int begin = 0; begin < n; begin += m.options.batch_size) {
        const int end = std::min(n, begin + m.options.batch_size);
        for (auto& w : m.workers) w.clear_stats();
        m.train_batch(task, order, begin, end, lr);
        for (auto& w : m.workers) {
            loss += w.loss;
            correct += w.correct;
        }
        if (progress) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            prog.samples_done = end;
            prog.samples_per_s = end / std::max(s, 1e-9);
            prog.running_accuracy = static_cast<double>(correct) / end;
            prog.running_loss = loss / end;
            progress(prog);
        }
    }
    EpochResult r;
    r.epoch = m.epochs_done;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.train_accuracy = static_cast<double>(correct) / n;
    r.train_loss = loss / n;
    r.samples_per_s = n / std::max(r.wall_s, 1e-9);
    return r;
}

EvalResult Trainer::evaluate(const Task& task, Split split, int max_samples) const {
    const Impl& m = *impl_;
    const int n = max_samples < 0 ? task.size(split) : std::min(max_samples, task.size(split));
    PreparedWeights w;
    w.prepare(effective_weights());
    const TaskInfo& info = task.info();
    const int classes = info.n_classes;
    for (auto& wk : m.workers) {
        wk.clear_stats();
        wk.confusion.assign(classes, std::vector<int>(classes, 0));
    }
    parallel_chunks(m.workers, n, [&](Worker& wk, int b, int e) {
        Vector err;
        for (int k = b; k < e; ++k) {
            task.encode(split, k, wk.sample);
            wk.stepper.reset();
            ReadoutLoss loss(info, wk.sample.label);
            for (int t = 0; t < wk.sample.n_steps(); ++t) {
                wk.stepper.step(w, wk.sample, t);
                loss.step(t, wk.stepper.y(), err);
                wk.spikes += static_cast<double>(wk.stepper.active().size());
            }
            wk.loss += loss.loss();
            wk.correct += loss.prediction() == wk.sample.label;
            ++wk.confusion.at(wk.sample.label).at(loss.prediction());
        }
    });
    EvalResult r;
    r.samples = n;
    r.confusion.assign(classes, std::vector<int>(classes, 0));
    double spikes = 0;
    for (const auto& wk : m.workers) {
        r.loss += wk.loss;
        r.accuracy += wk.correct;
        spikes += wk.spikes;
        for (int a = 0; a < classes; ++a)
            for (int p = 0; p < classes; ++p) r.confusion[a][p] += wk.confusion[a][p];
    }
    r.accuracy /= std::max(n, 1);
    r.loss /= std::max(n, 1);
    r.mean_rate_hz = spikes / (std::max(n, 1) * double(info.n_steps) * m.params.n_rec) * 1000.0 / m.params.dt;
    return r;
}

EvalResult evaluate_weights(const RsnnParams& params, const RsnnWeights& weights, const Task& task, Split split,
                            int max_samples, int threads) {
    TrainOptions plain;  // dense: the weights are taken as they are, not projected again
    plain.threads = threads;
    Trainer trainer(params, plain, 0);
    trainer.set_weights(weights);
    return trainer.evaluate(task, split, max_samples);
}

Checkpoint initial_qr_checkpoint(const RsnnParams& params, const ConstraintSpec& constraint, uint64_t seed) {
    TrainOptions o;
    o.rule = "eprop";
    o.method = "qr";
    o.constraint = constraint;
    return Trainer(params, o, seed).deployable_checkpoint();
}

Checkpoint prune_and_round_checkpoint(const Checkpoint& checkpoint, const ConstraintSpec& spec) {
    Checkpoint out = checkpoint;
    CheckpointConstraint levels;
    levels.spec = spec;
    Matrix hidden = join_hidden(checkpoint.weights.w_in, checkpoint.weights.w_rec);
    prune_and_round(hidden, spec, levels.hidden);
    split_hidden(hidden, checkpoint.params.n_in, out.weights);
    prune_and_round(out.weights.w_out, spec, levels.readout);
    if (!out.extra.is_object()) out.extra = nlohmann::json::object();
    out.extra["constraint"] = constraint_to_extra(levels).at("constraint");
    return out;
}

}  // namespace qrsim
