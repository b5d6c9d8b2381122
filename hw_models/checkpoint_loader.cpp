#include "hw_models/checkpoint_loader.hpp"

#include <cmath>
#include <stdexcept>

namespace qrsim {
TileNetwork network_from_checkpoint(const Checkpoint& ck, const HwConfig& hw) {
    const CheckpointConstraint cc = constraint_from_extra(ck.extra);
    if (cc.spec.kind != hw.kind)
        throw std::runtime_error("checkpoint constraint kind " + to_string(cc.spec.kind) +
                                 " differs from the hw config's synapse.kind = " + to_string(hw.kind));
    if (cc.spec.fanin <= 0 || cc.spec.fanin > hw.fanin)
        throw std::runtime_error("checkpoint constraint fanin K=" + std::to_string(cc.spec.fanin) +
                                 " exceeds the tile's CAM size synapse.fanin = " + std::to_string(hw.fanin));
    const RsnnParams& p = ck.params;
    const RsnnWeights& w = ck.weights;
    TileNetwork net = network_without_synapses(p, hw);
    net.hidden = make_group_lut(cc.hidden, hw, "hidden");
    net.out = make_group_lut(cc.readout, hw, "readout");
    // Per-layer levels: layer l's neurons read LUT group 2 + l.
    if (!cc.layers.empty()) {
        if (cc.layers.back().first + cc.layers.back().neurons > p.n_rec)
            throw std::runtime_error("checkpoint extra.constraint.groups.layers covers neurons beyond the " +
                                     std::to_string(p.n_rec) + " recurrent ones");
        // Checked before the per-neuron LUT indices (uint8_t) are assigned.
        if (2 + cc.layers.size() > static_cast<size_t>(hw.lut_groups))
            throw std::runtime_error("checkpoint has per-layer weight levels in " + std::to_string(2 + cc.layers.size()) +
                                     " LUTs, the tile has synapse.lut_groups = " + std::to_string(hw.lut_groups) +
                                     " (add --hw-set synapse.lut_groups=" + std::to_string(2 + cc.layers.size()) + ")");
        net.layer_lut.assign(p.n_rec, 0);
        for (size_t l = 0; l < cc.layers.size(); ++l) {
            net.layer_luts.push_back(make_group_lut(cc.layers[l].quant, hw, "layer"));
            for (int j = cc.layers[l].first; j < cc.layers[l].first + cc.layers[l].neurons; ++j)
                net.layer_lut[j] = static_cast<uint8_t>(2 + l);
        }
    }
    net.fanin.resize(net.n_neurons());
    for (int j = 0; j < p.n_rec; ++j) {
        const GroupQuant& levels = cc.hidden_levels(j);
        for (int pre = 0; pre < p.n_in + p.n_rec; ++pre) {
            const double x = pre < p.n_in ? w.w_in(j, pre) : w.w_rec(j, pre - p.n_in);
            if (x != 0.0) decompose(levels, x, pre, net.fanin[j]);
        }
    }
    for (int o = 0; o < p.n_out; ++o)
        for (int j = 0; j < p.n_rec; ++j)
            if (w.w_out(o, j) != 0.0) decompose(cc.readout, w.w_out(o, j), p.n_in + j, net.fanin[p.n_rec + o]);
    // Bias registers in the membrane's fixed point (nearest).
    auto bias_register = [&](double value, const char* what, int index) {
        const long long b = std::llround(std::ldexp(value, hw.membrane_frac_bits));
        if (!fw::fits_signed(b, hw.membrane_bits))
            throw std::runtime_error(std::string(what) + " " + std::to_string(index) + " = " + std::to_string(value) +
                                     " does not fit neuron.membrane_bits = " + std::to_string(hw.membrane_bits));
        return static_cast<int32_t>(b);
    };
    if (w.b_rec.size() == p.n_rec)
        for (int j = 0; j < p.n_rec; ++j) net.bias[j] = bias_register(w.b_rec[j], "hidden bias", j);
    for (int o = 0; o < p.n_out; ++o) net.bias[p.n_rec + o] = bias_register(w.b_out[o], "readout bias", o);
    check_fits(net, hw);
    return net;
}

}  // namespace qrsim
