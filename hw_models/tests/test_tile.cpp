// The SystemC chip on a mesh against the plain reference loop, the mesh against one tile,
// energy of a hand-traced tiny run, the VCD trace and the mesh timing check. Each TEST_CASE runs in its
// own process (one elaboration); every REQUIRE runs after sc_start has returned.
#include "hw_models/chip.hpp"
#include "hw_models/mismatch.hpp"
#include "hw_models/reference_loop.hpp"
#include "hw_models/tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace qrsim;
using Catch::Matchers::Contains;

namespace {

RsnnParams fmnist_params(const Task& task, int n_rec, int n_alif) {
    RsnnParams p;
    p.n_in = task.info().n_inputs;
    p.n_rec = n_rec;
    p.n_alif = n_alif;
    p.n_out = task.info().n_classes;
    return p;
}

std::string first_difference(const std::vector<SpikeEvent>& a, const std::vector<SpikeEvent>& b) {
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i)
        if (!(a[i] == b[i])) {
            std::ostringstream ss;
            ss << "spike " << i << ": tile (step " << a[i].step << ", neuron " << a[i].neuron << ") vs reference (step "
               << b[i].step << ", neuron " << b[i].neuron << ")";
            return ss.str();
        }
    if (a.size() != b.size()) return "spike counts differ: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    return "";
}

// Two implementations of the same schedule (hw_models/step_schedule.hpp): the network split
// over a 2 x 2 mesh, each tile matching its packets in its CAMs' inverted index and sending
// its spikes through the router in SystemC time, against one flat loop over plain target
// lists. Both draw stochastic rounding from per-core LFSRs laid out by global core.
// `reference_net` is what the loop runs; the chip builds its own from `net` and hw.
void check_chip_equals_reference(const HwConfig& hw, const TileNetwork& net, const TileNetwork& reference_net,
                                 const Task& task, const RsnnParams& p) {
    Chip chip(hw, net);
    REQUIRE(chip.tiles() == 4);
    ReferenceLoop ref(reference_net, hw.neurons_per_core, hw.seed);
    chip.record_spikes(true);
    std::vector<std::string> diffs;
    std::vector<SampleResult> tile_results;
    std::vector<ReferenceLoop::Result> ref_results;
    size_t total_spikes = 0;
    SpikeSample s;
    for (int i = 0; i < task.size(Split::test); ++i) {
        task.encode(Split::test, i, s);
        tile_results.push_back(chip.run_sample(s, task.info().readout_begin));
        std::vector<SpikeEvent> ref_spikes;
        ref_results.push_back(ref.run(s, task.info().readout_begin, &ref_spikes));
        const auto tile_spikes = chip.take_spikes();
        total_spikes += ref_spikes.size();
        diffs.push_back(first_difference(tile_spikes, ref_spikes));
    }
    for (size_t i = 0; i < diffs.size(); ++i) {
        INFO("sample " << i);
        REQUIRE(diffs[i] == "");
        REQUIRE(tile_results[i].readout == ref_results[i].readout);
        REQUIRE(tile_results[i].prediction == ref_results[i].prediction);
    }
    // The network is active but not saturated: the check has spikes to compare.
    const double rate = double(total_spikes) / (diffs.size() * p.n_rec * task.info().n_steps);
    INFO("spikes per neuron per step " << rate);
    WARN("recurrent spikes per neuron per step: " << rate << " over " << total_spikes << " spikes");
    CHECK(rate > 0.01);
    CHECK(rate < 0.5);
    // Every entry an event matched, on whichever tile holds it, once.
    CHECK(chip.counters()[Action::sop] == ref.synaptic_events());
    CHECK(chip.counters()[Action::hop_ew] + chip.counters()[Action::hop_ns] > 0);
}

// dynapse2: stochastic rounding, multiply leak; 4 tiles of one 40-neuron core.
HwConfig mesh_of_four() {
    return test::edited_preset("dynapse2", {{"width = 1", "width = 2"}, {"height = 1", "height = 2"},
                                            {"cores = 4", "cores = 1"}, {"neurons_per_core = 256", "neurons_per_core = 40"}});
}

}  // namespace

