// The constraint math: entry codes, memory, Quantized Rewiring's projection (the fan-in
// limit holds after EVERY projection, for every rounding outcome), DEEP R's budget, the
// straight-through gradient scaling, and prune-and-round.
#include "learning_rules/constrained_group.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <random>

using namespace qrsim;

namespace {

Matrix random_matrix(int rows, int cols, double stddev, std::mt19937_64& rng) {
    std::normal_distribution<double> normal(0.0, stddev);
    Matrix m(rows, cols);
    for (Eigen::Index p = 0; p < m.size(); ++p) m.data()[p] = normal(rng);
    return m;
}

ConstraintSpec make_spec(WeightKind kind, int fanin, int bits = 4, double connectivity = 1.0) {
    ConstraintSpec s;
    s.kind = kind;
    s.fanin = fanin;
    s.weight_bits = bits;
    s.connectivity = connectivity;
    return s;
}

GroupQuant dynapse1_quant(double s) {
    GroupQuant q;
    q.kind = WeightKind::dynapse1;
    q.base = {s, 4 * s, s, 4 * s};
    return q;
}

GroupQuant dynapse2_quant(double s) {
    GroupQuant q;
    q.kind = WeightKind::dynapse2;
    q.base = {s, 2 * s, 4 * s, 8 * s};
    return q;
}

GroupQuant uniform_quant(double scale, int bits) {
    GroupQuant q;
    q.kind = WeightKind::uniform;
    q.scale = scale;
    q.weight_bits = bits;
    return q;
}

double weight_step_unit(const GroupQuant& q) { return q.kind == WeightKind::uniform ? q.scale : q.base[0]; }

std::vector<int> codes_of(const GroupQuant& q, double w) {
    std::vector<EntryCode> entries;
    decompose(q, w, 7, entries);
    std::vector<int> codes;
    for (const auto& e : entries) {
        REQUIRE(e.pre == 7);
        codes.push_back(e.code);
    }
    return codes;
}

// Every row of the rounded weights within K entries and every weight representable, for
// nearest rounding and two stochastic draws; the projection's worst case within K too.
long long violations_now(const ConstrainedGroup& g, std::mt19937_64& rng) {
    Matrix w;
    long long bad = 0;
    g.weights(w, nullptr);
    bad += g.check(w).violations;
    for (int draw = 0; draw < 2; ++draw) {
        g.weights(w, &rng);
        bad += g.check(w).violations;
    }
    if (g.spec().fanin > 0 && g.worst_case_fanin() > g.spec().fanin) ++bad;
    return bad;
}

}  // namespace

TEST_CASE("weight kind names round-trip, and unknown names list the allowed ones", "[constraints]") {
    for (WeightKind k : {WeightKind::none, WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2})
        REQUIRE(weight_kind_from_string(to_string(k)) == k);
    REQUIRE_THROWS_WITH(weight_kind_from_string("dynapse3"),
                        Catch::Contains("none, uniform, dynapse1, dynapse2"));
    REQUIRE_THROWS_AS(validate(make_spec(WeightKind::uniform, 8, 1)), std::invalid_argument);
    REQUIRE_THROWS_AS(validate(make_spec(WeightKind::uniform, 8, 17)), std::invalid_argument);
    REQUIRE_THROWS_AS(validate(make_spec(WeightKind::dynapse1, 8, 4, 0.0)), std::invalid_argument);
    REQUIRE_NOTHROW(validate(make_spec(WeightKind::dynapse2, 64, 4, 0.2)));
}

TEST_CASE("entry codes by hand", "[constraints]") {
    SECTION("uniform: one entry, code = w / scale, |code| <= 2^(b-1) - 1") {
        const GroupQuant q = uniform_quant(0.1, 4);
        REQUIRE(codes_of(q, -0.7) == std::vector<int>{-7});
        REQUIRE(codes_of(q, 0.3) == std::vector<int>{3});
        REQUIRE(codes_of(q, 0.0).empty());
        REQUIRE(entry_count(q, 0.8) == -1);   // code 8 > 7
        REQUIRE(entry_count(q, 0.25) == -1);  // between levels
        std::vector<EntryCode> out;
        REQUIRE_THROWS_AS(decompose(q, 0.25, 0, out), std::invalid_argument);
        REQUIRE(entry_weight(q, -3) == Approx(-0.3));
        REQUIRE_THROWS(entry_weight(q, 8));
    }
    SECTION("dynapse1: counts per type, largest type first") {
        const GroupQuant q = dynapse1_quant(0.5);
        REQUIRE(codes_of(q, 3.0) == std::vector<int>{1, 0, 0});   // 6s = one large (4s) + two small
        REQUIRE(codes_of(q, -3.0) == std::vector<int>{3, 2, 2});  // inhibitory types
        REQUIRE(codes_of(q, 4.0) == std::vector<int>{1, 1});      // 8s = two large
        REQUIRE(entry_count(q, 0.5 * 11) == 2 + 3);
        REQUIRE(entry_count(q, 0.3) == -1);
        REQUIRE(entry_weight(q, 3) == Approx(-2.0));
        REQUIRE_THROWS(entry_weight(q, 4));
    }
    SECTION("dynapse2: sign x mask entries, full masks first") {
        const GroupQuant q = dynapse2_quant(0.1);
        REQUIRE(codes_of(q, 2.0) == std::vector<int>{15, 5});  // 20s = 15s + (s + 4s)
        REQUIRE(codes_of(q, -1.5) == std::vector<int>{-15});
        REQUIRE(codes_of(q, 0.6) == std::vector<int>{6});      // 2s + 4s
        REQUIRE(entry_weight(q, -9) == Approx(-0.9));
        REQUIRE(entry_count(q, 0.05) == -1);
        REQUIRE_THROWS(entry_weight(q, 16));
        REQUIRE_THROWS(entry_weight(q, 0));
    }
    SECTION("dynapse2 with bases that leave gaps needs two masks") {
        GroupQuant q = dynapse2_quant(1.0);
        q.base = {1.0, 1.0, 1.0, 10.0};  // one entry: 0..3, 10..13; full 13
        REQUIRE(entry_count(q, 6.0) == 2);   // 3 + 3
        REQUIRE(entry_count(q, 19.0) == 3);  // 13 + 3 + 3: no two levels add up to 19
        REQUIRE(entry_count(q, 16.0) == 2);  // 13 + 3
    }
}

