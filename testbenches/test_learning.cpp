// Testbenches of on-chip learning, each TEST_CASE its own ctest process (one
// SystemC elaboration each):
//  (1) firmware in the tile vs the float e-prop reference (learning_rules/gradients.hpp) on
//      the same network and the same input spikes: per-step traces (max / mean relative
//      error) and per-sample update directions (cosine), for every rule with a float
//      counterpart and every variant, through ONE harness (GeNN style);
//  (2) the constraints hold after every on-chip update over whole runs, and the tile never
//      refused a firmware write;
//  (4) bit-exact: the firmware image on the tile's rv32 core (the ISS) and the same sources
//      compiled for the host leave identical fan-in entries, traces, hidden parameters,
//      accumulators, moments and biases, with identical memory traffic, for every rule,
//      update mode and trace placement.
#include "testbenches/learning_harness.hpp"
#include "firmware/quantized_rewiring.hpp"
#include "hw_models/rule_catalog.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace qrsim;
using namespace qrsim::harness;

namespace {

struct ErrorStats {
    double max = 0, sum = 0;
    long n = 0;
    void add(double fw, double fl, double floor) {
        if (std::abs(fl) < floor && std::abs(fw) < floor) return;
        const double r = std::abs(fw - fl) / std::max(std::abs(fl), floor);
        max = std::max(max, r);
        sum += r;
        ++n;
    }
    double mean() const { return n ? sum / n : 0; }
};

struct Agreement {
    ErrorStats eps, ebar;
    // Per group (hidden entries, readout entries, readout biases): whether the rule changed
    // it at all over the window, and its change against the float trainer's.
    bool learned[group_count] = {false, false, false};
    GroupFigures update[group_count];
    double spike_agreement = 0;
};

// The one harness, for any rule and update mode: the rule runs in the tile on `samples`
// training samples at its own settings (with the overrides), the float e-prop on the same
// network and the same spikes. Traces are compared per step. Updates are compared as the
// weight change the rule actually applied over the window (every entry's hidden parameter
// and every bias, read back from the tile) against the float trainer's change for the same
// samples: the float optimiser of the update the rule ran, stepped once on the window's
// mean gradient (accumulating modes apply once, at the window's end), or for the
// stochastic mode the expected SGD steps at the tile's weights of each sample. A group the
// rule never changed is reported as not learned, whatever the rule's name.
Agreement compare_with_float(const std::string& name, std::vector<std::string> overrides, int samples, int n_alif = 0) {
    overrides.push_back("neuron.membrane_bits=24");
    overrides.push_back("neuron.membrane_frac_bits=16");
    overrides.push_back("synapse.lut_bits=24");
    overrides.push_back("neuron.rounding=nearest");
    overrides.push_back("learn.trace_rounding=nearest");
    overrides.push_back("learn.rewire_shift=16");
    const bool accumulating = choose_rule(load_hw_config("dynapse2", overrides)).update != fw::update_stochastic;
    if (accumulating) overrides.push_back("learn.batch=" + std::to_string(samples));  // one apply: the window's
    GradientOptions go;
    go.online_traces = true;
    Probe pr(overrides, samples, "agree", go, n_alif);
    Setup& su = pr.su;
    Chip& chip = pr.chip;
    LearningEngine& eng = pr.eng;
    const fw::LearnParams& lp = eng.params();
    const LearnConfig& L = su.hw.learn;
    const int A = lp.n_addresses(), N = lp.n_rec, K = lp.K;
    const double eps_unit = std::ldexp(1.0, -lp.eps_frac);
    const double bar_unit = std::ldexp(1.0, -lp.bar_frac) * su.p.gamma / su.p.v_th;  // fw psi has no gamma / v_th
    const double one_minus_kappa = 1.0 - su.p.kappa();

    Agreement out;
    long spikes_same = 0, spikes_total = 0;
    std::vector<double> before, after, now;
    std::vector<int32_t> addr_before, addr_after, addr_now;
    pr.parameters(before, addr_before);
    const int n = static_cast<int>(before.size());
    std::vector<double> float_change(n, 0.0);
    GradientSum window;
    window.resize_zero(su.p);
    SpikeSample sample;
    for (int i = 0; i < samples; ++i) {
        su.task->encode(Split::train, i, sample);
        const int T = sample.n_steps();
        const RsnnWeights w = tile_weights(chip.tile(0), su.net, su.hw);
        pr.parameters(now, addr_now);
        // Firmware traces per step, as real numbers in the float's units.
        std::vector<std::vector<double>> fw_eps(T), fw_ebar(T);
        eng.set_step_observer([&](int t) {
            const auto& pre = eng.memory(fw::lmem_pre);
            fw_eps[t].resize(A);
            for (int a = 0; a < A; ++a) fw_eps[t][a] = eps_unit * pre[a];
            fw_ebar[t].assign(static_cast<size_t>(N) * K, 0.0);
            if (lp.placement == fw::place_synapse) {
                const auto& syn = eng.memory(fw::lmem_syn);
                for (int e = 0; e < N * K; ++e) fw_ebar[t][e] = bar_unit * syn[e];
            } else {  // the factorised trace the update uses: (1 - kappa) psibar epsbar
                const auto& post = eng.memory(fw::lmem_post);
                for (int j = 0; j < N; ++j)
                    for (int e = 0; e < K; ++e)
                        fw_ebar[t][j * K + e] = one_minus_kappa * bar_unit * std::ldexp(1.0, -lp.bar_frac) * post[j] *
                                                pre[A + addr_now[j * K + e]];
            }
        });
        chip.record_spikes(true);
        chip.run_sample(sample, su.task->info().readout_begin);
        const auto tile_spikes = chip.take_spikes();
        eng.set_step_observer({});
        // A trace the rule keeps is compared; one it never sets (a readout-only rule's
        // eligibility traces) is not its trace.
        auto kept = [](const std::vector<std::vector<double>>& steps) {
            for (const auto& v : steps)
                for (double x : v)
                    if (x != 0) return true;
            return false;
        };
        const bool keeps_eps = kept(fw_eps), keeps_ebar = kept(fw_ebar);

        PreparedWeights pw;
        pw.prepare(w);
        const Matrix feedback = lp.feedback == fw::feedback_random ? firmware_feedback_matrix(lp) : Matrix(pw.w_out_t);
        GradientSum g;
        g.resize_zero(su.p);
        std::vector<SpikeEvent> float_spikes;
        pr.eprop.set_step_observer([&](int t, const Eprop& ep) {
            for (int j : ep.stepper().active()) float_spikes.push_back(SpikeEvent{t, j});
            if (keeps_eps)
                for (int a = 0; a < A; ++a) out.eps.add(fw_eps[t][a], ep.pre_trace()[a], 0.05);
            if (keeps_ebar)
                for (int j = 0; j < N; ++j)
                    for (int e = 0; e < K; ++e) out.ebar.add(fw_ebar[t][j * K + e], ep.ebar()(j, addr_now[j * K + e]), 0.01);
        });
        pr.eprop.accumulate(pw, feedback, sample, su.task->info(), g);
        window += g;
        if (!accumulating)
            for (int k = 0; k < n; ++k) {
                const double step = -float_rate(L, lp.update, pr.group_of(k)) / L.batch * pr.gradient_of(g, k, addr_now);
                float_change[k] += pr.projected(k, now[k], step) - now[k];
            }
        std::vector<SpikeEvent> both;
        std::set_intersection(tile_spikes.begin(), tile_spikes.end(), float_spikes.begin(), float_spikes.end(),
                              std::back_inserter(both));
        spikes_same += static_cast<long>(both.size());
        spikes_total += static_cast<long>(std::max(tile_spikes.size(), float_spikes.size()));
    }
    pr.parameters(after, addr_after);
    if (accumulating) {  // the float optimiser's first step from the window's mean gradient
        for (int gr = 0; gr < group_count; ++gr) {
            std::vector<int> index;
            for (int k = 0; k < n; ++k)
                if (pr.group_of(k) == gr) index.push_back(k);
            std::vector<double> theta(index.size(), 0.0), grad(index.size());
            for (size_t k = 0; k < index.size(); ++k) grad[k] = pr.gradient_of(window, index[k], addr_before) / samples;
            float_optimizer(lp.update, L.momentum)->step({ParamRef{theta.data(), grad.data(), theta.size()}},
                                             float_rate(L, lp.update, Group(gr)));
            for (size_t k = 0; k < index.size(); ++k)
                float_change[index[k]] = pr.projected(index[k], before[index[k]], theta[k]) - before[index[k]];
        }
    }
    Changes c;
    for (int k = 0; k < n; ++k) {
        if (k < pr.n_entries() && addr_after[k] != addr_before[k]) continue;  // rewired: a reset, not an update
        const double applied = after[k] - before[k];
        if (applied != 0) out.learned[pr.group_of(k)] = true;
        c.add(pr.group_of(k), applied, float_change[k]);
    }
    std::string what = std::string("window of ") + std::to_string(samples) + ", " + update_name(lp.update);
    report(name, what.c_str(), c, out.update);
    out.spike_agreement = spikes_total ? double(spikes_same) / spikes_total : 1.0;
    CHECK(eng.refused() == 0);
    std::printf("agreement %-34s spikes %5.1f %% | eps rel err mean %.4f max %.3f | ebar rel err mean %.4f max %.3f | learned:%s%s%s\n",
                name.c_str(), 100 * out.spike_agreement, out.eps.mean(), out.eps.max, out.ebar.mean(), out.ebar.max,
                out.learned[hidden_group] ? " hidden" : "", out.learned[readout_group] ? " readout" : "",
                out.learned[bias_group] ? " bias" : "");
    return out;
}

}  // namespace