TEST_CASE("the chip on a 2x2 mesh equals the plain reference loop step by step on fmnist-rows", "[tile][bitexact]") {
    const auto task = test::fmnist_rows(20);
    const HwConfig hw = mesh_of_four();
    const RsnnParams p = fmnist_params(*task, 128, 32);
    const TileNetwork net = random_network(hw, p, 64, 7, 0.6, 0.3);
    check_chip_equals_reference(hw, net, net, *task, p);
}

// The chip draws its circuits' mismatch itself and places a LUT per neuron; the loop reads
// the drawn network's per-neuron weights and configs straight from their lists.
TEST_CASE("under device mismatch the chip on a 2x2 mesh equals the reference loop on the drawn network", "[tile][bitexact][mismatch]") {
    const auto task = test::fmnist_rows(20);
    HwConfig hw = mesh_of_four();
    hw.mismatch.weights = hw.mismatch.time_constants = hw.mismatch.thresholds = 0.2;
    hw.mismatch.seed = 5;
    const RsnnParams p = fmnist_params(*task, 128, 32);
    const TileNetwork net = random_network(hw, p, 64, 7, 0.6, 0.3);
    TileNetwork drawn = net;
    apply_mismatch(drawn, hw.mismatch, hw);
    // The draw changed what the loop runs: a chip that ignored it would differ.
    ReferenceLoop nominal(net, hw.neurons_per_core, hw.seed), mismatched(drawn, hw.neurons_per_core, hw.seed);
    SpikeSample s;
    int differ = 0;
    for (int i = 0; i < task->size(Split::test); ++i) {
        task->encode(Split::test, i, s);
        std::vector<SpikeEvent> a, b;
        nominal.run(s, task->info().readout_begin, &a);
        mismatched.run(s, task->info().readout_begin, &b);
        differ += a != b;
    }
    REQUIRE(differ == task->size(Split::test));
    check_chip_equals_reference(hw, net, drawn, *task, p);
}

TEST_CASE("4-tile mesh gives the same spikes as 1 tile and counts hops", "[tile][mesh]") {
    const auto task = test::fmnist_rows(6);
    // Same neurons per core and per-core LFSRs: 1 tile of 4 cores vs 4 tiles of 1 core.
    const HwConfig one = test::edited_preset(
        "dynapse2", {{"neurons_per_core = 256", "neurons_per_core = 40"}});
    const HwConfig four = test::edited_preset(
        "dynapse2", {{"width = 1", "width = 2"}, {"height = 1", "height = 2"}, {"cores = 4", "cores = 1"},
                     {"neurons_per_core = 256", "neurons_per_core = 40"}});
    const RsnnParams p = fmnist_params(*task, 128, 32);
    const TileNetwork net = random_network(one, p, 64, 11, 0.6, 0.3);
    Chip a(one, net, "one");
    Chip b(four, net, "four");
    a.record_spikes(true);
    b.record_spikes(true);
    std::vector<std::string> diffs;
    std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> readouts;
    size_t spikes = 0;
    SpikeSample s;
    for (int i = 0; i < task->size(Split::test); ++i) {
        task->encode(Split::test, i, s);
        const SampleResult ra = a.run_sample(s, task->info().readout_begin);
        const SampleResult rb = b.run_sample(s, task->info().readout_begin);
        const auto sa = a.take_spikes(), sb = b.take_spikes();
        spikes += sa.size();
        diffs.push_back(first_difference(sb, sa));
        readouts.emplace_back(ra.readout, rb.readout);
    }
    for (size_t i = 0; i < diffs.size(); ++i) {
        INFO("sample " << i);
        REQUIRE(diffs[i] == "");
        REQUIRE(readouts[i].first == readouts[i].second);
    }
    CHECK(spikes > 0);
    const ActionCounters ca = a.counters(), cb = b.counters();
    CHECK(ca[Action::hop_ew] + ca[Action::hop_ns] == 0);
    CHECK(cb[Action::hop_ew] > 0);
    CHECK(cb[Action::hop_ns] > 0);
    CHECK(ca[Action::sop] == cb[Action::sop]);
    CHECK(ca[Action::neuron_update] == cb[Action::neuron_update]);
    CHECK(ca[Action::spike_out] == cb[Action::spike_out]);
    const auto energy = b.costs().energy_pj(cb);
    CHECK(energy.at("hop_ew") == Approx(3.0 * cb[Action::hop_ew]));
    CHECK(energy.at("hop_ns") == Approx(4.0 * cb[Action::hop_ns]));
    // The mesh's events cross at most one east-west (4.1 ns) and one north-south link (6.5 ns);
    // one tile routes nothing.
    CHECK(a.step_stats().mean().route_s == 0);
    CHECK(b.step_stats().mean().route_s > 0);
    CHECK(b.step_stats().worst().route_s <= Approx(10.6e-9));
}