TEST_CASE("decompose and entry_weight round-trip on random representable weights", "[constraints]") {
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<int> units(-60, 60);
    const std::vector<GroupQuant> quants = {uniform_quant(0.013, 8), uniform_quant(0.2, 2), dynapse1_quant(0.037),
                                            dynapse2_quant(0.021)};
    for (const GroupQuant& q : quants) {
        for (int i = 0; i < 500; ++i) {
            int n = units(rng);
            if (q.kind == WeightKind::uniform) n = std::clamp(n, -uniform_max_code(q.weight_bits), uniform_max_code(q.weight_bits));
            const double w = n * weight_step_unit(q);
            std::vector<EntryCode> entries;
            const int count = decompose(q, w, 3, entries);
            REQUIRE(count == static_cast<int>(entries.size()));
            REQUIRE(count == entry_count(q, w));
            double sum = 0;
            for (const auto& e : entries) sum += entry_weight(q, e.code);
            REQUIRE(sum == Approx(w).margin(1e-12));
            // The fewest: dynapse1 |n| = 4 L + rest, dynapse2 ceil(|n| / 15).
            if (q.kind == WeightKind::dynapse1) REQUIRE(count == std::abs(n) / 4 + std::abs(n) % 4);
            if (q.kind == WeightKind::dynapse2) REQUIRE(count == (std::abs(n) + 14) / 15);
        }
    }
}

TEST_CASE("memory bits by component, by hand", "[constraints]") {
    // dynapse1, K = 64, 128 neurons, 352 addresses: 9 address bits, 2 type bits, 4 bases.
    auto m = memory_bits(make_spec(WeightKind::dynapse1, 64), 128, 352);
    REQUIRE(m.at("cam_address_bits") == 128LL * 64 * 9);
    REQUIRE(m.at("cam_weight_bits") == 128LL * 64 * 2);
    REQUIRE(m.at("shared_base_bits") == 4 * 32);
    // uniform 4-bit, K = 16, 10 neurons, 256 addresses: 8 address bits, one scale.
    m = memory_bits(make_spec(WeightKind::uniform, 16, 4), 10, 256);
    REQUIRE(m.at("cam_address_bits") == 1280);
    REQUIRE(m.at("cam_weight_bits") == 640);
    REQUIRE(m.at("shared_base_bits") == 32);
    // dynapse2, K = 64, 256 neurons, 2048 tags: 11 address bits, sign + 4-bit mask.
    m = memory_bits(make_spec(WeightKind::dynapse2, 64), 256, 2048);
    REQUIRE(m.at("cam_address_bits") == 256LL * 64 * 11);
    REQUIRE(m.at("cam_weight_bits") == 256LL * 64 * 5);
    // dense float: no addresses, 32-bit weights.
    m = memory_bits(make_spec(WeightKind::none, 0), 10, 100);
    REQUIRE(m.at("cam_address_bits") == 0);
    REQUIRE(m.at("cam_weight_bits") == 32000);
    REQUIRE(m.at("shared_base_bits") == 0);
}

TEST_CASE("QR: the projection by hand", "[constraints][qr]") {
    std::mt19937_64 rng(1);
    SECTION("dynapse1: the smallest tokens go first, a pair loses its own smallest first") {
        GroupOptions opt;
        opt.quant = dynapse1_quant(0.25);
        Matrix w(1, 3);
        w << 6 * 0.25, 0.5 * 0.25, -2 * 0.25;  // entries 3 (4s + s + s), 1 (worst case), 2
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 4), w, 1, opt);
        Matrix out;
        g->weights(out, nullptr);
        // 6 entries > 4: remove the 0.5 s token and one s token of the smaller pair (-2s).
        REQUIRE(out(0, 0) == Approx(1.5));
        REQUIRE(out(0, 1) == 0.0);
        REQUIRE(out(0, 2) == Approx(-0.25));
        REQUIRE(g->worst_case_fanin() == 4);

        g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 1), w, 1, opt);
        g->weights(out, nullptr);  // one entry: the large token of 6s
        REQUIRE(out(0, 0) == Approx(1.0));
        REQUIRE(out(0, 1) == 0.0);
        REQUIRE(out(0, 2) == 0.0);
    }
    SECTION("uniform: keep the K largest, clip to the largest code") {
        GroupOptions opt;
        opt.quant = uniform_quant(0.1, 3);  // codes -3..3
        Matrix w(2, 4);
        w << 0.3, -0.5, 0.1, 0.2,
             0.0, 0.0, 0.0, -0.1;
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::uniform, 2, 3), w, 1, opt);
        Matrix out;
        g->weights(out, nullptr);
        Matrix expected(2, 4);
        expected << 0.3, -0.3, 0.0, 0.0,
                    0.0, 0.0, 0.0, -0.1;
        REQUIRE(out.isApprox(expected, 1e-12));
    }
    SECTION("connectivity budget zeroes the smallest pairs of the whole group") {
        GroupOptions opt;
        opt.quant = uniform_quant(1.0, 4);
        Matrix w(2, 2);
        w << 1, -4, 3, 2;
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::uniform, 0, 4, 0.5), w, 1, opt);
        Matrix out;
        g->weights(out, nullptr);
        Matrix expected(2, 2);
        expected << 0, -4, 3, 0;
        REQUIRE(out == expected);
    }
}