// What an agreement case asserts: each group the rule is meant to learn did change, and its
// change points the float trainer's way (cosine) at about its size (ratio of magnitudes).
void check_learned(const Agreement& a, unsigned groups, double min_cosine, double min_ratio, double max_ratio) {
    for (int g = 0; g < group_count; ++g) {
        INFO(kGroupName[g] << ": learned " << a.learned[g] << ", cosine " << a.update[g].cosine << ", ratio "
                           << a.update[g].ratio);
        CHECK(a.learned[g] == ((groups >> g) & 1u));
        if (!((groups >> g) & 1u)) continue;
        CHECK(a.update[g].cosine >= min_cosine);
        CHECK(a.update[g].ratio >= min_ratio);
        CHECK(a.update[g].ratio <= max_ratio);
    }
}
constexpr unsigned kEveryGroup = 7, kReadoutAndBias = 6;

TEST_CASE("agreement e-prop per-synapse 16-bit traces linear psi vs float", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop synapse 16b linear psi8",
                                           {"traces.placement=synapse", "traces.bits=[16, 16]",
                                            "learn.pseudo_derivative=linear", "learn.psi_bits=8"},
                                           6);
    CHECK(a.spike_agreement > 0.95);
    CHECK(a.eps.mean() < 0.01);
    CHECK(a.ebar.mean() < 0.05);
    check_learned(a, kEveryGroup, 0.9, 0.8, 1.25);
}