namespace {

// 2 inputs, 2 recurrent LIF, 1 readout on one core of 4 neurons, nearest rounding:
// input 0 -> neuron 0 -> neuron 1 -> readout, each weight 1.0 > v_th = 0.6.
struct Tiny {
    HwConfig hw;
    TileNetwork net;
    SpikeSample sample;
    Tiny() {
        hw = test::edited_preset("dynapse2", {{"cores = 4", "cores = 1"},
                                              {"neurons_per_core = 256", "neurons_per_core = 4"},
                                              {"kind = \"dynapse2\"", "kind = \"uniform\"\nweight_bits = 4"},
                                              {"fanin = 64", "fanin = 2"},
                                              {"rounding = \"stochastic\"", "rounding = \"nearest\""}});
        RsnnParams p;
        p.n_in = 2;
        p.n_rec = 2;
        p.n_out = 1;
        net.n_in = 2;
        net.n_rec = 2;
        net.n_out = 1;
        set_neuron_configs(p, hw, net);
        GroupQuant q;
        q.kind = WeightKind::uniform;
        q.weight_bits = 4;
        q.scale = 1.0 / 7;
        net.hidden = make_group_lut(q, hw, "hidden");
        net.out = net.hidden;
        net.fanin = {{{0, 7}}, {{2, 7}}, {{3, 1}}};
        net.bias = {0, 0, 0};
        sample.begin_step();
        sample.add_spike(0);
        sample.begin_step();
        sample.begin_step();
    }
};

}  // namespace

TEST_CASE("energy equals the hand-computed sum for a tiny run", "[tile][energy]") {
    Tiny tiny;
    Chip chip(tiny.hw, tiny.net);
    chip.record_spikes(true);
    chip.run_sample(tiny.sample, 0);
    const auto spikes = chip.take_spikes();
    const ActionCounters c = chip.counters();
    REQUIRE(spikes.size() == 2);
    CHECK(spikes[0] == SpikeEvent{0, 0});
    CHECK(spikes[1] == SpikeEvent{1, 1});
    // Activation 0: input 0 -> 1 SOP, the core's CAM searched once; neuron 0 spikes.
    // Activation 1: address 2 -> 1 SOP, 1 CAM search; neuron 1 spikes; readout y_0.
    // Activation 2: address 3 -> 1 SOP (readout), 1 CAM search; readout y_1.
    // Activation 3 (drain): readout y_2.
    CHECK(c[Action::sop] == 3);
    CHECK(c[Action::cam_search] == 3);
    CHECK(c[Action::neuron_update] == 2 * 3 + 3);
    CHECK(c[Action::spike_out] == 2);
    CHECK(c[Action::hop_ew] + c[Action::hop_ns] == 0);
    CHECK(c[Action::lfsr_draw] == 0);
    // Hidden state per step: 16-bit v + 2-bit refractory counter (R = 2) + spike bit = 19,
    // read and written, 2 neurons x 3 steps; readout: y (16) read + written, bias (16) read.
    CHECK(c[Action::state_read_bits] == 2 * 19 * 3 + 3 * 32);
    CHECK(c[Action::state_write_bits] == 2 * 19 * 3 + 3 * 16);
    CHECK(c[Action::sram_read_bits] + c[Action::sram_write_bits] == 0);
    const auto e = chip.costs().energy_pj(c);
    // digital28 table (figures.toml): a CAM search of the core's 4 neurons x K = 2 words of
    // 11-bit tags, a bit compare at 0.03 pJ / 8 = 0.33 pJ; SOP 5.3 pJ; neuron update
    // 3.1 + 0.1 pJ; spike 1.7 pJ; a state bit 10 pJ / 64:
    //   3 x 0.33 + 3 x 5.3 + 9 x 3.2 + 2 x 1.7 + (210 + 162) x 0.15625
    //   = 0.99 + 15.9 + 28.8 + 3.4 + 58.125 = 107.215 pJ
    CHECK(e.at("dynamic") == Approx(107.215));
    // Static: 27.3 uW over ODIN's 64k x 4 synapse bits, times the preset's 1,114,112 +
    // 262,144 bits of memory (5.25 x 262,144) = 143.325 uW, for the 4 steps of 1 ms.
    CHECK(chip.sim_time_s() == Approx(4e-3));
    const EnergySplit s = energy_split(chip.costs(), c, chip.sim_time_s(), chip.costs().tile_memory_bits());
    CHECK(s.static_pj == Approx(143.325e-6 * 4e-3 * 1e12));
}