// Thousands of random gradient steps, a violation count after every projection.
static void long_random_run(WeightKind kind, int bits, double connectivity,
                            BaseChoice bases = BaseChoice::ladder) {
    const int rows = 12, cols = 40, steps = 1500;
    for (int k : {1, 3, 8, 64}) {
        INFO("kind " << to_string(kind) << " K " << k << " connectivity " << connectivity);
        const ConstraintSpec spec = make_spec(kind, k, bits, connectivity);
        std::mt19937_64 rng(100 + k);
        GroupOptions opt;
        opt.random_regrowth = k == 8;
        opt.bases = bases;
        auto g = ConstrainedGroup::make("qr", spec, random_matrix(rows, cols, 0.2, rng), 5, opt);
        if (bases == BaseChoice::optimised) REQUIRE(g->base_choice().has_value());
        const double unit = kind == WeightKind::none ? 0.05 : weight_step_unit(g->quant());
        // A slowly turning drift (so weights grow, saturate and flip sign) plus noise.
        const Matrix drift = random_matrix(rows, cols, 1.0, rng);
        long long violations = violations_now(*g, rng);
        Matrix dw, dh, before, after;
        long long sign_flips = 0;
        for (int step = 0; step < steps; ++step) {
            dw = (drift * std::sin(step * 0.01) + random_matrix(rows, cols, 1.0, rng)) * unit;
            g->hidden_gradient(dw, dh);
            g->weights(before, nullptr);
            g->hidden() -= 1.5 * dh;
            g->after_step(0.01, rng);
            g->weights(after, nullptr);
            sign_flips += ((before.array() * after.array()) < 0).count();
            violations += violations_now(*g, rng);
        }
        REQUIRE(violations == 0);
        // Under a tight budget a small pair is replaced before it can flip.
        if (k == 64 && connectivity == 1.0) REQUIRE(sign_flips > 0);
        Matrix w;
        g->weights(w, nullptr);
        const ConstraintCheck check = g->check(w);
        REQUIRE(check.active_pairs > 0);
        REQUIRE(check.active_pairs <= static_cast<long long>(std::floor(connectivity * rows * cols)));
        // The fan-in budget is used: dormant pairs regrow through their gradient.
        if (connectivity == 1.0 && k <= 8) REQUIRE(check.max_fanin >= k - 1);
    }
}

TEST_CASE("QR long run: float weights under a fan-in limit", "[constraints][qr]") {
    long_random_run(WeightKind::none, 4, 1.0);
}
TEST_CASE("QR long run: uniform 2-bit", "[constraints][qr]") { long_random_run(WeightKind::uniform, 2, 1.0); }
TEST_CASE("QR long run: uniform 4-bit, connectivity 30 %", "[constraints][qr]") {
    long_random_run(WeightKind::uniform, 4, 0.3);
}
TEST_CASE("QR long run: dynapse1", "[constraints][qr]") { long_random_run(WeightKind::dynapse1, 4, 1.0); }
TEST_CASE("QR long run: dynapse1, connectivity 40 %", "[constraints][qr]") {
    long_random_run(WeightKind::dynapse1, 4, 0.4);
}
TEST_CASE("QR long run: dynapse2", "[constraints][qr]") { long_random_run(WeightKind::dynapse2, 4, 1.0); }
TEST_CASE("QR long run: dynapse1, optimised bases", "[constraints][qr][bases]") {
    long_random_run(WeightKind::dynapse1, 4, 1.0, BaseChoice::optimised);
    long_random_run(WeightKind::dynapse1, 4, 0.4, BaseChoice::optimised);
}

TEST_CASE("QR: projection is idempotent and leaves compliant weights unchanged", "[constraints][qr]") {
    for (WeightKind kind : {WeightKind::none, WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2}) {
        for (int k : {2, 7, 20}) {
            INFO("kind " << to_string(kind) << " K " << k);
            const ConstraintSpec spec = make_spec(kind, k, 5, 0.8);
            std::mt19937_64 rng(7 * k);
            auto g = ConstrainedGroup::make("qr", spec, random_matrix(10, 30, 0.3, rng), 3);
            Matrix dh;
            for (int step = 0; step < 50; ++step) {
                g->hidden_gradient(random_matrix(10, 30, 0.2, rng), dh);
                g->hidden() -= dh;
                g->after_step(0.01, rng);
                const Matrix once = g->hidden();
                g->after_step(0.01, rng);
                REQUIRE(g->hidden() == once);
            }

            // A compliant matrix: per row random pairs with representable weights, <= K entries.
            const GroupQuant q = g->quant();
            const double unit = kind == WeightKind::none ? 0.01 : weight_step_unit(q);
            const int max_units = kind == WeightKind::uniform ? uniform_max_code(q.weight_bits) : 40;
            std::uniform_int_distribution<int> units(-max_units, max_units);
            std::uniform_int_distribution<int> col(0, 29);
            Matrix compliant = Matrix::Zero(10, 30);
            for (int r = 0; r < 8; ++r) {  // 8 x 30 = 80 % of the pairs at most, within connectivity 0.8
                int entries = 0;
                for (int tries = 0; tries < 40; ++tries) {
                    const double w = units(rng) * unit;
                    const int c = col(rng);
                    const int n = entry_count(q, w);
                    if (compliant(r, c) != 0 || entries + n > k) continue;
                    compliant(r, c) = w;
                    entries += n;
                }
            }
            g->set_weights(compliant);
            const Matrix hidden = g->hidden();
            Matrix out;
            g->weights(out, nullptr);
            REQUIRE(out.isApprox(compliant, 1e-12));
            g->after_step(0.01, rng);
            REQUIRE(g->hidden() == hidden);
        }
    }
}

TEST_CASE("QR: without regrowth a pruned pair stays pruned", "[constraints][qr]") {
    std::mt19937_64 rng(3);
    GroupOptions opt;
    opt.regrow = false;
    auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::uniform, 4, 4), random_matrix(6, 20, 0.3, rng), 1, opt);
    Matrix w0, w, dh;
    g->weights(w0, nullptr);
    for (int step = 0; step < 200; ++step) {
        g->hidden_gradient(random_matrix(6, 20, 1.0, rng), dh);
        g->hidden() -= 0.05 * dh;
        g->after_step(0.01, rng);
        g->weights(w, nullptr);
        REQUIRE(((w0.array() == 0) && (w.array() != 0)).count() == 0);
    }
}