TEST_CASE("agreement e-prop per-synapse 16-bit traces pwc5 psi vs float", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop synapse 16b pwc5 psi5",
                                           {"traces.placement=synapse", "traces.bits=[16, 16]"}, 6);
    check_learned(a, kEveryGroup, 0.9, 0.8, 1.25);
}

TEST_CASE("agreement e-prop ALIF per-synapse 16-bit traces vs float", "[learning][agreement]") {
    // 64 LIF + 64 ALIF: the ALIF rows' eligibility carries the adaptation term psi (eps - beta eps^a).
    const Agreement a = compare_with_float("eprop ALIF synapse 16b linear psi8",
                                           {"traces.placement=synapse", "traces.bits=[16, 16]",
                                            "learn.pseudo_derivative=linear", "learn.psi_bits=8"},
                                           6, 64);
    CHECK(a.spike_agreement > 0.95);
    CHECK(a.ebar.mean() < 0.05);
    check_learned(a, kEveryGroup, 0.9, 0.8, 1.25);
}

TEST_CASE("agreement e-prop presynaptic 12-bit traces vs float", "[learning][agreement]") {
    // The factorised trace is an approximation: its direction is reported, and must still
    // point the same way as the float gradient.
    const Agreement a = compare_with_float("eprop presynaptic 12b pwc5", {"traces.placement=presynaptic"}, 6);
    check_learned(a, kEveryGroup, 0.5, 0.5, 2.0);
}

TEST_CASE("agreement e-prop symmetric feedback vs float", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop synapse 16b symmetric",
                                           {"traces.placement=synapse", "traces.bits=[16, 16]",
                                            "learn.feedback=symmetric", "learn.pseudo_derivative=linear", "learn.psi_bits=8"},
                                           6);
    check_learned(a, kEveryGroup, 0.9, 0.8, 1.25);
}

// Every update mode, in the same harness (per-synapse 16-bit traces).
TEST_CASE("agreement e-prop sign vs float signum", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop synapse 16b sign", {"traces.placement=synapse", "traces.bits=[16, 16]",
                                                                      "learn.update=sign"}, 6);
    check_learned(a, kEveryGroup, 0.9, 0.8, 1.25);
}
TEST_CASE("agreement e-prop accumulate vs float SGD", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop synapse 16b accumulate",
                                           {"traces.placement=synapse", "traces.bits=[16, 16]", "learn.update=accumulate"}, 6);
    check_learned(a, kEveryGroup, 0.9, 0.8, 1.25);
}
TEST_CASE("agreement e-prop stochastic vs float SGD", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop synapse 16b stochastic",
                                           {"traces.placement=synapse", "traces.bits=[16, 16]", "learn.update=stochastic",
                                            "learn.learning_rate=2", "learn.readout_learning_rate=2", "learn.bias_learning_rate=0.02"},
                                           6);
    check_learned(a, kEveryGroup, 0.5, 0.5, 2.0);
}

TEST_CASE("agreement readout delta rule vs float readout gradient", "[learning][agreement]") {
    const Agreement a = compare_with_float("readout-delta 16b", {"learn.rule=readout-delta", "traces.bits=[16, 16]"}, 6);
    check_learned(a, kReadoutAndBias, 0.9, 0.8, 1.25);
}

TEST_CASE("agreement e-prop without its hidden setting vs float readout gradient", "[learning][agreement]") {
    const Agreement a = compare_with_float("eprop hidden=false 16b", {"learn.eprop.hidden=false", "traces.bits=[16, 16]"}, 6);
    check_learned(a, kReadoutAndBias, 0.9, 0.8, 1.25);
}

#ifdef QRSIM_EXAMPLE_RULE_ELF
// A rule built out of tree (examples/rules/sign_readout), in the same harness: its own sign
// step is not the float signum's learn.step, so only its direction is held to the float.
TEST_CASE("agreement out-of-tree sign-readout vs float readout gradient", "[learning][agreement]") {
    const Agreement a = compare_with_float("sign-readout (image) 16b",
                                           {"learn.firmware=" QRSIM_EXAMPLE_RULE_ELF, "traces.bits=[16, 16]"}, 6);
    check_learned(a, kReadoutAndBias, 0.9, 0.0, 1e9);
}
#endif

