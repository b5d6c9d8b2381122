#include "hw_models/network.hpp"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace qrsim {

void GroupLut::expand() {
    table.assign(fw::lut_size(kind, weight_bits), 0);
    fw::expand_lut(kind, weight_bits, stored.data(), table.data());
}

size_t TileNetwork::n_entries() const {
    size_t n = 0;
    for (const auto& f : fanin) n += f.size();
    return n;
}

fw::Decay decay_of(double f) {
    fw::Decay d;
    d.q15 = static_cast<uint16_t>(std::max(0L, std::min(32767L, std::lround(f * 32768.0))));
    // x - x/2^s approximates f x with 2^-s = 1 - f.
    const double s = std::round(-std::log2(std::max(1e-9, 1.0 - f)));
    d.shift = static_cast<uint8_t>(std::max(1.0, std::min(30.0, s)));
    return d;
}

double decay_factor(const fw::Decay& d, fw::LeakMode leak) {
    return leak == fw::leak_shift ? 1.0 - std::ldexp(1.0, -d.shift) : d.q15 / 32768.0;
}

namespace {

const char* kind_name(WeightKind k) {
    switch (k) {
        case WeightKind::uniform: return "uniform";
        case WeightKind::dynapse1: return "dynapse1";
        case WeightKind::dynapse2: return "dynapse2";
        default: return "none";
    }
}



fw::NeuronConfig base_config(const HwConfig& hw, double decay) {
    fw::NeuronConfig c;
    c.alpha = decay_of(decay);
    c.v_bits = static_cast<uint8_t>(hw.membrane_bits);
    c.a_bits = static_cast<uint8_t>(hw.adaptation_bits);
    c.a_frac = static_cast<uint8_t>(hw.adaptation_frac_bits);
    c.leak = hw.leak;
    c.rounding = hw.rounding;
    c.reset = hw.reset;
    return c;
}

}  // namespace

int32_t to_lut_value(double w, const HwConfig& hw, const char* what) {
    const double lsb = std::ldexp(w, hw.membrane_frac_bits);
    const long long r = std::llround(lsb);
    if (!std::isfinite(w) || !fw::fits_signed(r, hw.lut_bits))
        throw std::runtime_error(std::string(what) + " = " + std::to_string(w) + " is " + std::to_string(r) +
                                 " membrane LSBs, outside synapse.lut_bits = " + std::to_string(hw.lut_bits) +
                                 " (lower neuron.membrane_frac_bits or raise lut_bits)");
    return static_cast<int32_t>(r);
}

void set_neuron_configs(const RsnnParams& p, const HwConfig& hw, TileNetwork& net) {
    // The neuron core has no synaptic current filter: a current-based network would run
    // with different dynamics, so it is refused rather than approximated.
    if (p.tau_syn > 0 || p.tau_syn_out > 0)
        throw std::runtime_error("the network has synaptic current filters (tau_syn = " + std::to_string(p.tau_syn) +
                                 " ms, tau_syn_out = " + std::to_string(p.tau_syn_out) +
                                 " ms): the tile's neuron core models LIF/ALIF neurons and a leaky readout without them");
    if (p.reset_to_zero && hw.reset != fw::reset_zero)
        throw std::runtime_error("the network resets to zero, the tile " + hw.name +
                                 " by subtraction: add --hw-set neuron.reset=zero");
    const int32_t vth = static_cast<int32_t>(std::llround(std::ldexp(p.v_th, hw.membrane_frac_bits)));
    if (!fw::fits_signed(vth, hw.membrane_bits) || vth <= 0)
        throw std::runtime_error("v_th = " + std::to_string(p.v_th) + " is " + std::to_string(vth) +
                                 " LSBs, does not fit neuron.membrane_bits = " + std::to_string(hw.membrane_bits) +
                                 " with membrane_frac_bits = " + std::to_string(hw.membrane_frac_bits));
    net.lif = base_config(hw, p.alpha());
    net.lif.v_th = vth;
    net.lif.refractory = static_cast<uint8_t>(std::max(0, std::min(255, p.refractory)));
    net.alif = net.lif;
    net.alif.adaptive = true;
    net.alif.rho = decay_of(p.rho());
    net.alif.beta = static_cast<int32_t>(std::llround(std::ldexp(p.beta, hw.membrane_frac_bits)));
    net.readout = base_config(hw, p.kappa());
}