TEST_CASE("straight-through gradient: a hidden step is the weight-space step", "[constraints]") {
    std::mt19937_64 rng(2);
    Matrix dw, dh, out;
    SECTION("uniform: d_hidden = dw / scale") {
        GroupOptions opt;
        opt.quant = uniform_quant(0.1, 4);
        Matrix w(1, 2);
        w << 0.3, -0.2;
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::uniform, 2, 4), w, 1, opt);
        dw.resize(1, 2);
        dw << -0.5, 0.25;
        g->hidden_gradient(dw, dh);
        REQUIRE(dh(0, 0) == Approx(-5.0));
        REQUIRE(g->hidden_unit() == 0.1);
        g->hidden() -= 0.4 * dh;  // weight steps +0.2 and -0.1
        g->after_step(0.4, rng);
        g->weights(out, nullptr);
        REQUIRE(out(0, 0) == Approx(0.5));
        REQUIRE(out(0, 1) == Approx(-0.3));
    }
    SECTION("dynapse1: 4 counts each get dw sign / (4 base)") {
        GroupOptions opt;
        opt.quant = dynapse1_quant(0.25);
        Matrix w(1, 2);
        w << 1.5, 0.25;  // 6s = counts {2, 1, 0, 0}; s
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 8), w, 1, opt);
        REQUIRE(g->hidden()(0, 0) == 2.0);
        REQUIRE(g->hidden()(0, 1) == 1.0);
        REQUIRE(g->hidden_unit() == Approx(2.5));  // one unit in all four counts: s + 4s + s + 4s
        dw.resize(1, 2);
        dw << -0.25, 0.375;  // lr 2: +0.5 = +2s -> 8s; -0.75 = -3s -> -2s (sign flip)
        g->hidden_gradient(dw, dh);
        REQUIRE(dh(0, 0) == Approx(-0.25));
        REQUIRE(dh(0, 1) == Approx(-0.0625));
        REQUIRE(dh(0, 2) == Approx(0.25));
        REQUIRE(dh(0, 3) == Approx(0.0625));
        g->hidden() -= 2.0 * dh;
        g->after_step(2.0, rng);
        g->weights(out, nullptr);
        REQUIRE(out(0, 0) == Approx(2.0));
        REQUIRE(out(0, 1) == Approx(-0.5));
        // Canonical: two large exc for 8s; two small inh for -2s.
        REQUIRE(g->hidden().row(0).segment(0, 4).transpose() == Eigen::RowVector4d(0, 2, 0, 0).transpose());
        REQUIRE(g->hidden().row(0).segment(4, 4).transpose() == Eigen::RowVector4d(0, 0, 2, 0).transpose());
    }
    SECTION("dynapse2: d_hidden = dw / s") {
        GroupOptions opt;
        opt.quant = dynapse2_quant(0.1);
        Matrix w(1, 1);
        w << 0.3;
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse2, 2), w, 1, opt);
        dw.resize(1, 1);
        dw << -1.0;
        g->hidden_gradient(dw, dh);
        g->hidden() -= 1.7 * dh;  // +1.7 = 17 s -> 20 s, two entries
        g->after_step(1.7, rng);
        g->weights(out, nullptr);
        REQUIRE(out(0, 0) == Approx(2.0));
        REQUIRE(g->check(out).max_fanin == 2);
    }
    SECTION("stochastic rounding is unbiased") {
        GroupOptions opt;
        opt.quant = uniform_quant(0.1, 4);
        Matrix w(1, 1);
        w << 0.3;
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::uniform, 1, 4), w, 1, opt);
        g->hidden()(0, 0) = 3.3;
        double mean = 0;
        for (int i = 0; i < 20000; ++i) {
            g->weights(out, &rng);
            REQUIRE((std::abs(out(0, 0) - 0.3) < 1e-12 || std::abs(out(0, 0) - 0.4) < 1e-12));
            mean += out(0, 0) / 20000;
        }
        REQUIRE(mean == Approx(0.33).margin(0.003));
    }
    SECTION("deepr: d_theta = sign dw") {
        Matrix w(1, 2);
        w << 0.3, -0.2;
        auto g = ConstrainedGroup::make("deepr", make_spec(WeightKind::none, 2), w, 1);
        dw.resize(1, 2);
        dw << -0.5, -0.5;
        g->hidden_gradient(dw, dh);
        REQUIRE(dh(0, 0) == Approx(-0.5));
        REQUIRE(dh(0, 1) == Approx(0.5));
        g->hidden() -= 0.1 * dh;
        g->weights(out, nullptr);
        REQUIRE(out(0, 0) == Approx(0.35));
        REQUIRE(out(0, 1) == Approx(-0.15));
    }
}

TEST_CASE("DEEP R: exactly the budget active after every step, signs fixed", "[constraints][deepr]") {
    const int rows = 10, n_in = 15, cols = n_in + rows;
    for (WeightKind kind : {WeightKind::none, WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2}) {
        for (int k : {1, 5, 12, 64}) {
            INFO("kind " << to_string(kind) << " K " << k);
            std::mt19937_64 rng(k);
            GroupOptions opt;
            opt.l1 = 0.05;
            opt.temperature = 1e-3;
            opt.allowed = no_self_connections_mask(rows, n_in);
            Matrix initial = random_matrix(rows, cols, 0.3, rng);
            auto g = ConstrainedGroup::make("deepr", make_spec(kind, k, 3), initial, 9, opt);
            const int budget = std::min(k, cols - 1);
            Matrix w, dh;
            long long wrong_budget = 0, flipped = 0, forbidden = 0, violations = 0, reactivated = 0;
            Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> was_active =
                g->hidden().array() >= 0;
            for (int step = 0; step < 800; ++step) {
                g->hidden_gradient(random_matrix(rows, cols, 1.0, rng), dh);
                g->hidden() -= 0.05 * dh;
                g->after_step(0.05, rng);
                const auto active = (g->hidden().array() >= 0).eval();
                for (int r = 0; r < rows; ++r) wrong_budget += active.row(r).count() != budget;
                reactivated += (active && !was_active).count();
                was_active = active;
                g->weights(w, &rng);
                flipped += ((w.array() * initial.array()) < 0).count();
                for (int j = 0; j < rows; ++j) forbidden += active(j, n_in + j);
                violations += g->check(w).violations;
                g->weights(w, nullptr);
                violations += g->check(w).violations;
            }
            REQUIRE(wrong_budget == 0);
            REQUIRE(flipped == 0);
            REQUIRE(forbidden == 0);
            REQUIRE(violations == 0);
            REQUIRE(g->worst_case_fanin() == budget);
            if (budget < cols - 1) REQUIRE(reactivated > 0);
        }
    }
}