// (2) Constraints after every on-chip update: K, codes, addresses, no self-connections, the
// CAM equal to the projection of the hidden parameters, and no refused write.
static void check_constraints_over_run(const std::vector<std::string>& overrides, int samples) {
    Setup su(overrides, samples, 1);
    Chip chip(su.hw, su.net, "constraints");
    LearningEngine& eng = chip.enable_learning(make_learn_params(su.hw, su.net, su.p, su.task->info()));
    const fw::LearnParams& lp = eng.params();
    const fw::QrLimits lim = fw::qr_limits(lp);
    FaninTable& f = chip.tile(0).fanin_table();
    long violations = 0, checks = 0, changed_entries = 0;
    int max_used = 0;
    std::vector<uint32_t> before(static_cast<size_t>(lp.n_slots()) * lp.K);
    SpikeSample sample;
    for (int i = 0; i < samples; ++i) {
        for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
            for (int e = 0; e < lp.K; ++e) before[s * lp.K + e] = f.raw(s, e);
        su.task->encode(Split::train, i, sample);
        chip.run_sample(sample, su.task->info().readout_begin);
        std::vector<int32_t> h, addr;
        eng.hidden_parameters(h, addr);
        for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s) {
            max_used = std::max(max_used, f.used(s));
            for (int e = 0; e < lp.K; ++e) {
                ++checks;
                changed_entries += f.raw(s, e) != before[s * lp.K + e];
                const int idx = s * lp.K + e;
                // The CAM holds the nearest code of h, or with stochastic weights a rounding
                // of h either way.
                const int32_t code = fw::qr_code(h[idx], lim);
                const int32_t mag = std::abs(h[idx]);
                const int32_t lo = std::min(lim.cmax, mag >> lim.hf), hi = std::min(lim.cmax, (mag + (1 << lim.hf) - 1) >> lim.hf);
                const int32_t cam_code = f.valid(s, e) ? f.code(s, e) : 0;
                const int32_t cam_mag = std::abs(cam_code);
                const bool allowed = lp.redraws_codes() ? (cam_mag == lo || cam_mag == hi) &&
                                                              (cam_code == 0 || (cam_code < 0) == (h[idx] < 0))
                                                        : cam_code == code;
                violations += !allowed;
                if (!f.valid(s, e)) continue;
                // Codes and tag widths the table's own write refuses; what it cannot know is
                // the network: its address range and which addresses a neuron may read.
                const int32_t a = f.address(s, e);
                violations += a != addr[idx];
                violations += a >= static_cast<int32_t>(lp.n_addresses());
                violations += s < lp.n_rec ? a == lp.n_in + s : a < lp.n_in;  // no self / readout from recurrent
            }
        }
    }
    // Before inference the firmware commits the nearest codes.
    chip.set_learning(false);
    long not_nearest = 0;
    std::vector<int32_t> h_end, addr_end;
    eng.hidden_parameters(h_end, addr_end);
    for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
        for (int e = 0; e < lp.K; ++e)
            not_nearest += (f.valid(s, e) ? f.code(s, e) : 0) != fw::qr_code(h_end[s * lp.K + e], lim);
    CHECK(not_nearest == 0);
    std::printf("constraints over %d samples (%s): %ld entry checks, %ld entries rewritten, max fan-in %d of K=%d, "
                "%ld violations, %llu refused writes, %u updates\n",
                samples, su.hw.learn.update.c_str(), checks, changed_entries, max_used, su.hw.fanin, violations,
                static_cast<unsigned long long>(eng.refused()), eng.updates());
    CHECK(violations == 0);
    CHECK(eng.refused() == 0);
    CHECK(changed_entries > 0);  // the run did rewire and requantise
}

TEST_CASE("constraints hold after every on-chip update: stochastic per-step updates", "[learning][constraints]") {
    check_constraints_over_run({"learn.update=stochastic", "learn.learning_rate=2", "learn.readout_learning_rate=2",
                                "learn.rewire_shift=1"},
                               150);
}

TEST_CASE("constraints hold after every on-chip update: sign steps with stochastic weights", "[learning][constraints]") {
    check_constraints_over_run({"learn.batch=2", "learn.update=sign", "learn.step=0.05", "learn.rewire_shift=1"}, 150);
}

TEST_CASE("constraints hold after every on-chip update: accumulate, uniform 4-bit", "[learning][constraints]") {
    check_constraints_over_run({"learn.update=accumulate", "synapse.kind=uniform", "synapse.weight_bits=4", "learn.batch=4",
                                "learn.learning_rate=0.2", "learn.readout_learning_rate=0.2", "learn.rewire_shift=1",
                                "traces.placement=synapse", "traces.bits=[16, 16]"},
                               150);
}

