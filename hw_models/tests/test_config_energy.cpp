// Hardware config layer and memory map: presets load, every bad config is one error line
// naming the field. The energy tables: test_energy.cpp.
#include "hw_models/checkpoint_loader.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/memory_report.hpp"
#include "hw_models/mismatch.hpp"
#include "hw_models/network.hpp"
#include "hw_models/tests/test_support.hpp"

#include <catch2/catch.hpp>

using namespace qrsim;
using Catch::Matchers::Contains;

TEST_CASE("presets load and resolve", "[hw_config]") {
    for (const char* name : {"dynapse2", "reckon", "loihi", "uniform4"}) {
        const HwConfig hw = load_hw_config(name);
        CHECK(hw.name == name);
        CHECK_NOTHROW(check_capacity(hw));
        CHECK_NOTHROW(EnergyTable::load(hw.energy_table));
    }
    const HwConfig d = load_hw_config(project_dir() + "/configs/hw/dynapse2.toml");
    CHECK(d.cores == 4);
    CHECK(d.neurons_per_core == 256);
    CHECK(d.fanin == 64);
    CHECK(d.kind == WeightKind::dynapse2);
    CHECK(d.address_bits == 11);
    const MemoryMap m = tile_memory_map(d);
    CHECK(m.bits.at("cam") == 1024 * 64 * 17);
    CHECK(m.bits.at("traces") == 2048 * 34);
}

TEST_CASE("unknown preset is one error listing the known ones", "[hw_config]") {
    CHECK_THROWS_WITH(load_hw_config("dynapse3"), Contains("unknown hw preset 'dynapse3'") && Contains("dynapse2"));
}

TEST_CASE("bits out of range name the field", "[hw_config]") {
    CHECK_THROWS_WITH(test::edited_preset("reckon", {{"weight_bits = 8", "weight_bits = 20"}}),
                      Contains("synapse.weight_bits = 20 out of range [2, 16]"));
    CHECK_THROWS_WITH(test::edited_preset("dynapse2", {{"membrane_bits = 16", "membrane_bits = 40"}}),
                      Contains("neuron.membrane_bits = 40 out of range"));
    CHECK_THROWS_WITH(test::edited_preset("dynapse2", {{"address_bits = 11", "address_bits = 0"}}),
                      Contains("tile.address_bits = 0 out of range"));
    CHECK_THROWS_WITH(test::edited_preset("dynapse2", {{"rounding = \"stochastic\"", "rounding = \"up\""}}),
                      Contains("neuron.rounding = \"up\" is not one of: nearest, stochastic"));
}

TEST_CASE("unknown keys and wrong types are refused", "[hw_config]") {
    CHECK_THROWS_WITH(test::edited_preset("dynapse2", {{"fanin = 64", "fanin = 64\nfanout = 4"}}),
                      Contains("unknown key synapse.fanout"));
    CHECK_THROWS_WITH(test::edited_preset("dynapse2", {{"fanin = 64", "fanin = \"64\""}}),
                      Contains("synapse.fanin must be an integer"));
    CHECK_THROWS_WITH(test::edited_preset("dynapse2", {{"[energy]\ntable = \"configs/energy/digital28.toml\"", ""}}),
                      Contains("missing required key energy.table"));
}

TEST_CASE("capacity exceeded names the component and bits", "[hw_config]") {
    // K raised to 128 without more CAM: 1024 x 128 x 17 bits do not fit.
    const HwConfig big_k = test::edited_preset("dynapse2", {{"fanin = 64", "fanin = 128"}});
    CHECK_THROWS_WITH(check_capacity(big_k), Contains("component cam needs 2228224 bits") && Contains("memory.cam_bits = 1114112"));
    // Per-synapse traces do not fit the SRAM.
    const HwConfig traces = test::edited_preset("dynapse2", {{"placement = \"presynaptic\"", "placement = \"synapse\""}});
    CHECK_THROWS_WITH(check_capacity(traces), Contains("capacity exceeded: SRAM") && Contains("traces") &&
                                                  Contains("memory.sram_bits = 262144"));
}

TEST_CASE("a network with K above the CAM size is refused", "[hw_config]") {
    const HwConfig hw = load_hw_config("dynapse2");
    RsnnParams p;
    p.n_in = 40;
    p.n_rec = 16;
    p.n_out = 2;
    TileNetwork net = random_network(hw, p, 64, 1, 0.5, 0.5);
    CHECK_NOTHROW(check_fits(net, hw));
    while (net.fanin[3].size() < 65) net.fanin[3].push_back(EntryCode{0, 1});
    CHECK_THROWS_WITH(check_fits(net, hw), Contains("neuron 3 needs 65 fan-in entries, above the CAM size synapse.fanin = K = 64"));
    p.n_rec = 1000;
    p.n_in = 1100;  // 2100 addresses > 2^11
    CHECK_THROWS_WITH(check_fits(random_network(hw, p, 4, 1, 0.5, 0.5), hw), Contains("AER addresses, tile.address_bits = 11"));
}