TEST_CASE("step time is the hand-computed sum of the table's latencies", "[tile][timing]") {
    Tiny tiny, fast;
    fast.hw.step_ns = 32;  // shorter than two of the steps below; 4 ms is a whole number of them
    Chip chip(tiny.hw, tiny.net);
    Chip quick(fast.hw, fast.net, "quick");  // both before the first sc_start
    chip.run_sample(tiny.sample, 0);
    quick.run_sample(fast.sample, 0);
    // Latencies (figures.toml, Loihi's Table 2): CAM search and SOP 3.5 ns, neuron update
    // 8.4 ns, spike 2.1 ns; one core, so the core's sum is the step:
    //   step 0: 1 search + 1 SOP + 2 updates + 1 spike = 25.9 ns
    //   step 1: 1 search + 1 SOP + 3 updates + 1 spike = 34.3 ns (the worst)
    //   step 2: 1 search + 1 SOP + 3 updates           = 32.2 ns
    //   step 3 (drain): 1 readout update                =  8.4 ns
    const StepTimeStats& st = chip.step_stats();
    CHECK(st.steps() == 4);
    CHECK(st.over_period() == 0);
    CHECK(st.worst_step() == 1);
    CHECK(st.worst().compute_s == Approx(34.3e-9));
    CHECK(st.worst().route_s == 0);
    CHECK(st.worst().learn_s == 0);
    CHECK(st.mean().total_s() == Approx((25.9 + 34.3 + 32.2 + 8.4) / 4 * 1e-9));
    // Histogram, 10 bins per decade from 1 ns: 8.4 ns in bin 9, 25.9 to 34.3 ns in bins 14-15.
    CHECK(st.histogram()[9] == 1);
    CHECK(st.histogram()[14] + st.histogram()[15] == 3);
    // Steps longer than the 32 ns period (34.3 and 32.2 ns) are overruns.
    CHECK(quick.step_stats().over_period() == 2);
    CHECK(quick.step_stats().worst().compute_s == Approx(34.3e-9));
}

TEST_CASE("a neuron reads the weight LUT of its layer", "[tile][lut]") {
    // Neuron 1 moves to LUT group 2 whose code 7 weighs 0.5 < v_th = 0.6: it stays silent.
    Tiny tiny;
    tiny.hw.lut_groups = 3;
    GroupQuant q;
    q.kind = WeightKind::uniform;
    q.weight_bits = 4;
    q.scale = 0.5 / 7;
    tiny.net.layer_luts = {make_group_lut(q, tiny.hw, "layer")};
    tiny.net.layer_lut = {0, 2};
    Chip chip(tiny.hw, tiny.net);
    chip.record_spikes(true);
    const SampleResult r = chip.run_sample(tiny.sample, 0);
    const auto spikes = chip.take_spikes();
    REQUIRE(spikes.size() == 1);
    CHECK(spikes[0] == SpikeEvent{0, 0});
    CHECK(chip.counters()[Action::sop] == 2);
    CHECK(r.readout == std::vector<int64_t>{0});
}

