// The e-prop pieces of the firmware SDK; firmware/eprop_pieces.hpp has the equations.
#include "firmware/eprop_pieces.hpp"

#include "firmware/adam.hpp"
#include "firmware/eprop_kernels.hpp"
#include "firmware/quantized_rewiring.hpp"

namespace qrsim {
namespace fw {
namespace {

// Learned rows: hidden slots [0, n_rec) when `hidden`, readout slots [n_rec, n_slots) when `readout`.
inline bool row_learned(const LearnParams& p, uint32_t slot, bool hidden) {
    return slot < p.n_rec ? hidden : p.learn_readout != 0;
}

// Where the moments of accumulator i live (adam).
inline uint32_t moment_r_index(const LearnParams& p) { return p.n_slots() * p.K + p.n_out; }

// Block-scaled accumulators: the shared exponent of slot's row (slot n_slots: the biases).
inline uint32_t exponent_index(const LearnParams& p, uint32_t slot) { return p.n_slots() * p.K + p.n_out + slot; }
constexpr int32_t kMaxExponent = 63;  // 6 bits

}  // namespace

void accumulate_row(LearnContext& c, uint8_t update, uint32_t slot, uint32_t n, int32_t* acc, const int32_t* g) {
    const LearnParams& p = *c.p;
    if (!block_scaled(p, update)) {
        for (uint32_t e = 0; e < n; ++e) acc[e] = sat_add(acc[e], g[e], p.acc_bits);
        return;
    }
    int32_t ex;
    hal_read(c, lmem_accum, exponent_index(p, slot), 1, &ex);
    const int64_t limit = max_signed(p.acc_bits);
    int64_t worst = 0;
    for (uint32_t e = 0; e < n; ++e) {
        int64_t x = g[e];
        if (x != 0 && ex > 0) x = shift_round(x, ex, round_stochastic, c.lfsr.next());
        const int64_t s = sat_signed(int64_t{acc[e]} + x, 32);
        acc[e] = static_cast<int32_t>(s);
        worst = s < 0 ? (-s > worst ? -s : worst) : (s > worst ? s : worst);
    }
    const int32_t ex0 = ex;
    while (worst > limit && ex < kMaxExponent) {
        worst = 0;
        for (uint32_t e = 0; e < n; ++e) {
            if (acc[e] != 0) acc[e] = static_cast<int32_t>(shift_round(acc[e], 1, round_stochastic, c.lfsr.next()));
            const int64_t a = acc[e] < 0 ? -int64_t{acc[e]} : acc[e];
            if (a > worst) worst = a;
        }
        ++ex;
    }
    for (uint32_t e = 0; e < n; ++e) acc[e] = sat_signed(acc[e], p.acc_bits);
    if (ex != ex0) hal_write(c, lmem_accum, exponent_index(p, slot), 1, &ex);
}

namespace {

// The accumulated gradient of entry e from its mantissa and the row's exponent.
inline int64_t accumulated(int32_t acc, int32_t ex) { return int64_t{acc} * (int64_t{1} << ex); }

// Reads the row's exponent; without momentum it is cleared (the apply consumed the sum).
// 0 without block scaling.
int32_t take_exponent(LearnContext& c, uint8_t update, uint32_t slot) {
    const LearnParams& p = *c.p;
    if (!block_scaled(p, update)) return 0;
    int32_t ex;
    hal_read(c, lmem_accum, exponent_index(p, slot), 1, &ex);
    const int32_t zero = 0;
    if (ex != 0 && p.momentum == 0) hal_write(c, lmem_accum, exponent_index(p, slot), 1, &zero);
    return ex;
}

// What an apply leaves in a row's n accumulators (mantissas under exponent ex): nothing, or
// with momentum beta the sum times beta, to which the next batch adds its gradients. That is
// heavy-ball momentum (m = beta m + g) kept in the accumulators themselves: the sign mode
// becomes signum and accumulate momentum SGD without a bit more memory. Stochastic rounding
// keeps small carried sums alive in expectation; the row's exponent then shrinks while the
// mantissas have room to double, exactly, so a decaying sum regains its resolution.
void carry_row(LearnContext& c, uint8_t update, uint32_t slot, uint32_t n, int32_t* acc, int32_t ex) {
    const LearnParams& p = *c.p;
    if (p.momentum == 0) {
        for (uint32_t e = 0; e < n; ++e) acc[e] = 0;
        return;
    }
    int64_t worst = 0;
    for (uint32_t e = 0; e < n; ++e) {
        if (acc[e] != 0)
            acc[e] = static_cast<int32_t>(shift_round(int64_t{acc[e]} * p.momentum, 15, round_stochastic, c.lfsr.next()));
        const int64_t a = acc[e] < 0 ? -int64_t{acc[e]} : acc[e];
        if (a > worst) worst = a;
    }
    if (!block_scaled(p, update)) return;
    const int32_t ex0 = ex;
    while (ex > 0 && 2 * worst <= max_signed(p.acc_bits)) {
        for (uint32_t e = 0; e < n; ++e) acc[e] *= 2;
        worst *= 2;
        --ex;
    }
    if (ex != ex0) hal_write(c, lmem_accum, exponent_index(p, slot), 1, &ex);
}

// Rewires (and for the accumulating modes first applies) every learned row.
void apply_rows(LearnContext& c, uint8_t update, bool hidden, bool apply) {
    const LearnParams& p = *c.p;
    const QrLimits l = qr_limits(p);
    const bool adam = update == update_adam;
    const int32_t corr = apply && adam ? adam_correction(c.beta1_t, c.beta2_t) : 0;
    const bool redraw = apply && redraws_codes(p, update);
    const uint32_t R = moment_r_index(p);
    int32_t* h = c.s.row_a;
    int32_t* addr = c.s.row_b;
    int32_t* syn = c.s.row_c;
    int32_t* acc = c.s.row_d;
    int32_t* m = c.s.row_e;
    int32_t* r = c.s.row_e + p.K;
    for (uint32_t slot = 0; slot < p.n_slots(); ++slot) {
        if (!row_learned(p, slot, hidden)) continue;
        const bool readout = slot >= p.n_rec;
        qr_load_row(c, l, slot, h, addr, c.s.row_f);
        if (adam) {
            hal_read(c, lmem_moments, slot * p.K, p.K, m);
            hal_read(c, lmem_moments, R + slot * p.K, p.K, r);
        }
        if (apply) {
            hal_read(c, lmem_accum, slot * p.K, p.K, acc);
            const int32_t ex = take_exponent(c, update, slot);
            for (uint32_t e = 0; e < p.K; ++e) {
                if (acc[e] == 0 && !adam) continue;  // Adam's moments move without gradient too
                qr_update(c, l, slot, e, h, addr,
                          policy_step(c, update, accumulated(acc[e], ex), m[e], r[e], corr, readout ? p.readout_lr_mult : p.lr_mult,
                                     readout ? p.readout_lr_shift : p.lr_shift),
                          !redraw);
            }
            carry_row(c, update, slot, p.K, acc, ex);
            hal_write(c, lmem_accum, slot * p.K, p.K, acc);
        }
        const bool syn_row = !readout && p.placement == place_synapse;
        if (syn_row) hal_read(c, lmem_syn, slot * p.K, p.K, syn);
        const uint32_t moved = qr_rewire_row(c, l, slot, h, addr, syn_row ? syn : nullptr, adam ? c.s.row_e : nullptr);
        if (apply || moved) qr_store_row(c, l, slot, h, moved ? addr : nullptr, c.s.row_f);
        if (syn_row && moved) hal_write(c, lmem_syn, slot * p.K, p.K, syn);
        if (redraw) {
            hal_read(c, lmem_cam, slot * p.K, p.K, c.s.row_f);
            qr_write_row(c, l, slot, h, addr, c.s.row_f, true);
        }
        if (adam && (apply || moved)) {
            hal_write(c, lmem_moments, slot * p.K, p.K, m);
            hal_write(c, lmem_moments, R + slot * p.K, p.K, r);
        }
    }
    if (apply && p.learn_bias) {
        const uint32_t base = p.n_slots() * p.K;
        int32_t* b = c.s.out;
        int32_t* gb = c.s.out + p.n_out;
        hal_read(c, lmem_accum, base, p.n_out, gb);
        const int32_t ex = take_exponent(c, update, p.n_slots());
        hal_read(c, lmem_bias, p.n_rec, p.n_out, b);
        if (adam) {
            hal_read(c, lmem_moments, base, p.n_out, m);
            hal_read(c, lmem_moments, R + base, p.n_out, r);
        }
        for (uint32_t k = 0; k < p.n_out; ++k) {
            b[k] = sat_signed(b[k] + policy_step(c, update, accumulated(gb[k], ex), m[k], r[k], corr, p.bias_lr_mult, p.bias_lr_shift),
                              p.lif.v_bits);
        }
        carry_row(c, update, p.n_slots(), p.n_out, gb, ex);
        hal_write(c, lmem_bias, p.n_rec, p.n_out, b);
        hal_write(c, lmem_accum, base, p.n_out, gb);
        if (adam) {
            hal_write(c, lmem_moments, base, p.n_out, m);
            hal_write(c, lmem_moments, R + base, p.n_out, r);
        }
    }
}

}  // namespace

int64_t sgd_step(LearnContext& c, int64_t g, int32_t mult, uint8_t shift) {
    return shift_round(-g * mult, shift, round_stochastic, c.lfsr.next());
}

int64_t sign_step(LearnContext& c, int64_t g, int32_t mult, uint8_t shift) {
    return sgd_step(c, (g > 0) - (g < 0), mult, shift);
}

int64_t adam_step(LearnContext& c, int64_t g, int32_t& m, int32_t& r, int32_t corr, int32_t mult, uint8_t shift) {
    return shift_round(adam_moments_step(g, m, r, corr, mult), shift, round_stochastic, c.lfsr.next());
}

int64_t policy_step(LearnContext& c, uint8_t update, int64_t g, int32_t& m, int32_t& r, int32_t corr, int32_t mult,
                    uint8_t shift) {
    if (update == update_adam) return adam_step(c, g, m, r, corr, mult, shift);
    if (update == update_sign) return sign_step(c, g, mult, shift);
    return sgd_step(c, g, mult, shift);
}

void learn_init(LearnContext& c, uint8_t update, bool hidden) {
    const LearnParams& p = *c.p;
    c.lfsr.seed(lfsr_seed(p.seed, 0x1EA2u));
    c.samples_in_batch = 0;
    c.updates = 0;
    int32_t* cam = c.s.row_c;
    int32_t* h = c.s.row_a;
    int32_t* addr = c.s.row_b;
    int32_t* zero = c.s.row_d;
    const QrLimits l = qr_limits(p);
    for (uint32_t e = 0; e < p.K; ++e) zero[e] = 0;
    for (uint32_t slot = 0; slot < p.n_slots(); ++slot) {
        if (!row_learned(p, slot, hidden)) continue;
        hal_read(c, lmem_cam, slot * p.K, p.K, cam);
        qr_init_row(c, slot, cam, h, addr);
        qr_store_row(c, l, slot, h, addr, c.s.row_f);
        if (accumulating(update)) hal_write(c, lmem_accum, slot * p.K, p.K, zero);
        if (update == update_adam) {
            hal_write(c, lmem_moments, slot * p.K, p.K, zero);
            hal_write(c, lmem_moments, moment_r_index(p) + slot * p.K, p.K, zero);
        }
    }
    if (block_scaled(p, update))
        for (uint32_t slot = 0; slot <= p.n_slots(); ++slot) hal_write(c, lmem_accum, exponent_index(p, slot), 1, zero);
    c.beta1_t = c.beta2_t = kAdamOneQ30;
    if (accumulating(update) && p.learn_bias) {
        for (uint32_t k = 0; k < p.n_out; ++k) c.s.out[k] = 0;
        hal_write(c, lmem_accum, p.n_slots() * p.K, p.n_out, c.s.out);
        if (update == update_adam) {
            hal_write(c, lmem_moments, p.n_slots() * p.K, p.n_out, c.s.out);
            hal_write(c, lmem_moments, moment_r_index(p) + p.n_slots() * p.K, p.n_out, c.s.out);
        }
    }
}

void learn_finish(LearnContext& c, uint8_t update, bool hidden) {
    const LearnParams& p = *c.p;
    if (!redraws_codes(p, update)) return;  // the CAM holds the nearest codes already
    const QrLimits l = qr_limits(p);
    for (uint32_t slot = 0; slot < p.n_slots(); ++slot) {
        if (!row_learned(p, slot, hidden)) continue;
        qr_load_row(c, l, slot, c.s.row_a, c.s.row_b, c.s.row_f);
        hal_read(c, lmem_cam, slot * p.K, p.K, c.s.row_f);
        qr_write_row(c, l, slot, c.s.row_a, c.s.row_b, c.s.row_f, false);
    }
}

void learn_begin_sample(LearnContext& c, bool hidden) {
    const LearnParams& p = *c.p;
    const uint32_t A = p.n_addresses();
    int32_t* zero = c.s.addr_b;
    for (uint32_t i = 0; i < 2 * A + p.n_rec; ++i) zero[i] = 0;
    if (hidden) hal_write(c, lmem_pre, 0, A, zero);
    if (hidden && p.placement == place_presynaptic) hal_write(c, lmem_pre, A, A, zero);
    hal_write(c, lmem_pre, 2 * A, p.n_rec, zero);
    if (hidden) hal_write(c, lmem_post, 0, 2u * p.n_rec, zero);
    if (hidden && p.placement == place_synapse)
        for (uint32_t j = 0; j < p.n_rec + p.n_alif; ++j) hal_write(c, lmem_syn, j * p.K, p.K, zero);
    c.one_bar = 0;
}

void presynaptic_trace_step(LearnContext& c, bool hidden) {
    const LearnParams& p = *c.p;
    const uint32_t A = p.n_addresses();
    int32_t* eps = c.s.addr_b;
    int32_t* epsbar = c.s.addr_b + A;
    int32_t* zbar = c.s.addr_b + 2 * A;
    int32_t* z = c.s.neuron_a;
    if (hidden) {
        int32_t* events = c.s.addr_a;
        const uint32_t n = c.hal->event_count(c.hal->ctx);
        hal_read(c, lmem_events, 0, n, events);
        hal_read(c, lmem_pre, 0, A, eps);
        for (uint32_t a = 0; a < A; ++a) eps[a] = decay_trace(eps[a], p.lif.alpha, p, c.lfsr);
        const int32_t spike = int32_t{1} << p.eps_frac;
        for (uint32_t i = 0; i < n; ++i) eps[events[i]] = sat_signed(int64_t{eps[events[i]]} + spike, p.eps_bits);
        if (p.placement == place_presynaptic) {
            hal_read(c, lmem_pre, A, A, epsbar);
            for (uint32_t a = 0; a < A; ++a)
                epsbar[a] = sat_signed(decay_trace(epsbar[a], p.kappa, p, c.lfsr) +
                                           rescale(eps[a], p.eps_frac - p.bar_frac, p.trace_rounding, c.lfsr),
                                       p.bar_bits);
            hal_write(c, lmem_pre, A, A, epsbar);
        }
        hal_write(c, lmem_pre, 0, A, eps);
    }
    hal_read(c, lmem_z, 0, p.n_rec, z);
    hal_read(c, lmem_pre, 2 * A, p.n_rec, zbar);
    const int32_t one = int32_t{1} << p.bar_frac;
    for (uint32_t j = 0; j < p.n_rec; ++j)
        zbar[j] = sat_signed(int64_t{decay_trace(zbar[j], p.kappa, p, c.lfsr)} + (z[j] ? one : 0), p.bar_bits);
    hal_write(c, lmem_pre, 2 * A, p.n_rec, zbar);
}

void learn_entry_gradient(LearnContext& c, uint8_t update, uint32_t slot, int32_t* h, const int32_t* addr,
                          const int32_t* g, bool readout) {
    const LearnParams& p = *c.p;
    if (accumulating(update)) {
        int32_t* acc = c.s.row_d;
        hal_read(c, lmem_accum, slot * p.K, p.K, acc);
        accumulate_row(c, update, slot, p.K, acc, g);
        hal_write(c, lmem_accum, slot * p.K, p.K, acc);
        return;
    }
    const QrLimits l = qr_limits(p);
    bool changed = false;
    for (uint32_t e = 0; e < p.K; ++e) {
        if (g[e] == 0) continue;
        const int64_t dh = sgd_step(c, g[e], readout ? p.readout_lr_mult : p.lr_mult,
                                    readout ? p.readout_lr_shift : p.lr_shift);
        if (dh == 0) continue;
        qr_update(c, l, slot, e, h, addr, dh);
        changed = true;
    }
    if (changed) qr_store_row(c, l, slot, h, nullptr, c.s.row_f);
}

void readout_signal_step(LearnContext& c, uint8_t update, const int32_t* err) {
    const LearnParams& p = *c.p;
    const uint32_t A = p.n_addresses();
    const int32_t* zbar = c.s.addr_b + 2 * A;
    int32_t* h = c.s.row_a;
    int32_t* addr = c.s.row_b;
    int32_t* g = c.s.row_c;
    const QrLimits l = qr_limits(p);
    for (uint32_t k = 0; k < p.n_out; ++k) {
        const uint32_t slot = p.n_rec + k;
        if (p.learn_readout && err[k] != 0) {
            qr_load_row(c, l, slot, h, addr, c.s.row_f);
            for (uint32_t e = 0; e < p.K; ++e)
                g[e] = static_cast<int32_t>(
                    shift_round(int64_t{err[k]} * zbar[addr[e] - p.n_in], p.acc_shift, round_nearest, 0));
            learn_entry_gradient(c, update, slot, h, addr, g, true);
        }
        if (p.learn_bias) {
            const int64_t gb = shift_round(int64_t{err[k]} * c.one_bar, p.acc_shift, round_nearest, 0);
            if (accumulating(update)) {
                c.s.out[k] = static_cast<int32_t>(gb);  // y is spent: the biases accumulate as one row below
            } else {
                int32_t b;
                hal_read(c, lmem_bias, slot, 1, &b);
                b = sat_signed(b + sgd_step(c, gb, p.bias_lr_mult, p.bias_lr_shift), p.lif.v_bits);
                hal_write(c, lmem_bias, slot, 1, &b);
            }
        }
    }
    if (p.learn_bias && accumulating(update)) {
        int32_t* acc = c.s.neuron_a;  // n_slots >= n_out words, free until the learning signals
        hal_read(c, lmem_accum, p.n_slots() * p.K, p.n_out, acc);
        accumulate_row(c, update, p.n_slots(), p.n_out, acc, c.s.out);
        hal_write(c, lmem_accum, p.n_slots() * p.K, p.n_out, acc);
    }
}

void learn_end_sample(LearnContext& c, uint8_t update, bool hidden) {
    const LearnParams& p = *c.p;
    if (accumulating(update)) {
        if (++c.samples_in_batch < p.batch) return;
        c.samples_in_batch = 0;
        apply_rows(c, update, hidden, true);
    } else {
        apply_rows(c, update, hidden, false);
    }
    ++c.updates;
}

// The readout error of this step into c.s.out[n_out ..), after the one_bar filter
// advanced; false outside the readout window.
bool window_error(LearnContext& c, uint16_t t) {
    const LearnParams& p = *c.p;
    c.one_bar = sat_signed(int64_t{decay_trace(c.one_bar, p.kappa, p, c.lfsr)} + (int32_t{1} << p.bar_frac),
                           p.bar_bits);
    if (t < p.readout_begin) return false;
    int32_t* y = c.s.out;
    int32_t target;
    hal_read(c, lmem_v, p.n_rec, p.n_out, y);
    hal_read(c, lmem_target, 0, 1, &target);
    softmax_error(y, p.n_out, target, p.v_frac, c.s.out + p.n_out);
    return true;
}

const int32_t* pseudo_derivative_step(LearnContext& c) {
    const LearnParams& p = *c.p;
    const uint32_t N = p.n_rec;
    int32_t* v = c.s.neuron_a;
    int32_t* refr = c.s.neuron_b;
    int32_t* post = c.s.neuron_b + N;  // psibar [0, N), refractory of the last step [N, 2N)
    hal_read(c, lmem_v, 0, N, v);
    hal_read(c, lmem_refractory, 0, N, refr);
    hal_read(c, lmem_post, 0, 2 * N, post);
    // psi_j into v[j]: a step is refractory when the counter was non-zero after the last one.
    for (uint32_t j = 0; j < N; ++j) {
        int64_t th = p.lif.v_th;
        if (j >= p.first_alif() && post[N + j] == 0) {
            NeuronState s;
            hal_read(c, lmem_a, j, 1, &s.a);
            th = threshold(p.alif, s);
        }
        v[j] = post[N + j] > 0 ? 0 : pseudo_derivative(int64_t{v[j]} - th, p.lif.v_th, p.psi_shape, p.psi_bits);
        post[N + j] = refr[j];
        if (p.placement == place_presynaptic)
            post[j] = sat_signed(decay_trace(post[j], p.kappa, p, c.lfsr) +
                                     rescale(v[j], p.psi_bits - p.bar_frac, round_nearest, c.lfsr),
                                 p.bar_bits);
    }
    hal_write(c, lmem_post, 0, 2 * N, post);
    return v;
}

void synapse_trace_step(LearnContext& c, const int32_t* v) {
    const LearnParams& p = *c.p;
    const uint32_t N = p.n_rec;
    const int32_t* eps = c.s.addr_b;  // updated by presynaptic_trace_step
    int32_t* addr = c.s.row_b;
    int32_t* ebar = c.s.row_c;
    int32_t* eta = c.s.row_d;
    const int shift = p.psi_bits + p.eps_frac - p.bar_frac;
    for (uint32_t j = 0; j < N; ++j) {
        const bool alif = j >= p.first_alif();
        qr_load_addresses(c, j, addr, c.s.row_f);
        hal_read(c, lmem_syn, j * p.K, p.K, ebar);
        if (alif) hal_read(c, lmem_syn, p.adapt_index(j), p.K, eta);
        const int64_t psi = v[j];
        for (uint32_t e = 0; e < p.K; ++e) {
            const int64_t d = int64_t{eps[addr[e]]} - (alif ? eta[e] : 0);
            const bool drive = psi != 0 && d != 0;
            const int64_t in = drive ? rescale(psi * d, shift, p.trace_rounding, c.lfsr) : 0;
            ebar[e] = sat_signed(decay_trace(ebar[e], p.kappa, p, c.lfsr) + in, p.bar_bits);
            if (!alif) continue;
            // eta moves towards eps by c_j = gamma beta psi / v_th and leaks with rho.
            const int64_t towards = drive ? rescale(psi * p.adapt_gain * d, p.psi_bits + 16, p.trace_rounding, c.lfsr) : 0;
            eta[e] = sat_signed(decay_trace(eta[e], p.alif.rho, p, c.lfsr) + towards, p.eps_bits);
        }
        hal_write(c, lmem_syn, j * p.K, p.K, ebar);
        if (alif) hal_write(c, lmem_syn, p.adapt_index(j), p.K, eta);
    }
}

const int32_t* learning_signals(LearnContext& c, const int32_t* err) {
    const LearnParams& p = *c.p;
    const uint32_t N = p.n_rec;
    int32_t* L = c.s.neuron_a;
    for (uint32_t j = 0; j < N; ++j) L[j] = 0;
    if (p.feedback == feedback_symmetric) {
        // B = W_out^T, read from the readout group's CAM rows and LUT: no copy kept.
        const int lsize = lut_size(p.layout.kind, p.layout.weight_bits);
        hal_read(c, lmem_lut, static_cast<uint32_t>(p.lut_offset[1]), static_cast<uint32_t>(lsize), c.s.lut);
        int32_t* cam = c.s.row_c;
        for (uint32_t k = 0; k < p.n_out; ++k) {
            if (err[k] == 0) continue;
            hal_read(c, lmem_cam, (N + k) * p.K, p.K, cam);
            for (uint32_t e = 0; e < p.K; ++e) {
                const uint32_t entry = static_cast<uint32_t>(cam[e]);
                if (!entry_is_valid(p.layout, entry)) continue;
                const int32_t w = c.s.lut[lut_index(p.layout.kind, p.layout.weight_bits, entry_code(p.layout, entry))];
                const uint32_t j = static_cast<uint32_t>(entry_address(p.layout, entry)) - p.n_in;
                L[j] = sat_add(L[j], static_cast<int32_t>(shift_round(int64_t{w} * err[k], p.signal_shift, round_nearest, 0)), 32);
            }
        }
    } else {
        for (uint32_t j = 0; j < N; ++j)
            for (uint32_t k = 0; k < p.n_out; ++k)
                L[j] += static_cast<int32_t>(
                    shift_round(int64_t{feedback_weight(p.seed, j, k)} * err[k], p.signal_shift, round_nearest, 0));
    }
    for (uint32_t j = 0; j < N; ++j) L[j] = sat_signed(L[j], p.signal_bits);

    return L;
}

void hidden_gradients(LearnContext& c, uint8_t update, const int32_t* L) {
    const LearnParams& p = *c.p;
    const uint32_t N = p.n_rec, A = p.n_addresses();
    int32_t* psibar = c.s.neuron_b;
    if (p.placement == place_presynaptic) {
        hal_read(c, lmem_pre, A, A, c.s.addr_b + A);
        hal_read(c, lmem_post, 0, N, psibar);
    }
    const int32_t* epsbar = c.s.addr_b + A;
    // (1 - kappa) of the factorised trace, as the leak mode represents kappa.
    const int32_t one_minus_kappa = p.leak == leak_multiply ? 32768 - p.kappa.q15 : 32768 >> p.kappa.shift;
    int32_t* h = c.s.row_a;
    int32_t* addr = c.s.row_b;
    int32_t* g = c.s.row_c;
    const QrLimits l = qr_limits(p);
    for (uint32_t j = 0; j < N; ++j) {
        if (L[j] == 0) continue;
        if (p.placement == place_presynaptic && psibar[j] == 0) continue;
        qr_load_row(c, l, j, h, addr, c.s.row_f);
        if (p.placement == place_synapse) {
            hal_read(c, lmem_syn, j * p.K, p.K, g);
            for (uint32_t e = 0; e < p.K; ++e)
                g[e] = static_cast<int32_t>(shift_round(int64_t{L[j]} * g[e], p.acc_shift, round_nearest, 0));
        } else {
            for (uint32_t e = 0; e < p.K; ++e) {
                const int64_t tr = shift_round(int64_t{psibar[j]} * epsbar[addr[e]], p.bar_frac, round_nearest, 0);
                const int64_t filtered = shift_round(tr * one_minus_kappa, 15, round_nearest, 0);
                g[e] = static_cast<int32_t>(shift_round(int64_t{L[j]} * filtered, p.acc_shift, round_nearest, 0));
            }
        }
        learn_entry_gradient(c, update, j, h, addr, g, false);
    }
}

uint64_t learn_memory_bits(const LearnParams& p, uint8_t update, uint8_t mem, bool hidden) {
    const uint64_t A = p.n_addresses(), N = p.n_rec, K = p.K;
    const uint64_t rows = (hidden ? N : 0) + (p.learn_readout ? p.n_out : 0);
    switch (mem) {
        case lmem_pre:
            return (hidden ? A * p.eps_bits : 0) + (hidden && p.placement == place_presynaptic ? A * p.bar_bits : 0) +
                   N * p.bar_bits;
        case lmem_post:
            // psibar (presynaptic placement) and a 4-bit copy of the refractory counter
            return hidden ? N * ((p.placement == place_presynaptic ? p.bar_bits : 0) + 4u) : 0;
        case lmem_syn:
            return hidden && p.placement == place_synapse ? N * K * p.bar_bits + uint64_t{p.n_alif} * K * p.eps_bits : 0;
        case lmem_hidden:
            return rows * K * (p.hidden_in_cam() ? p.hidden_frac : p.hidden_bits + p.layout.address_bits);
        case lmem_accum:
            if (!accumulating(update)) return 0;
            return rows * K * p.acc_bits + (p.learn_bias ? p.n_out * p.acc_bits : 0) +
                   (block_scaled(p, update) ? (rows + (p.learn_bias ? 1 : 0)) * 6u : 0);  // 6-bit row exponents
        case lmem_moments: return update == update_adam ? 2 * (rows * K + (p.learn_bias ? p.n_out : 0)) * 32u : 0;
        default: return 0;
    }
}


}  // namespace fw
}  // namespace qrsim