TEST_CASE("DEEP R with quantized levels rounds active weights to one-entry levels", "[constraints][deepr]") {
    GroupOptions opt;
    opt.quant = dynapse1_quant(0.25);
    Matrix w(1, 4);
    w << 0.2, 0.7, 3.0, -0.4;
    auto g = ConstrainedGroup::make("deepr", make_spec(WeightKind::dynapse1, 4), w, 1, opt);
    Matrix out;
    g->weights(out, nullptr);
    Matrix expected(1, 4);
    expected << 0.25, 1.0, 1.0, -0.25;  // levels {0, s, 4s}: 0.7 is nearer 1.0 than 0.25
    REQUIRE(out.isApprox(expected));
}

TEST_CASE("prune_and_round: compliant, keeps the largest", "[constraints]") {
    std::mt19937_64 rng(5);
    for (WeightKind kind : {WeightKind::none, WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2}) {
        for (int k : {1, 4, 16}) {
            INFO("kind " << to_string(kind) << " K " << k);
            const ConstraintSpec spec = make_spec(kind, k, 3);
            const Matrix dense = random_matrix(20, 50, 0.1, rng);
            Matrix w = dense;
            GroupQuant q;
            prune_and_round(w, spec, q);
            const ConstraintCheck check = check_constraints(w, spec, q);
            REQUIRE(check.violations == 0);
            REQUIRE(check.max_fanin <= k);
            REQUIRE(check.active_pairs > 0);
            for (int r = 0; r < 20; ++r) {
                // No dropped weight is larger than a kept one by more than the rounding.
                double smallest_kept = 1e300, largest_dropped = 0;
                for (int c = 0; c < 50; ++c) {
                    if (w(r, c) != 0) {
                        smallest_kept = std::min(smallest_kept, std::abs(dense(r, c)));
                        REQUIRE(w(r, c) * dense(r, c) > 0);
                    } else {
                        largest_dropped = std::max(largest_dropped, std::abs(dense(r, c)));
                    }
                }
                if (kind == WeightKind::none || kind == WeightKind::uniform)
                    REQUIRE(largest_dropped <= smallest_kept + weight_step_unit(q));
            }
        }
    }
}

TEST_CASE("dense group: float weights, the check reports what the spec would forbid", "[constraints]") {
    std::mt19937_64 rng(4);
    Matrix w0 = random_matrix(4, 10, 0.2, rng);
    auto g = ConstrainedGroup::make("dense", make_spec(WeightKind::uniform, 3, 4), w0, 1);
    Matrix w;
    g->weights(w, &rng);
    REQUIRE(w == w0);
    const ConstraintCheck check = g->check(w);
    REQUIRE(check.fanin_violations == 4);
    REQUIRE(check.weight_violations > 0);
    REQUIRE_THROWS_WITH(ConstrainedGroup::make("sparse", make_spec(WeightKind::none, 0), w0, 1),
                        Catch::Contains("qr, deepr, dense"));
}

TEST_CASE("dynapse1 base cost by hand", "[constraints][bases]") {
    // s = 1. Row [7, -5, 0.4]; the ladder {1, 4, 1, 4}: 7 = 4 + 3 (4 entries), -5 = -(4 + 1)
    // (2 entries), 0.4 rounds to no entry (error 0.4). Only small entries: 7 + 5 + 0 = 12.
    Matrix w(1, 3);
    w << 7, -5, 0.4;
    GroupQuant ladder = dynapse1_quant(1.0);
    GroupQuant fitted = ladder;
    fitted.base = {1, 7, 1, 5};  // 7 and -5 take one entry each
    const ConstraintSpec unlimited = make_spec(WeightKind::dynapse1, 0);
    // median |error| of {0, 0, 0.4} = 0; entries 6 / 12.
    REQUIRE(dynapse1_base_cost(unlimited, w, ladder) == Approx(0.5 * 0 + 0.5 * 6.0 / 12));
    REQUIRE(dynapse1_base_cost(unlimited, w, fitted) == Approx(0.5 * 2.0 / 12));
    REQUIRE(dynapse1_base_cost(unlimited, w, fitted, 1.0) == 0.0);  // alpha weighs the two terms
    // K = 2 with the ladder: 4 small entries go, the one of the smaller pair (-5) first, then
    // 7's three: 7 -> 4 (error 3), -5 -> -4 (error 1); median of {3, 1, 0.4} = 1.
    const ConstraintSpec k2 = make_spec(WeightKind::dynapse1, 2);
    REQUIRE(dynapse1_base_cost(k2, w, ladder) == Approx(0.5 * 1 + 0.5 * 2.0 / 12));
    REQUIRE(dynapse1_base_cost(k2, w, fitted) == Approx(0.5 * 2.0 / 12));  // fits in 2 entries
    // K = 1 with the fitted bases: the smaller pair's entry goes, -5 -> 0 (error 5);
    // median of {0, 5, 0.4} = 0.4, entries 1 / 12.
    REQUIRE(dynapse1_base_cost(make_spec(WeightKind::dynapse1, 1), w, fitted) == Approx(0.5 * 0.4 + 0.5 * 1.0 / 12));
    // Connectivity 1/3 keeps one pair of the three: 7 (median error of {0, 5, 0.4} = 0.4).
    REQUIRE(dynapse1_base_cost(make_spec(WeightKind::dynapse1, 0, 4, 1.0 / 3), w, fitted) ==
            Approx(0.5 * 0.4 + 0.5 * 1.0 / 12));
    // A row needing no small entry is left out of the mean over rows.
    Matrix two(2, 3);
    two << 7, -5, 0.4, 0.1, 0, -0.2;
    // errors {0, 0, 0.4, 0.1, 0, 0.2}: median (0.1 + 0) / 2 = 0.05; row 1's entries 2 / 12.
    REQUIRE(dynapse1_base_cost(unlimited, two, fitted) == Approx(0.5 * 0.05 + 0.5 * 2.0 / 12));
    GroupQuant bad = fitted;
    bad.base[2] = 2;  // the cost needs one small base for both signs
    REQUIRE_THROWS_AS(dynapse1_base_cost(unlimited, w, bad), std::invalid_argument);
}

