// The trainer end to end on a small real subset: constraints hold after every update of
// a whole run, runs are deterministic, and training lowers the loss.
#include "learning_rules/trainer.hpp"

#include <catch2/catch.hpp>

using namespace qrsim;

namespace {

std::unique_ptr<Task> small_rows_task() {
    TaskOptions o;
    o.name = "fmnist-rows";
    o.train_samples = 256;
    o.test_samples = 128;
    return make_task(o);
}

RsnnParams params_for(const Task& task) {
    RsnnParams p;
    p.n_in = task.info().n_inputs;
    p.n_rec = 32;
    p.n_alif = 8;
    p.n_out = task.info().n_classes;
    return p;
}

}  // namespace

TEST_CASE("Quantized Rewiring and DEEP R hold the constraint after every update of a run", "[trainer][constraints]") {
    const auto task = small_rows_task();
    const RsnnParams p = params_for(*task);
    for (const std::string method : {"qr", "deepr"})
        for (const WeightKind kind : {WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2})
            for (const std::string rule : {"bptt", "eprop"}) {
                TrainOptions o;
                o.rule = rule;
                o.batch_size = 16;
                o.method = method;
                o.constraint.kind = kind;
                o.constraint.fanin = 8;
                o.constraint.weight_bits = 3;
                Trainer trainer(p, o, 7);
                trainer.train_epoch(*task);
                trainer.train_epoch(*task);
                const ConstraintReport r = trainer.constraint_report();
                INFO(method << " " << to_string(kind) << " " << rule);
                CHECK(r.updates_checked == 2 * 256 / 16);
                CHECK(r.violations_during_training == 0);
                CHECK(r.violations == 0);
                CHECK(r.max_fanin_during_training <= 8);
                CHECK(r.max_fanin > 0);
            }
}

TEST_CASE("prune-and-round cuts a dense network to the spec", "[trainer][constraints]") {
    const auto task = small_rows_task();
    TrainOptions o;
    o.method = "prune-round";
    o.constraint.kind = WeightKind::dynapse2;
    o.constraint.fanin = 8;
    Trainer trainer(params_for(*task), o, 3);
    trainer.train_epoch(*task);
    const ConstraintReport r = trainer.constraint_report();
    CHECK(r.updates_checked == 0);  // it trains unconstrained
    CHECK(r.violations == 0);
    CHECK(r.max_fanin == 8);
}

TEST_CASE("training is deterministic for a seed and thread count, and lowers the loss", "[trainer]") {
    const auto task = small_rows_task();
    const RsnnParams p = params_for(*task);
    TrainOptions o;
    o.batch_size = 16;
    o.threads = 2;
    Trainer a(p, o, 5), b(p, o, 5);
    const double before = a.evaluate(*task, Split::train).loss;
    for (int e = 0; e < 3; ++e) {
        a.train_epoch(*task);
        b.train_epoch(*task);
    }
    const RsnnWeights wa = a.effective_weights(), wb = b.effective_weights();
    CHECK(wa.w_in == wb.w_in);
    CHECK(wa.w_rec == wb.w_rec);
    CHECK(wa.w_out == wb.w_out);
    CHECK(wa.w_rec.diagonal().isZero());  // no self-connections
    const double after = a.evaluate(*task, Split::train).loss;
    INFO("train loss " << before << " -> " << after);
    CHECK(after < 0.8 * before);
}

TEST_CASE("a fan-in-limited network starts with the dense network's input variance", "[trainer][constraints]") {
    RsnnParams p;
    p.n_in = 200;
    p.n_rec = 50;
    p.n_out = 10;
    const RsnnWeights dense = initial_weights(p, 11);
    auto sum_sq = [](const RsnnWeights& w) {
        return std::make_pair(w.w_in.squaredNorm() + w.w_rec.squaredNorm(), w.w_out.squaredNorm());
    };
    const auto [hidden0, readout0] = sum_sq(dense);
    for (const std::string method : {"qr", "deepr"}) {
        for (int fanin : {8, 25}) {
            TrainOptions o;
            o.method = method;
            o.constraint.kind = WeightKind::none;
            o.constraint.fanin = fanin;
            const Trainer t(p, o, 11);
            const RsnnWeights w = t.effective_weights();
            const auto [hidden, readout] = sum_sq(w);
            INFO(method << " K=" << fanin);
            // QR: the K largest per row, scaled back up exactly; DEEP R: a random K, in expectation
            const double tolerance = method == "qr" ? 1e-9 : 0.25;
            CHECK(hidden == Approx(hidden0).epsilon(tolerance));
            CHECK(readout == Approx(readout0).epsilon(tolerance));
            const Eigen::Index kept = (w.w_in.array() != 0).count() + (w.w_rec.array() != 0).count();
            CHECK(kept == static_cast<Eigen::Index>(fanin) * p.n_rec);
        }
    }
}