TEST_CASE("a weight level outside the LUT width is refused", "[hw_config]") {
    const HwConfig hw = load_hw_config("dynapse2");
    CHECK_THROWS_WITH(to_lut_value(40.0, hw, "group hidden weight"), Contains("outside synapse.lut_bits = 16"));
    CHECK(to_lut_value(0.5, hw, "w") == 512);
}

TEST_CASE("per-layer weight levels load into their own LUTs", "[hw_config][loader]") {
    // Two layers: recurrent neurons 0-1 read the inputs with scale 0.1, neurons 2-3 read
    // neurons 0-1 with scale 0.02 (their own LUT, group 2); a shared LUT could hold only one.
    RsnnParams p;
    p.n_in = 3;
    p.n_rec = 4;
    p.n_out = 2;
    Checkpoint ck;
    ck.params = p;
    ck.weights.resize_zero(p);
    ck.weights.w_in << 0.7, -0.3, 0.1,  //
        0.2, 0.5, -0.7,                 //
        0, 0, 0,                        //
        0, 0, 0;
    ck.weights.w_rec(2, 0) = 0.14;
    ck.weights.w_rec(2, 1) = -0.06;
    ck.weights.w_rec(3, 1) = 0.02;
    ck.weights.w_out(0, 2) = 0.5;
    ck.weights.w_out(1, 3) = -0.25;
    CheckpointConstraint cc;
    cc.spec.kind = WeightKind::uniform;
    cc.spec.fanin = 4;
    cc.spec.weight_bits = 4;
    cc.hidden.kind = cc.readout.kind = WeightKind::uniform;
    cc.hidden.scale = 0.1;
    cc.readout.scale = 0.25;
    GroupQuant layer1 = cc.hidden;
    layer1.scale = 0.02;
    cc.layers.push_back({2, 2, layer1});
    ck.extra = constraint_to_extra(cc);
    // The JSON form keeps the layers.
    const CheckpointConstraint back = constraint_from_extra(ck.extra);
    REQUIRE(back.layers.size() == 1);
    CHECK(back.layer_of(1) == -1);
    CHECK(back.layer_of(3) == 0);
    CHECK(back.hidden_levels(2).scale == 0.02);

    const HwConfig two = test::edited_preset("uniform4", {});
    CHECK_THROWS_WITH(network_from_checkpoint(ck, two), Contains("3 LUTs") && Contains("synapse.lut_groups = 2") &&
                                                            Contains("--hw-set synapse.lut_groups=3"));
    const HwConfig three = test::edited_preset("uniform4", {{"lut_bits = 16", "lut_bits = 16\nlut_groups = 3"}});
    const TileNetwork net = network_from_checkpoint(ck, three);
    CHECK(net.lut_group(0) == 0);
    CHECK(net.lut_group(1) == 0);
    CHECK(net.lut_group(2) == 2);
    CHECK(net.lut_group(3) == 2);
    CHECK(net.lut_group(4) == 1);
    // Every neuron's entries add up to its float weights (membrane LSB = 2^-10).
    const double lsb = std::ldexp(1.0, -three.membrane_frac_bits);
    for (int j = 0; j < net.n_neurons(); ++j) {
        std::vector<double> sum(net.n_addresses(), 0.0);
        const GroupLut& lut = net.lut_of(j);
        for (const EntryCode& e : net.fanin[j]) sum[e.pre] += lut.table[fw::lut_index(lut.kind, lut.weight_bits, e.code)] * lsb;
        for (int a = 0; a < net.n_addresses(); ++a) {
            double w = 0;
            if (j < p.n_rec) w = a < p.n_in ? ck.weights.w_in(j, a) : ck.weights.w_rec(j, a - p.n_in);
            else if (a >= p.n_in) w = ck.weights.w_out(j - p.n_rec, a - p.n_in);
            INFO("neuron " << j << " address " << a);
            CHECK(sum[a] == Approx(w).margin(lsb));
        }
    }
    // Hidden biases (b_rec) go to the bias registers at the membrane's precision, nearest
    // LSB, next to the readout's; out of the 16-bit range is one error naming the neuron.
    ck.weights.b_rec << 0.3, -0.0123, 0, 1.0 / 3;
    ck.weights.b_out << 0.5, -2;
    const TileNetwork biased = network_from_checkpoint(ck, three);
    CHECK(biased.bias == std::vector<int32_t>{307, -13, 0, 341, 512, -2048});
    ck.weights.b_rec[1] = 40;  // 40 x 2^10 > 2^15 - 1
    CHECK_THROWS_WITH(network_from_checkpoint(ck, three), Contains("hidden bias 1") && Contains("membrane_bits = 16"));
    ck.weights.b_rec.setZero();
    // A layer range outside the recurrent neurons is refused.
    cc.layers[0].neurons = 3;
    ck.extra = constraint_to_extra(cc);
    CHECK_THROWS_WITH(network_from_checkpoint(ck, three), Contains("beyond the 4 recurrent"));
}