TEST_CASE("optimised dynapse1 bases: the minimum by hand, and Nelder-Mead against a grid scan",
          "[constraints][bases]") {
    // The cost of ratios L / s = 1 + e^x on a dense grid of x; best = the lowest cost found.
    struct Scan {
        double cost = 1e300, exc = 0, inh = 0;
    };
    auto scan = [](const ConstraintSpec& spec, const Matrix& w, double s, double step, bool both_signs) {
        GroupQuant l = dynapse1_quant(s);
        Scan best;
        for (double xe = std::log(0.1); xe <= std::log(19.0); xe += step) {
            for (double xi = std::log(0.1); xi <= (both_signs ? std::log(19.0) : std::log(0.1)); xi += step) {
                l.base[1] = s * (1 + std::exp(xe));
                l.base[3] = s * (1 + std::exp(xi));
                const double c = dynapse1_base_cost(spec, w, l);
                if (c < best.cost) best = {c, l.base[1] / s, l.base[3] / s};
            }
        }
        return best;
    };
    SECTION("excitatory weights only: the large base where a 1-D scan puts it") {
        // The inh base does not matter here, the exc one has one clear minimum.
        for (int seed : {1, 2, 3}) {
            for (int k : {0, 24}) {
                std::mt19937_64 rng(seed);
                const Matrix w = random_matrix(32, 120, 1.0 / std::sqrt(120.0), rng).cwiseAbs();
                const ConstraintSpec spec = make_spec(WeightKind::dynapse1, k);
                const double s = choose_quant(spec, w).base[0];
                BaseChoiceInfo info;
                const GroupQuant q = optimise_dynapse1_bases(spec, w, s, &info);
                const Scan best = scan(spec, w, s, 0.002, false);
                INFO("seed " << seed << " K " << k << ": Nelder-Mead ratio " << q.base[1] / s << " cost "
                             << info.optimised_cost << "; scan " << best.exc << " cost " << best.cost
                             << "; ladder cost " << info.ladder_cost);
                REQUIRE(info.optimised_cost == Approx(dynapse1_base_cost(spec, w, q)));
                REQUIRE(info.ladder_cost == Approx(dynapse1_base_cost(spec, w, dynapse1_quant(s))));
                REQUIRE(info.optimised_cost < info.ladder_cost);
                // Rounding makes the cost rugged (steps of ~0.3 % without a fan-in limit, where
                // the bowl is shallow); under the limit the minimum is sharp.
                REQUIRE(info.optimised_cost <= best.cost * 1.005);
                if (k > 0) REQUIRE(q.base[1] / s == Approx(best.exc).epsilon(0.02));
            }
        }
    }
    SECTION("both signs, coupled through the fan-in limit: no grid point beats Nelder-Mead") {
        // The cost is flat along some directions here, so minima of nearly equal cost lie
        // apart; the test compares the cost reached, not the location.
        for (int seed : {1, 2, 3}) {
            std::mt19937_64 rng(seed);
            const Matrix w = random_matrix(16, 60, 1.0 / std::sqrt(60.0), rng);
            const ConstraintSpec spec = make_spec(WeightKind::dynapse1, 12);
            const double s = choose_quant(spec, w).base[0];
            BaseChoiceInfo info;
            const GroupQuant q = optimise_dynapse1_bases(spec, w, s, &info);
            const Scan best = scan(spec, w, s, 0.05, true);
            INFO("seed " << seed << ": Nelder-Mead " << q.base[1] / s << ", " << q.base[3] / s << " cost "
                         << info.optimised_cost << "; grid " << best.exc << ", " << best.inh << " cost " << best.cost
                         << "; ladder " << info.ladder_cost);
            REQUIRE(info.optimised_cost < info.ladder_cost);
            REQUIRE(info.optimised_cost <= best.cost * 1.001);
            REQUIRE(q.base[0] == s);
            REQUIRE(q.base[2] == s);
        }
    }
    SECTION("only dynapse1, through choose_quant and ConstrainedGroup::make") {
        std::mt19937_64 rng(2);
        const Matrix w = random_matrix(6, 20, 0.3, rng);
        const GroupQuant ladder = choose_quant(make_spec(WeightKind::dynapse1, 8), w);
        const GroupQuant q = choose_quant(make_spec(WeightKind::dynapse1, 8), w, BaseChoice::optimised);
        REQUIRE(q.base[0] == ladder.base[0]);  // the small base is the ladder's
        GroupOptions opt;
        opt.bases = BaseChoice::optimised;
        auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 8), w, 1, opt);
        REQUIRE(g->quant().base == q.base);
        REQUIRE(g->base_choice().has_value());
        REQUIRE_FALSE(ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 8), w, 1)->base_choice());
        for (WeightKind kind : {WeightKind::none, WeightKind::uniform}) {
            REQUIRE_THROWS_WITH(ConstrainedGroup::make("qr", make_spec(kind, 8), w, 1, opt),
                                Catch::Contains("only for dynapse1 and dynapse2"));
            REQUIRE_THROWS_WITH(choose_quant(make_spec(kind, 8), w, BaseChoice::optimised),
                                Catch::Contains("only for dynapse1 and dynapse2"));
        }
        REQUIRE(base_choice_from_string("optimised") == BaseChoice::optimised);
        REQUIRE(to_string(BaseChoice::ladder) == "ladder");
        REQUIRE_THROWS_WITH(base_choice_from_string("learned"), Catch::Contains("ladder, optimised"));
    }
}