// (4) Bit-exact: the firmware image on the tile's rv32 core (ISS) == the same firmware
// compiled for the host (native), two tiles side by side in one elaboration, sample by sample.
static void check_iss_vs_native(std::vector<std::string> overrides, int samples, int n_alif = 0) {
    overrides.push_back("learn.core=iss");
    Setup su(overrides, samples, 1, n_alif);
    HwConfig hw_native = su.hw;
    hw_native.learn.core = "native";
    Chip iss(su.hw, su.net, "iss"), native(hw_native, su.net, "native");
    const fw::LearnParams lp = make_learn_params(su.hw, su.net, su.p, su.task->info());
    LearningEngine& a = iss.enable_learning(lp);
    LearningEngine& b = native.enable_learning(lp);
    REQUIRE(a.on_iss());
    REQUIRE(!b.on_iss());
    FaninTable& fa = iss.tile(0).fanin_table();
    FaninTable& fb = native.tile(0).fanin_table();
    std::vector<uint32_t> initial;
    for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
        for (int e = 0; e < lp.K; ++e) initial.push_back(fa.raw(s, e));
    const fw::LearnMem learning[] = {fw::lmem_pre, fw::lmem_post, fw::lmem_syn, fw::lmem_hidden, fw::lmem_accum,
                                     fw::lmem_moments};
    SpikeSample sample;
    long differing = 0, entries_changed = 0;
    int pred_diff = 0;
    for (int i = 0; i < samples; ++i) {
        su.task->encode(Split::train, i, sample);
        pred_diff += iss.run_sample(sample, su.task->info().readout_begin).prediction !=
                     native.run_sample(sample, su.task->info().readout_begin).prediction;
        for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
            for (int e = 0; e < lp.K; ++e) differing += fa.raw(s, e) != fb.raw(s, e);
        for (fw::LearnMem m : learning) differing += a.memory(m) != b.memory(m);
        for (int k = 0; k < lp.n_out; ++k) differing += iss.tile(0).bias_of(lp.n_rec + k) != native.tile(0).bias_of(lp.n_rec + k);
    }
    iss.set_learning(false);
    native.set_learning(false);
    for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
        for (int e = 0; e < lp.K; ++e) {
            entries_changed += fa.raw(s, e) != initial[s * lp.K + e];
            differing += fa.raw(s, e) != fb.raw(s, e);
        }
    const ActionCounters ca = a.counters(), cb = b.counters();
    std::printf("ISS vs native over %d samples (rule %s, %s, %s): %ld entries changed by learning, %ld differences, "
                "%d predictions differ, %u vs %u updates, %llu instructions on the ISS\n",
                samples, su.hw.learn.rule.c_str(), su.hw.learn.update.c_str(),
                lp.placement == fw::place_synapse ? "synapse" : "presynaptic", entries_changed, differing, pred_diff,
                a.updates(), b.updates(), static_cast<unsigned long long>(ca[Action::core_instr]));
    CHECK(entries_changed > 0);
    CHECK(differing == 0);
    CHECK(pred_diff == 0);
    CHECK(a.updates() == b.updates());
    CHECK(a.updates() > 0);
    // The same memory traffic, bit for bit (the core's own instructions exist only on the ISS).
    CHECK(ca[Action::sram_read_bits] == cb[Action::sram_read_bits]);
    CHECK(ca[Action::sram_write_bits] == cb[Action::sram_write_bits]);
    CHECK(ca[Action::core_instr] > 0);
}

// Every shipped rule and update mode, presynaptic and per-synapse traces.
#define QRSIM_ISS_CASE(rule, update, placement, ...)                                                          \
    TEST_CASE("bit-exact ISS vs native: " rule " / " update " / " placement, "[learning][bitexact]") {      \
        check_iss_vs_native({"learn.rule=" rule, "learn.update=" update, __VA_ARGS__}, 24);                  \
    }
#define QRSIM_SYN "traces.placement=synapse", "traces.bits=[16, 16]"
#define QRSIM_FAST "learn.batch=4", "learn.step=0.05", "learn.learning_rate=0.5", "learn.readout_learning_rate=0.5", \
                   "learn.rewire_shift=1"
QRSIM_ISS_CASE("eprop", "adam", "presynaptic", QRSIM_FAST)
QRSIM_ISS_CASE("eprop", "adam", "synapse", QRSIM_FAST, QRSIM_SYN)
QRSIM_ISS_CASE("eprop", "sign", "presynaptic", QRSIM_FAST, "learn.weight_rounding=stochastic")
QRSIM_ISS_CASE("eprop", "sign", "synapse", QRSIM_FAST, QRSIM_SYN)
QRSIM_ISS_CASE("eprop", "sign", "presynaptic / 4-bit block-scaled accumulators", QRSIM_FAST, "learn.acc_bits=4")
QRSIM_ISS_CASE("eprop", "sign", "presynaptic / 4-bit block-scaled accumulators / momentum 0.5", QRSIM_FAST,
               "learn.acc_bits=4", "learn.momentum=0.5")
QRSIM_ISS_CASE("eprop", "accumulate", "presynaptic / momentum 0.9", QRSIM_FAST, "learn.momentum=0.9")
QRSIM_ISS_CASE("eprop", "accumulate", "presynaptic", QRSIM_FAST)
QRSIM_ISS_CASE("eprop", "accumulate", "synapse", QRSIM_FAST, QRSIM_SYN)
QRSIM_ISS_CASE("eprop", "stochastic", "presynaptic", "learn.learning_rate=2", "learn.readout_learning_rate=2")
QRSIM_ISS_CASE("eprop", "stochastic", "synapse", "learn.learning_rate=2", "learn.readout_learning_rate=2", QRSIM_SYN)
TEST_CASE("bit-exact ISS vs native: eprop / adam / synapse / 64 ALIF", "[learning][bitexact]") {
    check_iss_vs_native({"learn.rule=eprop", "learn.update=adam", QRSIM_FAST, QRSIM_SYN}, 24, 64);
}
QRSIM_ISS_CASE("readout-delta", "adam", "presynaptic", QRSIM_FAST)
QRSIM_ISS_CASE("readout-delta", "adam", "synapse", QRSIM_FAST, QRSIM_SYN)
QRSIM_ISS_CASE("readout-delta", "sign", "presynaptic", QRSIM_FAST)
QRSIM_ISS_CASE("readout-delta", "accumulate", "presynaptic", QRSIM_FAST)
QRSIM_ISS_CASE("readout-delta", "stochastic", "presynaptic", "learn.learning_rate=2", "learn.readout_learning_rate=2")