namespace {
// tau = -dt / ln f of a decay factor, in steps.
double tau_of(const fw::Decay& d, fw::LeakMode leak) { return -1.0 / std::log(decay_factor(d, leak)); }

double mean_of(const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v;
    return s / x.size();
}

double std_of(const std::vector<double>& x) {
    const double m = mean_of(x);
    double s = 0;
    for (double v : x) s += (v - m) * (v - m);
    return std::sqrt(s / (x.size() - 1));
}
}  // namespace

// The drawn factors against the requested spreads: each parameter's sample spread over the
// network's neurons (the 1 / sqrt(2 (n-1)) error of a sample std is about 6 % here).
TEST_CASE("device mismatch draws each parameter with its own spread per neuron", "[hw_config][mismatch]") {
    const HwConfig hw = load_hw_config("dynapse2");
    RsnnParams p;
    p.n_in = 80;
    p.n_rec = 200;
    p.n_alif = 100;
    p.n_out = 10;
    const TileNetwork net = random_network(hw, p, 64, 1, 0.5, 0.5);
    MismatchConfig m;
    m.weights = 0.2;
    m.time_constants = 0.1;
    m.thresholds = 0.3;
    m.seed = 3;
    TileNetwork drawn = net;
    apply_mismatch(drawn, m, hw);
    REQUIRE(drawn.neuron_configs.size() == 210u);
    REQUIRE(drawn.neuron_luts.size() == 210u);
    std::vector<double> th, tau, tau_a, base;
    for (int j = 0; j < net.n_neurons(); ++j) {
        const fw::NeuronConfig& c0 = net.config_of(j);
        const fw::NeuronConfig& c = drawn.config_of(j);
        tau.push_back(tau_of(c.alpha, c.leak) / tau_of(c0.alpha, c0.leak));
        if (c.adaptive) tau_a.push_back(tau_of(c.rho, c.leak) / tau_of(c0.rho, c0.leak));
        if (net.is_readout(j))
            CHECK(c.v_th == c0.v_th);
        else
            th.push_back(double(c.v_th) / c0.v_th);
        const GroupLut& lut0 = net.lut(net.lut_group(j));
        const GroupLut& lut = drawn.lut_of(j);
        REQUIRE(lut.stored.size() == 4u);
        for (size_t b = 0; b < 4; ++b) base.push_back(double(lut.stored[b]) / lut0.stored[b]);
        // The expanded table is the drawn bases' own: mask 0b0011 adds bases 0 and 1.
        CHECK(lut.table[fw::lut_index(lut.kind, lut.weight_bits, 3)] == lut.stored[0] + lut.stored[1]);
    }
    CHECK(mean_of(th) == Approx(1.0).margin(0.05));
    CHECK(std_of(th) == Approx(0.3).epsilon(0.15));
    CHECK(mean_of(tau) == Approx(1.0).margin(0.02));
    CHECK(std_of(tau) == Approx(0.1).epsilon(0.15));
    CHECK(std_of(tau_a) == Approx(0.1).epsilon(0.2));
    CHECK(mean_of(base) == Approx(1.0).margin(0.03));
    CHECK(std_of(base) == Approx(0.2).epsilon(0.15));
    // The 4 bases of a neuron are 4 circuits: not one factor shared.
    int same = 0;
    for (size_t i = 0; i < base.size(); i += 4) same += base[i] == base[i + 1] && base[i] == base[i + 2];
    CHECK(same < 5);

    // A spread of 0 keeps its parameter nominal; the same seed draws the same chip.
    MismatchConfig only_th;
    only_th.thresholds = 0.3;
    only_th.seed = 3;
    TileNetwork th_only = net;
    apply_mismatch(th_only, only_th, hw);
    for (int j = 0; j < net.n_neurons(); ++j) {
        CHECK(th_only.config_of(j).alpha.q15 == net.config_of(j).alpha.q15);
        CHECK(th_only.lut_of(j).table == net.lut(net.lut_group(j)).table);
        CHECK(th_only.config_of(j).v_th == drawn.config_of(j).v_th);
    }
    only_th.seed = 4;
    TileNetwork other_chip = net;
    apply_mismatch(other_chip, only_th, hw);
    int moved = 0;
    for (int j = 0; j < net.n_rec; ++j) moved += other_chip.config_of(j).v_th != drawn.config_of(j).v_th;
    CHECK(moved > 150);

    // A drawn weight past the LUT's width is one error naming the key.
    HwConfig narrow = hw;
    int widest = 0;
    for (int32_t v : net.hidden.stored) widest = std::max(widest, std::abs(v));
    for (int32_t v : net.out.stored) widest = std::max(widest, std::abs(v));
    narrow.lut_bits = 1;
    while (fw::max_signed(narrow.lut_bits) < widest) ++narrow.lut_bits;
    MismatchConfig wide;
    wide.weights = 0.5;
    TileNetwork over = net;
    CHECK_THROWS_WITH(apply_mismatch(over, wide, narrow), Contains("mismatch.weights = 0.5") && Contains("synapse.lut_bits"));
}
