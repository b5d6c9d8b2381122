// sign-readout: a memory-frugal on-chip rule, built out of tree into its own firmware image.
//   scripts/build_rule rule.cpp -o sign_readout.elf
//   qrsim run --learn --hw dynapse2 --hw-set learn.firmware=sign_readout.elf
//
// Only the readout learns, from e-prop's exact readout gradient err_k[t] x zbar_j[t] (zbar:
// each recurrent neuron's spikes filtered by the readout's decay kappa). Per entry it keeps an
// accumulator of that gradient and, every learn.batch samples, moves the entry's hidden
// parameter a fixed `step` against the accumulator's sign (signSGD), then projects it onto
// the tile's codes (Quantized Rewiring) and lets dormant entries wander to new addresses.
// Learning memory: one trace per recurrent neuron, h's fraction and one accumulator per
// readout entry; no eligibility trace per synapse, no moments, no feedback matrix.
#include "firmware/eprop_pieces.hpp"  // the SDK's e-prop pieces: kernels, traces, Quantized Rewiring
#include "firmware/rule.hpp"

using namespace qrsim::fw;

namespace {

enum Setting : uint32_t { kStep, kBiasStep, kRewire };

const RuleInfo kInfo = {
    kRuleAbi,
    "sign-readout",
    "readout-only signSGD on e-prop's readout gradient err x zbar, with Quantized Rewiring of the readout's "
    "fan-in; recurrent weights fixed",
    supports(update_sign),
    supports(feedback_random),  // no learning signal: a feedback matrix would be ignored
    supports(place_presynaptic),
    3,
    {{"step", "sign step of a readout entry's hidden parameter, in hidden LSBs", 1, 256, 32, setting_integer},
     {"bias_step", "sign step of a readout bias, in membrane LSBs (0: biases fixed)", 0, 4096, 32, setting_integer},
     {"rewire", "dormant entries move to random recurrent addresses", 0, 1, 1, setting_boolean}}};

// Working memory, carved at init.
struct Buffers {
    int32_t *zbar, *z, *y, *err, *h, *addr, *acc, *work, *bias_grad;
};
Buffers g_buf;
int32_t g_one_bar;  // the kappa-filtered constant 1: the biases' eligibility

uint32_t scratch(const LearnParams& p) { return 2u * p.n_rec + 3u * p.n_out + 4u * p.K; }

uint32_t zbar_index(const LearnParams& p) { return 2 * p.n_addresses(); }  // lmem_pre's zbar plane
uint32_t bias_index(const LearnParams& p) { return p.n_slots() * p.K; }    // lmem_accum after the entries

void init(LearnContext& c) {
    const LearnParams& p = *c.p;
    int32_t* base = c.pool;
    auto take = [&base](uint32_t n) {
        int32_t* b = base;
        base += n;
        return b;
    };
    g_buf = {take(p.n_rec), take(p.n_rec), take(p.n_out), take(p.n_out), take(p.K),
             take(p.K),     take(p.K),     take(p.K),     take(p.n_out)};
    c.lfsr.seed(lfsr_seed(p.seed, 0x5167u));
    const QrLimits l = qr_limits(p);
    for (uint32_t e = 0; e < p.K; ++e) g_buf.acc[e] = 0;
    for (uint32_t slot = p.n_rec; slot < p.n_slots(); ++slot) {
        hal_read(c, lmem_cam, slot * p.K, p.K, g_buf.work);
        qr_init_row(c, slot, g_buf.work, g_buf.h, g_buf.addr);
        qr_store_row(c, l, slot, g_buf.h, g_buf.addr, g_buf.work);
        hal_write(c, lmem_accum, slot * p.K, p.K, g_buf.acc);
    }
    hal_write(c, lmem_accum, bias_index(p), p.n_out, g_buf.acc);
}

void begin_sample(LearnContext& c) {
    const LearnParams& p = *c.p;
    for (uint32_t j = 0; j < p.n_rec; ++j) g_buf.zbar[j] = 0;
    hal_write(c, lmem_pre, zbar_index(p), p.n_rec, g_buf.zbar);
    g_one_bar = 0;
}

void trace_step(LearnContext& c, uint16_t) {
    const LearnParams& p = *c.p;
    hal_read(c, lmem_z, 0, p.n_rec, g_buf.z);
    hal_read(c, lmem_pre, zbar_index(p), p.n_rec, g_buf.zbar);
    const int32_t one = int32_t{1} << p.bar_frac;
    for (uint32_t j = 0; j < p.n_rec; ++j)
        g_buf.zbar[j] = sat_signed(int64_t{decay_trace(g_buf.zbar[j], p.kappa, p, c.lfsr)} + (g_buf.z[j] ? one : 0), p.bar_bits);
    hal_write(c, lmem_pre, zbar_index(p), p.n_rec, g_buf.zbar);
}

void signal_step(LearnContext& c, uint16_t t) {
    const LearnParams& p = *c.p;
    g_one_bar = sat_signed(int64_t{decay_trace(g_one_bar, p.kappa, p, c.lfsr)} + (int32_t{1} << p.bar_frac), p.bar_bits);
    if (t < p.readout_begin) return;
    int32_t target;
    hal_read(c, lmem_v, p.n_rec, p.n_out, g_buf.y);
    hal_read(c, lmem_target, 0, 1, &target);
    hal_read(c, lmem_pre, zbar_index(p), p.n_rec, g_buf.zbar);
    softmax_error(g_buf.y, p.n_out, target, p.v_frac, g_buf.err);
    for (uint32_t k = 0; k < p.n_out; ++k) {
        const uint32_t slot = p.n_rec + k;
        qr_load_addresses(c, slot, g_buf.addr, g_buf.work);
        hal_read(c, lmem_accum, slot * p.K, p.K, g_buf.acc);
        for (uint32_t e = 0; e < p.K; ++e) {
            const int64_t g = shift_round(int64_t{g_buf.err[k]} * g_buf.zbar[g_buf.addr[e] - p.n_in], p.acc_shift,
                                          round_nearest, 0);
            g_buf.acc[e] = sat_signed(g_buf.acc[e] + g, p.acc_bits);
        }
        hal_write(c, lmem_accum, slot * p.K, p.K, g_buf.acc);
        g_buf.bias_grad[k] = static_cast<int32_t>(shift_round(int64_t{g_buf.err[k]} * g_one_bar, p.acc_shift, round_nearest, 0));
    }
    hal_read(c, lmem_accum, bias_index(p), p.n_out, g_buf.y);  // y is spent
    for (uint32_t k = 0; k < p.n_out; ++k) g_buf.y[k] = sat_add(g_buf.y[k], g_buf.bias_grad[k], p.acc_bits);
    hal_write(c, lmem_accum, bias_index(p), p.n_out, g_buf.y);
}

// The rule's own update: a fixed step in hidden LSBs, exact (the SDK's sign_step takes a
// rate as mult / 2^shift and rounds stochastically).
int32_t against_sign(int32_t g, int32_t step) { return g > 0 ? -step : (g < 0 ? step : 0); }

void end_sample(LearnContext& c) {
    const LearnParams& p = *c.p;
    if (++c.samples_in_batch < p.batch) return;
    c.samples_in_batch = 0;
    const QrLimits l = qr_limits(p);
    for (uint32_t slot = p.n_rec; slot < p.n_slots(); ++slot) {
        qr_load_row(c, l, slot, g_buf.h, g_buf.addr, g_buf.work);
        hal_read(c, lmem_accum, slot * p.K, p.K, g_buf.acc);
        for (uint32_t e = 0; e < p.K; ++e) {
            qr_update(c, l, slot, e, g_buf.h, g_buf.addr, against_sign(g_buf.acc[e], p.settings[kStep]));
            g_buf.acc[e] = 0;
        }
        const uint32_t moved = p.settings[kRewire] ? qr_rewire_row(c, l, slot, g_buf.h, g_buf.addr, nullptr) : 0;
        qr_store_row(c, l, slot, g_buf.h, moved ? g_buf.addr : nullptr, g_buf.work);
        hal_write(c, lmem_accum, slot * p.K, p.K, g_buf.acc);
    }
    hal_read(c, lmem_accum, bias_index(p), p.n_out, g_buf.bias_grad);
    hal_read(c, lmem_bias, p.n_rec, p.n_out, g_buf.y);
    for (uint32_t k = 0; k < p.n_out; ++k) {
        g_buf.y[k] = sat_signed(int64_t{g_buf.y[k]} + against_sign(g_buf.bias_grad[k], p.settings[kBiasStep]), p.lif.v_bits);
        g_buf.bias_grad[k] = 0;
    }
    hal_write(c, lmem_bias, p.n_rec, p.n_out, g_buf.y);
    hal_write(c, lmem_accum, bias_index(p), p.n_out, g_buf.bias_grad);
    ++c.updates;
}

uint64_t memory_bits(const LearnParams& p, uint8_t mem) {
    const uint64_t entries = uint64_t{p.n_out} * p.K;
    switch (mem) {
        case lmem_pre: return uint64_t{p.n_rec} * p.bar_bits;
        case lmem_hidden: return entries * (p.hidden_in_cam() ? p.hidden_frac : p.hidden_bits + p.layout.address_bits);
        case lmem_accum: return (entries + p.n_out) * p.acc_bits;
        default: return 0;
    }
}

const RuleOps kRule = {&kInfo, init, begin_sample, trace_step, signal_step, end_sample, nullptr, memory_bits, scratch};

}  // namespace

QRSIM_RULE(kRule);