TEST_CASE("constraints hold after every on-chip update: adam (the default)", "[learning][constraints]") {
    check_constraints_over_run({"learn.batch=2", "learn.step=0.05", "learn.rewire_shift=1"}, 150);
}


// Firmware faults stop the run with one line naming the hook, the fault, the pc and the
// function (images built from hw_models/tests/rv32/faulty_firmware.cpp). One process each:
// SystemC elaborates once.
// The one-line error a fault image stops the run with ("" if it ran without one), and the
// learning parameters of the run (for the memory sizes the error names).
static std::string firmware_fault(int fault, fw::LearnParams* params = nullptr) {
    Setup su({"learn.firmware=" + std::string(QRSIM_FAULTY_FIRMWARE_DIR) + "/faulty_firmware_" + std::to_string(fault) +
                  ".elf",
              "learn.hook_budget=1000000"},
             2, 1);
    Chip chip(su.hw, su.net, "faulty");
    const LearningEngine& engine = chip.enable_learning(make_learn_params(su.hw, su.net, su.p, su.task->info()));
    if (params) *params = engine.params();
    SpikeSample sample;
    su.task->encode(Split::train, 0, sample);
    std::string what;
    try {
        chip.run_sample(sample, su.task->info().readout_begin);
    } catch (const std::exception& e) {
        what = e.what();
    }
    std::printf("fault %d: %s\n", fault, what.empty() ? "(none)" : what.c_str());
    return what;
}

static void check_firmware_fault(int fault, const std::string& expect) {
    const std::string what = firmware_fault(fault);
    CHECK_THAT(what, Catch::StartsWith("firmware core fault in hook trace_step: "));
    CHECK_THAT(what, Catch::Contains(expect));
    CHECK_THAT(what, Catch::Contains("at pc 0x"));
    CHECK_THAT(what, Catch::Contains("in qrsim_dispatch"));
    CHECK(what.find('\n') == std::string::npos);
}

TEST_CASE("firmware fault: a value too wide for its memory", "[learning][faults]") {
    check_firmware_fault(1, "value 2147483647 stored to pre_traces[0] does not fit its 12 bits");
}
TEST_CASE("firmware fault: a hook that never returns", "[learning][faults]") {
    check_firmware_fault(2, "instruction budget of 1000000 exceeded");
}
TEST_CASE("firmware fault: a store outside the memory map", "[learning][faults]") {
    check_firmware_fault(3, "store to 0x50000000, outside the core's memory map");
}
TEST_CASE("firmware fault: a store to the read-only CAM window", "[learning][faults]") {
    check_firmware_fault(4, "store to read-only tile memory cam");
}
// Through the core's HAL (firmware/rv32/hal.hpp), as a rule reaches its memories: one word
// past pre_traces' window is post_traces' first word in the address map, which the tile
// alone would take as a legal store.
TEST_CASE("firmware fault: a learning-memory store past its window is refused", "[learning][faults]") {
    fw::LearnParams lp;
    const std::string what = firmware_fault(5, &lp);
    const uint32_t pre_words = 2 * lp.n_addresses() + lp.n_rec;  // eps, epsbar, zbar
    CHECK_THAT(what, Catch::StartsWith("firmware core fault in hook trace_step: "));
    CHECK_THAT(what, Catch::Contains("store to pre_traces[1048576], outside its " + std::to_string(pre_words) + " words"));
    CHECK_THAT(what, Catch::Contains("at pc 0x"));
}
TEST_CASE("firmware fault: a learning-memory load inside its window but past its end is refused", "[learning][faults]") {
    fw::LearnParams lp;
    const std::string what = firmware_fault(6, &lp);
    const uint32_t pre_words = 2 * lp.n_addresses() + lp.n_rec;
    CHECK_THAT(what, Catch::StartsWith("firmware core fault in hook trace_step: "));
    CHECK_THAT(what, Catch::Contains("load from pre_traces[1048575], outside its " + std::to_string(pre_words) + " words"));
}

