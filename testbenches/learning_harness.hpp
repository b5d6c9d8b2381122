// What the on-chip learning testbenches share: the fmnist-rows set-up on a preset, the
// tile's weights read back as float matrices, cosines.
#pragma once

#include "hw_models/chip.hpp"
#include "hw_models/onchip_training.hpp"
#include "learning_rules/gradients.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace qrsim {
namespace harness {

// fmnist-rows, 128 recurrent neurons (the last n_alif of them ALIF), the dynapse2 preset
// (K = 64) with the given overrides.
struct Setup {
    HwConfig hw;
    RsnnParams p;
    std::unique_ptr<Task> task;
    TileNetwork net;

    Setup(std::vector<std::string> overrides, int train, int test, int n_alif = 0) {
        overrides.push_back("memory.sram_bits=8000000");  // room for per-synapse trace reservations
        hw = load_hw_config("dynapse2", overrides);
        TaskOptions to;
        to.train_samples = train;
        to.test_samples = test;
        task = make_task(to);
        p.n_in = task->info().n_inputs;
        p.n_rec = 128;
        p.n_alif = n_alif;
        p.n_out = task->info().n_classes;
        net = initial_tile_network(hw, p, 3);
    }
};

// The tile's weights as float matrices (LUT value x 2^-membrane_frac_bits, entries summed).
inline RsnnWeights tile_weights(Tile& tile, const TileNetwork& net, const HwConfig& hw) {
    RsnnWeights w;
    RsnnParams p;
    p.n_in = net.n_in;
    p.n_rec = net.n_rec;
    p.n_out = net.n_out;
    w.resize_zero(p);
    const auto& lut = tile.weight_lut();
    const int group = fw::lut_size(static_cast<fw::CodeKind>(hw.kind), hw.weight_bits);
    const double lsb = std::ldexp(1.0, -hw.membrane_frac_bits);
    FaninTable& f = tile.fanin_table();
    for (int s = 0; s < net.n_neurons(); ++s)
        for (int e = 0; e < hw.fanin; ++e) {
            if (!f.valid(s, e)) continue;
            const bool ro = net.is_readout(s);
            const double x = lsb * lut[(ro ? group : 0) + fw::lut_index(static_cast<fw::CodeKind>(hw.kind), hw.weight_bits, f.code(s, e))];
            const int a = f.address(s, e);
            if (ro) w.w_out(s - net.n_rec, a - net.n_in) += x;
            else if (a < net.n_in) w.w_in(s, a) += x;
            else w.w_rec(s, a - net.n_in) += x;
        }
    for (int k = 0; k < net.n_out; ++k) w.b_out[k] = lsb * tile.bias_of(net.n_rec + k);
    return w;
}

inline double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

}  // namespace harness
}  // namespace qrsim