TEST_CASE("QR with non-ladder dynapse1 bases: the projection's split and the fan-in limit by hand",
          "[constraints][qr][bases]") {
    GroupOptions opt;
    GroupQuant q;
    q.kind = WeightKind::dynapse1;
    q.base = {0.5, 0.5 * 3.3, 0.5, 0.5 * 5.7};  // ratios 3.3 (exc), 5.7 (inh)
    opt.quant = q;
    Matrix w(1, 3);
    w << 0.5 * (2 * 3.3 + 2), -0.5 * 5.7, 0.5 * 0.4;  // 2 large + 2 small; 1 large; 0.4 small
    auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 0), w, 1, opt);
    REQUIRE(g->hidden()(0, 0) == Approx(2.0).margin(0));  // exc small, exactly 2: no phantom fraction
    REQUIRE(g->hidden()(0, 1) == 2.0);                     // exc large
    REQUIRE(g->hidden()(0, 7) == 1.0);                     // inh large
    REQUIRE(g->hidden()(0, 6) == 0.0);
    REQUIRE(g->worst_case_fanin() == 4 + 1 + 1);
    Matrix out;
    g->weights(out, nullptr);
    REQUIRE(out(0, 0) == Approx(w(0, 0)));
    REQUIRE(out(0, 1) == Approx(w(0, 1)));
    REQUIRE(out(0, 2) == 0.0);
    // Its own weights come back unchanged.
    const Matrix hidden = g->hidden();
    g->set_weights(out);
    Matrix again;
    g->weights(again, nullptr);
    REQUIRE(again.isApprox(out, 1e-12));
    // K = 3: the 0.4 fraction goes, then the two small tokens of 2 x 3.3 + 2 (the inh pair's
    // token of 5.7 is larger than them).
    g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 3), w, 1, opt);
    g->weights(out, nullptr);
    REQUIRE(out(0, 0) == Approx(0.5 * 2 * 3.3));
    REQUIRE(out(0, 1) == Approx(w(0, 1)));
    REQUIRE(out(0, 2) == 0.0);
    REQUIRE(g->worst_case_fanin() == 3);
    REQUIRE(g->check(out).violations == 0);
    // Levels the projection cannot use are refused.
    q.base[1] = 0.4;  // large below small
    opt.quant = q;
    REQUIRE_THROWS_WITH(ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse1, 0), w, 1, opt),
                        Catch::Contains("L, L' > s"));
}

GroupQuant dynapse2_quant(std::array<double, 4> bases) {
    GroupQuant q;
    q.kind = WeightKind::dynapse2;
    q.base = bases;
    return q;
}

TEST_CASE("dynapse2 base cost by hand", "[constraints][bases]") {
    // s = 1. Row [20, -3, 0.3]. The ladder {1, 2, 4, 8} (one entry up to 15): 20 = 15 + 5 takes
    // 2 entries, -3 one, 0.3 rounds to no entry (error 0.3).
    Matrix w(1, 3);
    w << 20, -3, 0.3;
    const GroupQuant ladder = dynapse2_quant({1, 2, 4, 8});
    const GroupQuant programmed = dynapse2_quant({1, 3, 5, 11});  // one entry up to 20
    const ConstraintSpec unlimited = make_spec(WeightKind::dynapse2, 0);
    REQUIRE(dynapse2_base_cost(unlimited, w, ladder) == Approx(0.09 / 3));
    REQUIRE(dynapse2_base_cost(unlimited, w, programmed) == Approx(0.09 / 3));
    // K = 2: the ladder needs 3 entries; the smallest token, -3's, goes (error 3).
    const ConstraintSpec k2 = make_spec(WeightKind::dynapse2, 2);
    REQUIRE(dynapse2_base_cost(k2, w, ladder) == Approx((9 + 0.09) / 3));
    REQUIRE(dynapse2_base_cost(k2, w, programmed) == Approx(0.09 / 3));  // 20 in one entry
    REQUIRE(dynapse2_base_cost(make_spec(WeightKind::dynapse2, 1), w, programmed) == Approx((9 + 0.09) / 3));
    // Connectivity 1/3 keeps the largest pair only.
    REQUIRE(dynapse2_base_cost(make_spec(WeightKind::dynapse2, 0, 4, 1.0 / 3), w, programmed) ==
            Approx((9 + 0.09) / 3));
    // Between the programmed masks' sums (0 1 3 4 5 6 8 9 ...): 2.4 -> 3 (error 0.6), 6.9 -> 6
    // (0.9), 7 -> 8 (a tie goes up, 1), 27 = 20 + 6 + 1 -> 20 + 8 (two entries; 1).
    Matrix between(1, 4);
    between << 2.4, -6.9, 7, 27;
    REQUIRE(dynapse2_base_cost(unlimited, between, programmed) == Approx((0.36 + 0.81 + 1 + 1) / 4));
    // The ladder's units: all exact but 2.4 and 6.9.
    REQUIRE(dynapse2_base_cost(unlimited, between, ladder) == Approx((0.16 + 0.01) / 4));
    REQUIRE_THROWS_AS(dynapse2_base_cost(unlimited, w, dynapse2_quant({2, 1, 4, 8})), std::invalid_argument);
    REQUIRE_THROWS_AS(dynapse2_base_cost(unlimited, w, dynapse1_quant(1)), std::invalid_argument);
}