// Two stores of the hidden parameters: h and the address as a shadow copy in learning
// memory, or the CAM entry itself (code, tag kept by dormant entries) plus h's fraction.
// Two implementations of the same arithmetic: the same learning, entry for entry.
static void check_hidden_stores_agree(std::vector<std::string> overrides, int samples) {
    Setup cam_su(overrides, samples, 1);
    overrides.push_back("learn.hidden_store=shadow");
    Setup shadow_su(overrides, samples, 1);
    Chip cam(cam_su.hw, cam_su.net, "cam"), shadow(shadow_su.hw, shadow_su.net, "shadow");
    LearningEngine& a = cam.enable_learning(make_learn_params(cam_su.hw, cam_su.net, cam_su.p, cam_su.task->info()));
    LearningEngine& b = shadow.enable_learning(make_learn_params(shadow_su.hw, shadow_su.net, shadow_su.p, shadow_su.task->info()));
    REQUIRE(a.params().hidden_in_cam());
    REQUIRE(!b.params().hidden_in_cam());
    const fw::LearnParams& lp = a.params();
    FaninTable& fa = cam.tile(0).fanin_table();
    FaninTable& fb = shadow.tile(0).fanin_table();
    SpikeSample sample;
    long differing = 0, entries_changed = 0;
    int pred_diff = 0;
    std::vector<int32_t> h0, addr0;
    a.hidden_parameters(h0, addr0);
    for (int i = 0; i < samples; ++i) {
        cam_su.task->encode(Split::train, i, sample);
        pred_diff += cam.run_sample(sample, cam_su.task->info().readout_begin).prediction !=
                     shadow.run_sample(sample, shadow_su.task->info().readout_begin).prediction;
        std::vector<int32_t> ha, addra, hb, addrb;
        a.hidden_parameters(ha, addra);
        b.hidden_parameters(hb, addrb);
        differing += (ha != hb) + (addra != addrb);
        for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
            for (int e = 0; e < lp.K; ++e) {
                differing += fa.valid(s, e) != fb.valid(s, e);
                if (fa.valid(s, e) && fb.valid(s, e)) differing += fa.raw(s, e) != fb.raw(s, e);
            }
        for (int k = 0; k < lp.n_out; ++k) differing += cam.tile(0).bias_of(lp.n_rec + k) != shadow.tile(0).bias_of(lp.n_rec + k);
        if (i + 1 == samples)
            for (size_t e = 0; e < ha.size(); ++e) entries_changed += ha[e] != h0[e];
    }
    std::printf("hidden in the CAM vs shadow copy over %d samples (%s): %ld parameters changed, %ld differences, "
                "%d predictions differ; learning memory %lld vs %lld bits\n",
                samples, cam_su.hw.learn.update.c_str(), entries_changed, differing, pred_diff,
                static_cast<long long>(a.memory_bits().at("learn.hidden_params")),
                static_cast<long long>(b.memory_bits().at("learn.hidden_params")));
    CHECK(entries_changed > 0);
    CHECK(differing == 0);
    CHECK(pred_diff == 0);
    CHECK(a.memory_bits().at("learn.hidden_params") < b.memory_bits().at("learn.hidden_params"));
}

TEST_CASE("hidden parameters in the CAM and in a shadow copy learn identically: adam", "[learning][bitexact]") {
    check_hidden_stores_agree({"learn.batch=4", "learn.step=0.05", "learn.rewire_shift=1"}, 24);
}
TEST_CASE("hidden parameters in the CAM and in a shadow copy learn identically: stochastic", "[learning][bitexact]") {
    check_hidden_stores_agree({"learn.update=stochastic", "learn.learning_rate=2", "learn.readout_learning_rate=2",
                               "learn.rewire_shift=1"},
                              24);
}

// At 1 MHz the e-prop firmware cannot keep up with 1 ms steps.
TEST_CASE("learning that overruns the step is counted and holds the input back", "[learning][timing]") {
    Setup slow({"learn.clock_hz=1e6"}, 2, 1);
    Chip chip(slow.hw, slow.net, "slow");
    LearningEngine& eng = chip.enable_learning(make_learn_params(slow.hw, slow.net, slow.p, slow.task->info()));
    SpikeSample sample;
    slow.task->encode(Split::train, 0, sample);
    const double t0 = chip.sim_time_s();
    chip.run_sample(sample, slow.task->info().readout_begin);
    const StepTiming& st = eng.step_timing();
    std::printf("1 MHz: %llu of %llu step boundaries over the 1 ms step, worst %llu cycles; sample took %.3f s simulated\n",
                static_cast<unsigned long long>(st.over), static_cast<unsigned long long>(st.steps),
                static_cast<unsigned long long>(st.worst_cycles), chip.sim_time_s() - t0);
    CHECK(st.steps == static_cast<uint64_t>(sample.n_steps() + 1));
    CHECK(st.over > 0);
    CHECK(st.worst_cycles > 1000);  // more than the 1 ms step at 1 MHz
    // The chip's step times hold the learning core's cycles at its clock, on top of the
    // tile's work: the worst step is at least the worst learning, and overruns as often.
    const StepTimeStats& steps = chip.step_stats();
    CHECK(steps.steps() == st.steps);
    CHECK(steps.worst().total_s() >= st.worst_cycles / slow.hw.learn.clock_hz);
    CHECK(steps.worst().learn_s <= st.worst_cycles / slow.hw.learn.clock_hz * (1 + 1e-9));
    CHECK(steps.worst().compute_s > 0);
    CHECK(steps.over_period() >= st.over);
    // The end-of-sample work held the input back for whole steps.
    const double sample_s = (sample.n_steps() + 1) * slow.hw.step_ns * 1e-9;
    CHECK(chip.sim_time_s() - t0 > sample_s);
}