TEST_CASE("a hidden neuron's bias register drives it every step", "[tile][bias]") {
    // No input spikes; neuron 0's bias is v_th / 2 per step, so it charges towards threshold
    // on its own: v_t = alpha v_{t-1} + v_th / 2 - v_th z_{t-1}, no spike for R steps after one
    // (the float recurrence below), and neuron 1 (weight 1.0 > v_th) follows it a step later.
    Tiny tiny;
    const int32_t v_th = tiny.net.lif.v_th;
    REQUIRE(v_th % 2 == 0);
    tiny.net.bias = {v_th / 2, 0, 0};
    SpikeSample quiet;
    const int steps = 12;
    for (int t = 0; t < steps; ++t) quiet.begin_step();
    Chip chip(tiny.hw, tiny.net);
    chip.record_spikes(true);
    chip.run_sample(quiet, 0);
    const auto spikes = chip.take_spikes();
    const double alpha = tiny.net.lif.alpha.q15 / 32768.0;
    std::vector<SpikeEvent> expected;
    double v = 0;
    int z = 0, refractory = 0;
    for (int t = 0; t < steps; ++t) {
        v = alpha * v + 0.5 - z;  // in units of v_th
        z = refractory == 0 && v >= 1.0 ? 1 : 0;
        refractory = z ? tiny.net.lif.refractory : std::max(0, refractory - 1);
        if (z) {
            expected.push_back(SpikeEvent{t, 0});
            if (t + 1 < steps) expected.push_back(SpikeEvent{t + 1, 1});
        }
    }
    std::sort(expected.begin(), expected.end(),
              [](const SpikeEvent& a, const SpikeEvent& b) { return a.step != b.step ? a.step < b.step : a.neuron < b.neuron; });
    REQUIRE(expected.size() >= 4);
    CHECK(first_difference(spikes, expected) == "");
    // The used bias register is read every step (16 bits) on top of the state of the tiny run.
    CHECK(chip.counters()[Action::state_read_bits] == steps * (2 * 19 + 16) + steps * 32);
}

TEST_CASE("VCD trace of chosen neurons is written", "[tile][vcd]") {
    Tiny tiny;
    const std::string path = (std::filesystem::temp_directory_path() / "qrsim_test_trace.vcd").string();
    std::remove(path.c_str());
    tiny.hw.vcd_file = path;
    tiny.hw.vcd_neurons = {0, 2};
    Chip chip(tiny.hw, tiny.net);
    chip.run_sample(tiny.sample, 0);
    chip.close_trace();
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK_THAT(ss.str(), Contains("neuron0_v") && Contains("neuron0_z") && Contains("neuron2_v"));
    CHECK_THAT(ss.str(), Contains("$enddefinitions"));
}

TEST_CASE("a hop latency longer than the step is a timing error", "[tile][mesh]") {
    const auto task = test::fmnist_rows(1);
    const HwConfig slow = test::edited_preset(
        "dynapse2", {{"width = 1", "width = 2"}, {"height = 1", "height = 2"}, {"cores = 4", "cores = 1"},
                     {"neurons_per_core = 256", "neurons_per_core = 40"}, {"step_ns = 1000000", "hop_latency_ns = 400000\nstep_ns = 1000000"}});
    const TileNetwork net = random_network(slow, fmnist_params(*task, 128, 0), 64, 3, 0.6, 0.3);
    Chip chip(slow, net);
    SpikeSample s;
    task->encode(Split::test, 0, s);
    CHECK_THROWS_WITH(chip.run_sample(s, task->info().readout_begin), Contains("too long for mesh.step_ns"));
}

TEST_CASE("events outside the address table are counted and stop the run", "[tile][mesh]") {
    // The tiny network has 4 addresses (2 inputs, 2 neurons); 7 and 9 have no row.
    Tiny tiny;
    Chip chip(tiny.hw, tiny.net);
    chip.record_spikes(true);
    SpikeSample bad;
    bad.begin_step();
    bad.add_spike(0);
    bad.add_spike(7);
    bad.begin_step();
    bad.add_spike(9);
    bad.begin_step();
    std::string message;  // two matchers joined by && inside CHECK_THROWS_WITH outlive their temporaries
    try {
        chip.run_sample(bad, 0);
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    CHECK_THAT(message, Contains("mesh router: 2 AER events outside its address table (4 rows)"));
    CHECK_THAT(message, Contains("first: address 7 at step 0"));
    // The count is per sample: a clean sample afterwards runs as on a fresh chip.
    chip.take_spikes();
    chip.run_sample(tiny.sample, 0);
    const auto spikes = chip.take_spikes();
    REQUIRE(spikes.size() == 2);
    CHECK(spikes[0] == SpikeEvent{0, 0});
    CHECK(spikes[1] == SpikeEvent{1, 1});
}

TEST_CASE("a network that does not fit the chip is refused before simulation", "[tile]") {
    Tiny tiny;
    tiny.net.fanin[0].push_back(EntryCode{1, 3});
    tiny.net.fanin[0].push_back(EntryCode{1, 3});  // 3 entries, K = 2
    CHECK_THROWS_WITH(Chip(tiny.hw, tiny.net), Contains("above the CAM size synapse.fanin = K = 2"));
}