GroupLut make_group_lut(const GroupQuant& q, const HwConfig& hw, const char* group) {
    if (q.kind != hw.kind)
        throw std::runtime_error(std::string("group ") + group + ": weight kind " + kind_name(q.kind) +
                                 " differs from the tile's synapse.kind = " + kind_name(hw.kind));
    GroupLut g;
    g.kind = static_cast<fw::CodeKind>(q.kind);
    g.weight_bits = q.kind == WeightKind::uniform ? q.weight_bits : hw.weight_bits;
    if (q.kind == WeightKind::uniform && q.weight_bits != hw.weight_bits)
        throw std::runtime_error(std::string("group ") + group + ": weight_bits " + std::to_string(q.weight_bits) +
                                 " differs from the tile's synapse.weight_bits = " + std::to_string(hw.weight_bits));
    const std::string what = std::string("group ") + group + " weight";
    if (q.kind == WeightKind::uniform) {
        const int m = fw::max_signed(g.weight_bits);
        for (int c = -m; c <= m; ++c) g.stored.push_back(to_lut_value(q.scale * c, hw, what.c_str()));
    } else {
        for (double b : q.base) g.stored.push_back(to_lut_value(b, hw, what.c_str()));
    }
    g.expand();
    return g;
}

void check_fits(const TileNetwork& net, const HwConfig& hw) {
    const int64_t capacity = int64_t{hw.tiles()} * hw.neurons_per_tile();
    if (net.n_neurons() > capacity)
        throw std::runtime_error("network needs " + std::to_string(net.n_neurons()) + " neurons (" +
                                 std::to_string(net.n_rec) + " recurrent + " + std::to_string(net.n_out) +
                                 " readout), the mesh has " + std::to_string(capacity) +
                                 " (mesh tiles x tile.cores x tile.neurons_per_core)");
    if (net.n_addresses() - 1 > fw::max_unsigned(hw.address_bits))
        throw std::runtime_error("network needs " + std::to_string(net.n_addresses()) + " AER addresses, tile.address_bits = " +
                                 std::to_string(hw.address_bits) + " gives " +
                                 std::to_string(fw::max_unsigned(hw.address_bits) + 1));
    if (static_cast<int>(net.bias.size()) != net.n_neurons())
        throw std::runtime_error("network has " + std::to_string(net.bias.size()) + " bias registers for " +
                                 std::to_string(net.n_neurons()) + " neurons");
    if (net.n_luts() > hw.lut_groups)
        throw std::runtime_error("network has per-layer weight levels in " + std::to_string(net.n_luts()) +
                                 " LUTs, the tile has synapse.lut_groups = " + std::to_string(hw.lut_groups) +
                                 " (add --hw-set synapse.lut_groups=" + std::to_string(net.n_luts()) + ")");
    for (int j = 0; j < net.n_neurons(); ++j)
        if (static_cast<int>(net.fanin[j].size()) > hw.fanin)
            throw std::runtime_error("neuron " + std::to_string(j) + " needs " + std::to_string(net.fanin[j].size()) +
                                     " fan-in entries, above the CAM size synapse.fanin = K = " + std::to_string(hw.fanin));
}

TileNetwork network_without_synapses(const RsnnParams& p, const HwConfig& hw) {
    TileNetwork net;
    net.n_in = p.n_in;
    net.n_rec = p.n_rec;
    net.n_alif = p.n_alif;
    net.n_out = p.n_out;
    set_neuron_configs(p, hw, net);
    net.bias.assign(net.n_neurons(), 0);
    return net;
}

TileNetwork random_network(const HwConfig& hw, const RsnnParams& p, int fanin, uint64_t seed, double hidden_scale,
                           double readout_scale) {
    TileNetwork net = network_without_synapses(p, hw);
    GroupQuant q;
    q.kind = hw.kind;
    q.weight_bits = hw.weight_bits;
    const int m = hw.kind == WeightKind::uniform ? fw::max_signed(hw.weight_bits) : 1;
    q.scale = hidden_scale / m;
    q.base = {hidden_scale / 4, hidden_scale / 3, hidden_scale / 2, hidden_scale};
    net.hidden = make_group_lut(q, hw, "hidden");
    q.scale = readout_scale / m;
    q.base = {readout_scale / 4, readout_scale / 3, readout_scale / 2, readout_scale};
    net.out = make_group_lut(q, hw, "readout");

    std::mt19937_64 rng(seed);
    const auto kind = static_cast<fw::CodeKind>(hw.kind);
    const int cmin = fw::code_min(kind, hw.weight_bits), cmax = fw::code_max(kind, hw.weight_bits);
    std::uniform_int_distribution<int> code(cmin, cmax);
    net.fanin.resize(net.n_neurons());
    for (int j = 0; j < net.n_neurons(); ++j) {
        const bool ro = net.is_readout(j);
        const int lo = ro ? net.n_in : 0, hi = net.n_addresses() - 1;
        std::uniform_int_distribution<int> pre(lo, hi);
        const int k = std::min(fanin, hi - lo + 1);
        for (int e = 0; e < k; ++e) {
            int a = pre(rng);
            if (!ro && a == net.n_in + j) a = (a + 1 - lo) % (hi - lo + 1) + lo;  // no self-connection
            int c;
            do c = code(rng); while (!fw::code_valid(kind, hw.weight_bits, c) || (kind == fw::code_uniform && c == 0));
            net.fanin[j].push_back(EntryCode{a, c});
        }
    }
    return net;
}

}  // namespace qrsim