TEST_CASE("learning that overruns the step is an error under learn.realtime = error", "[learning][timing]") {
    Setup strict({"learn.clock_hz=1e6", "learn.realtime=error"}, 2, 1);
    Chip chip(strict.hw, strict.net, "strict");
    chip.enable_learning(make_learn_params(strict.hw, strict.net, strict.p, strict.task->info()));
    SpikeSample sample;
    strict.task->encode(Split::train, 0, sample);
    // The message is checked outside Catch's throw matchers (under ASan, matcher temporaries
    // after a SystemC run were misreported as a stack overflow).
    std::string what;
    try {
        chip.run_sample(sample, strict.task->info().readout_begin);
    } catch (const std::exception& e) {
        what = e.what();
    }
    std::printf("learn.realtime = error: %s\n", what.c_str());
    CHECK(what.find("longer than the step") != std::string::npos);
    CHECK(what.find("learn.realtime") != std::string::npos);
}

// Recorded figures: a checksum of everything learning leaves behind (fan-in entries, the
// learning memories, the readout biases, the update count) after 24 samples on the native
// core, taken on the firmware before it was rebuilt from the SDK pieces. The rebuilt
// firmware must reproduce them bit for bit; the ISS-vs-native cases carry that to the image.
static uint64_t learning_checksum(Chip& chip, const LearningEngine& eng) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bit
    auto mix = [&h](uint32_t v) {
        for (int b = 0; b < 4; ++b) h = (h ^ ((v >> (8 * b)) & 0xFFu)) * 1099511628211ull;
    };
    const fw::LearnParams& lp = eng.params();
    FaninTable& f = chip.tile(0).fanin_table();
    for (int s = 0; s < static_cast<int>(lp.n_slots()); ++s)
        for (int e = 0; e < lp.K; ++e) mix(f.raw(s, e));
    for (int m = fw::lmem_pre; m < fw::lmem_count_; ++m)
        for (int32_t v : eng.memory(static_cast<fw::LearnMem>(m))) mix(static_cast<uint32_t>(v));
    for (int k = 0; k < lp.n_out; ++k) mix(static_cast<uint32_t>(chip.tile(0).bias_of(lp.n_rec + k)));
    mix(eng.updates());
    return h;
}

static void check_recorded_checksum(std::vector<std::string> overrides, uint64_t recorded) {
    overrides.push_back("learn.core=native");
    Setup su(overrides, 24, 1);
    Chip chip(su.hw, su.net, "recorded");
    LearningEngine& eng = chip.enable_learning(make_learn_params(su.hw, su.net, su.p, su.task->info()));
    SpikeSample sample;
    for (int i = 0; i < 24; ++i) {
        su.task->encode(Split::train, i, sample);
        chip.run_sample(sample, su.task->info().readout_begin);
    }
    chip.set_learning(false);  // finish: the committed codes are part of the figure
    const uint64_t sum = learning_checksum(chip, eng);
    std::printf("checksum after 24 samples (%s, %s): 0x%016llx (recorded 0x%016llx), %u updates\n",
                su.hw.learn.rule.c_str(), su.hw.learn.update.c_str(), static_cast<unsigned long long>(sum),
                static_cast<unsigned long long>(recorded), eng.updates());
    CHECK(eng.updates() > 0);
    CHECK(sum == recorded);
}

#define QRSIM_RECORDED_CASE(label, recorded, ...)                                              \
    TEST_CASE("recorded learning after 24 samples: " label, "[learning][recorded]") {         \
        check_recorded_checksum({__VA_ARGS__}, recorded);                                     \
    }
QRSIM_RECORDED_CASE("eprop / adam / presynaptic", 0x81d0201078f1173eull, QRSIM_FAST)
QRSIM_RECORDED_CASE("eprop / adam / synapse / symmetric feedback", 0xcd546ae678e65985ull, QRSIM_FAST, QRSIM_SYN, "learn.feedback=symmetric")
QRSIM_RECORDED_CASE("eprop / sign / stochastic weights", 0xfeda1a7c08dcdaaeull, "learn.update=sign", QRSIM_FAST, "learn.weight_rounding=stochastic")
QRSIM_RECORDED_CASE("eprop / sign / 4-bit block-scaled accumulators", 0xf398acfd20f38380ull, "learn.update=sign", QRSIM_FAST, "learn.acc_bits=4")
QRSIM_RECORDED_CASE("eprop / accumulate / synapse / linear psi", 0xdec315c256b9adf1ull, "learn.update=accumulate", QRSIM_FAST, QRSIM_SYN,
                    "learn.pseudo_derivative=linear", "learn.psi_bits=8")
QRSIM_RECORDED_CASE("eprop / stochastic / presynaptic", 0xb5a447ad63a98fefull, "learn.update=stochastic", "learn.learning_rate=2",
                    "learn.readout_learning_rate=2", "learn.hidden_bits=7")
QRSIM_RECORDED_CASE("readout-delta / adam", 0xd0bb918495fb6e95ull, "learn.rule=readout-delta", QRSIM_FAST)
QRSIM_RECORDED_CASE("readout-delta / stochastic / shadow", 0x05c07883ad44614dull, "learn.rule=readout-delta", "learn.update=stochastic",
                    "learn.learning_rate=2", "learn.readout_learning_rate=2", "learn.hidden_store=shadow")