TEST_CASE("QR with programmed dynapse2 bases: entries, rounding and the fan-in limit by hand",
          "[constraints][qr][bases]") {
    // Bases 0.5 x {1, 3, 5, 11}: in units of 0.5 one entry carries 0 1 3 4 5 6 8 9 11 12 14 15
    // 16 17 19 20. Pairs: 23 units (a full entry of 20 + 3: 2 entries), -4 (1 + 3), 2.4 (one
    // entry, nearest 3).
    GroupOptions opt;
    opt.quant = dynapse2_quant({0.5, 1.5, 2.5, 5.5});
    Matrix w(1, 3);
    w << 0.5 * 23, -0.5 * 4, 0.5 * 2.4;
    auto g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse2, 0), w, 1, opt);
    REQUIRE(g->worst_case_fanin() == 2 + 1 + 1);
    Matrix out;
    g->weights(out, nullptr);
    REQUIRE(out(0, 0) == Approx(0.5 * 23));
    REQUIRE(out(0, 1) == Approx(-0.5 * 4));
    REQUIRE(out(0, 2) == Approx(0.5 * 3));
    REQUIRE(g->check(out).violations == 0);
    // Stochastic rounding is unbiased between a pair's neighbouring sums: 2.4 is 3 with
    // probability 0.7 and 1 otherwise; 21.5 = 20 + (1 or 3, p(3) = 0.25).
    Matrix w2(1, 2);
    w2 << 0.5 * 2.4, 0.5 * 21.5;
    g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse2, 0), w2, 1, opt);
    std::mt19937_64 rng(5);
    const int draws = 20000;
    double sum0 = 0, sum1 = 0;
    long long violations = 0;
    for (int i = 0; i < draws; ++i) {
        g->weights(out, &rng);
        REQUIRE(((out(0, 0) == 0.5 || out(0, 0) == 1.5) && (out(0, 1) == 10.5 || out(0, 1) == 11.5)));
        sum0 += out(0, 0);
        sum1 += out(0, 1);
        violations += g->check(out).violations;
    }
    // Both pairs' outcomes lie 1.0 apart in weight, so the mean's std is sqrt(p (1 - p) / draws).
    REQUIRE(sum0 / draws == Approx(0.5 * 2.4).margin(4 * std::sqrt(0.7 * 0.3 / draws)));
    REQUIRE(sum1 / draws == Approx(0.5 * 21.5).margin(4 * std::sqrt(0.25 * 0.75 / draws)));
    REQUIRE(violations == 0);
    // K = 2: the two smallest tokens go, 2.4 and 23's part of 3 (not -4's token of 4).
    g = ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse2, 2), w, 1, opt);
    g->weights(out, nullptr);
    REQUIRE(out(0, 0) == Approx(0.5 * 20));
    REQUIRE(out(0, 1) == Approx(-0.5 * 4));
    REQUIRE(out(0, 2) == 0.0);
    REQUIRE(g->worst_case_fanin() == 2);
    // A smallest base that is not base[0] is refused: base[0] is the projection's unit.
    opt.quant = dynapse2_quant({1.5, 0.5, 2.5, 5.5});
    REQUIRE_THROWS_WITH(ConstrainedGroup::make("qr", make_spec(WeightKind::dynapse2, 0), w, 1, opt),
                        Catch::Contains("every b >= s"));
}

TEST_CASE("optimised dynapse2 bases: below the ladder's cost, and no random base set does better",
          "[constraints][bases]") {
    for (int seed : {1, 2, 3}) {
        std::mt19937_64 rng(seed);
        const Matrix w = random_matrix(32, 120, 1.0 / std::sqrt(120.0), rng);
        const ConstraintSpec spec = make_spec(WeightKind::dynapse2, 16);
        const GroupQuant ladder = choose_quant(spec, w);
        BaseChoiceInfo info;
        const GroupQuant q = optimise_dynapse2_bases(spec, w, ladder, &info);
        REQUIRE(info.ladder_cost == Approx(dynapse2_base_cost(spec, w, ladder)));
        REQUIRE(info.optimised_cost == Approx(dynapse2_base_cost(spec, w, q)));
        REQUIRE(info.optimised_cost < info.ladder_cost);
        REQUIRE(std::is_sorted(q.base.begin(), q.base.end()));
        // 3,000 random base sets around the optimum, each base within x/ 2 of it.
        std::uniform_real_distribution<double> jitter(-std::log(2.0), std::log(2.0));
        double best_random = 1e300;
        for (int i = 0; i < 3000; ++i) {
            GroupQuant r = q;
            for (double& b : r.base) b *= std::exp(jitter(rng));
            std::sort(r.base.begin(), r.base.end());
            best_random = std::min(best_random, dynapse2_base_cost(spec, w, r));
        }
        INFO("seed " << seed << ": bases / s " << q.base[0] / ladder.base[0] << " " << q.base[1] / ladder.base[0]
                     << " " << q.base[2] / ladder.base[0] << " " << q.base[3] / ladder.base[0] << ", cost "
                     << info.optimised_cost << " (ladder " << info.ladder_cost << "), best random " << best_random);
        REQUIRE(info.optimised_cost <= best_random * 1.001);
        // Through ConstrainedGroup::make: QR trains on those bases within K.
        GroupOptions opt;
        opt.bases = BaseChoice::optimised;
        auto g = ConstrainedGroup::make("qr", spec, w, 1, opt);
        REQUIRE(g->quant().base == q.base);
        REQUIRE(g->base_choice().has_value());
        Matrix dh, out;
        for (int step = 0; step < 20; ++step) {
            g->hidden_gradient(random_matrix(32, 120, 0.05, rng), dh);
            g->hidden() -= dh;
            g->after_step(0.1, rng);
            g->weights(out, &rng);
            REQUIRE(g->check(out).violations == 0);
            REQUIRE(g->worst_case_fanin() <= 16);
        }
    }
}

// Hidden (run with "[.timing]"): a 128 x 352 group projected after dense random steps.
TEST_CASE("QR projection timing, 128 x 352", "[.timing]") {
    std::mt19937_64 rng(9);
    for (WeightKind kind : {WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2}) {
        auto g = ConstrainedGroup::make("qr", make_spec(kind, 64, 4, 0.2), random_matrix(128, 352, 0.05, rng), 1);
        Matrix dh;
        const Matrix dw = random_matrix(128, 352, 0.05, rng);
        double seconds = 0;
        for (int i = 0; i < 100; ++i) {
            g->hidden_gradient(dw, dh);
            g->hidden() -= 0.1 * dh;
            const auto t0 = std::chrono::steady_clock::now();
            g->after_step(0.01, rng);
            seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        WARN(to_string(kind) << ": " << seconds / 100 * 1e3 << " ms per projection");
    }
}
