#include "hw_models/learning_engine.hpp"

#include "firmware/eprop_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qrsim {
namespace {

int ceil_log2(double x) {
    int b = 0;
    while (std::ldexp(1.0, b) < x) ++b;
    return b;
}

// f = mult / 2^shift with mult about 2^14 (f = 0: mult 0).
void to_mult_shift(double f, int32_t& mult, uint8_t& shift) {
    if (!(f > 0)) {
        mult = 0;
        shift = 0;
        return;
    }
    const int s = std::clamp(static_cast<int>(std::floor(std::log2(16384.0 / f))), 0, 62);
    mult = static_cast<int32_t>(std::min(std::llround(std::ldexp(f, s)), 2147483647LL));
    shift = static_cast<uint8_t>(s);
}

// The weight of code 1 of a group, in float weight units.
double unit_weight(const GroupLut& g, const HwConfig& hw) {
    const int32_t lsb = static_cast<int32_t>(fw::code_weight(g.kind, g.weight_bits, g.stored.data(), 1));
    if (lsb <= 0) throw std::runtime_error("learn: the weight of code 1 must be positive (LUT value " + std::to_string(lsb) + ")");
    return std::ldexp(static_cast<double>(lsb), -hw.membrane_frac_bits);
}

}  // namespace

fw::LearnParams make_learn_params(const HwConfig& hw, const TileNetwork& net, const RsnnParams& params,
                                  const TaskInfo& info, double lr_scale) {
    const LearnConfig& L = hw.learn;
    const std::string& o = hw.source;
    if (hw.tiles() != 1)
        throw std::runtime_error(o + ": on-chip learning needs the whole network on one tile (mesh.width = mesh.height = 1)");
    if (net.n_alif > 0)
        throw std::runtime_error("on-chip e-prop supports LIF hidden neurons only: set network.alif = 0 (" +
                                 std::to_string(net.n_alif) + " ALIF)");
    if (hw.kind != WeightKind::uniform && hw.kind != WeightKind::dynapse2)
        throw std::runtime_error(o + ": on-chip Quantized Rewiring supports synapse.kind uniform and dynapse2");
    if (net.n_luts() > 2)
        throw std::runtime_error("on-chip learning needs one hidden weight LUT; this network has per-layer levels");
    if (net.n_out > 64) throw std::runtime_error("on-chip learning supports at most 64 readout units");
    if (hw.trace_placement == TracePlacement::none)
        throw std::runtime_error(o + ": traces.placement = \"none\": the learning firmware needs trace memory "
                                     "(presynaptic or synapse)");
    if (info.readout_begin < 0 || info.readout_begin >= info.n_steps || info.n_steps > 65535)
        throw std::runtime_error("learn: task readout window out of range");

    fw::LearnParams p;
    p.n_in = static_cast<uint16_t>(net.n_in);
    p.n_rec = static_cast<uint16_t>(net.n_rec);
    p.n_out = static_cast<uint16_t>(net.n_out);
    p.K = static_cast<uint16_t>(hw.fanin);
    p.layout = hw.entry_layout();
    p.lut_offset[0] = 0;
    p.lut_offset[1] = fw::lut_size(p.layout.kind, p.layout.weight_bits);
    p.lif = net.lif;
    p.kappa = net.readout.alpha;
    p.leak = hw.leak;
    p.trace_rounding = L.trace_rounding;
    p.n_steps = static_cast<uint16_t>(info.n_steps);
    p.readout_begin = static_cast<uint16_t>(info.readout_begin);
    p.v_frac = static_cast<uint8_t>(hw.membrane_frac_bits);
    p.placement = hw.trace_placement == TracePlacement::synapse ? fw::place_synapse : fw::place_presynaptic;
    p.update = L.update == "stochastic" ? fw::update_stochastic
               : L.update == "sign"     ? fw::update_sign
               : L.update == "adam"     ? fw::update_adam
                                        : fw::update_accumulate;
    p.feedback = L.feedback == "symmetric" ? fw::feedback_symmetric : fw::feedback_random;
    p.psi_shape = L.pseudo_derivative == "linear" ? fw::psi_linear : fw::psi_pwc5;

    // Trace formats: eps up to 32 (6 integer bits with the sign), filtered traces up to 128.
    const int eps_bits = hw.trace_bits[0];
    const int bar_bits = hw.trace_bits.size() > 1 ? hw.trace_bits[1] : hw.trace_bits[0];
    if (eps_bits < 7 || bar_bits < 8)
        throw std::runtime_error(o + ": traces.bits = [" + std::to_string(eps_bits) + ", " + std::to_string(bar_bits) +
                                 "]: on-chip e-prop needs at least 7 bits for eps and 8 for the filtered traces");
    p.eps_bits = static_cast<uint8_t>(eps_bits);
    p.eps_frac = static_cast<uint8_t>(eps_bits - 6);
    p.bar_bits = static_cast<uint8_t>(bar_bits);
    p.bar_frac = static_cast<uint8_t>(bar_bits - 8);
    p.psi_bits = static_cast<uint8_t>(L.psi_bits);
    p.signal_bits = static_cast<uint8_t>(L.signal_bits);
    p.hidden_bits = static_cast<uint8_t>(L.hidden_bits);
    p.acc_bits = static_cast<uint8_t>(L.acc_bits);
    const int cmax = fw::code_max(p.layout.kind, p.layout.weight_bits);
    const int hf = L.hidden_bits - 1 - ceil_log2(cmax + 1.0);
    if (hf < 1)
        throw std::runtime_error(o + ": learn.hidden_bits = " + std::to_string(L.hidden_bits) + " leaves no fraction below one weight code (codes up to " +
                                 std::to_string(cmax) + " need at least " + std::to_string(ceil_log2(cmax + 1.0) + 2) + ")");
    p.hidden_frac = static_cast<uint8_t>(hf);
    p.batch = static_cast<uint16_t>(L.batch);
    p.rewire_shift = static_cast<uint8_t>(L.rewire_shift);
    p.seed = L.seed;

    // Fixed shifts that keep the learning signal and the accumulators in range.
    const int W = info.n_steps - info.readout_begin;
    int32_t max_lut = 1;
    for (int32_t v : net.out.table) max_lut = std::max(max_lut, std::abs(v));
    const double max_b = p.feedback == fw::feedback_symmetric ? 2.0 * max_lut : 127.0;
    p.signal_shift = static_cast<uint8_t>(std::max(0, ceil_log2(max_b) + 16 - (L.signal_bits - 1)));
    const int acc_shift = p.accumulates()
                              ? (L.signal_bits - 1) + (bar_bits - 1) + ceil_log2(double(W) * L.batch) - (L.acc_bits - 1)
                              : L.signal_bits + bar_bits - 2 - 30;
    p.acc_shift = static_cast<uint8_t>(std::max(0, acc_shift));

    // Learning rates. Sign and adam: steps of about `step` weight units (the float trainer's
    // signum and Adam learning rate). Otherwise the float trainer's SGD on the batch-mean gradient, dw = -lr g, in
    // hidden LSBs. The firmware's G relates to the float gradient g by a known factor:
    //   hidden:  G = g x W 2^15 cB 2^(bar_frac - signal_shift - acc_shift) v_th / gamma
    //   readout: G = g x W 2^(15 + bar_frac - acc_shift)
    // (err in Q15 without the float's 1/W; psi without gamma / v_th; B = cB x the float B).
    // Every rate is x lr_scale (the host's per-epoch decay).
    const double hidden_lsb = std::ldexp(1.0, -hf);
    const double v_lsb = std::ldexp(1.0, -hw.membrane_frac_bits);
    double hidden_rate, readout_rate, bias_rate;  // hidden / membrane LSBs per unit of G
    if (p.update == fw::update_sign || p.update == fw::update_adam) {
        hidden_rate = L.step / (unit_weight(net.hidden, hw) * hidden_lsb);
        readout_rate = L.step / (unit_weight(net.out, hw) * hidden_lsb);
        bias_rate = L.step / v_lsb;
    } else {
        const double cB = p.feedback == fw::feedback_symmetric ? std::ldexp(1.0, hw.membrane_frac_bits)
                                                               : 127.0 * std::sqrt(double(net.n_rec)) / std::sqrt(3.0);
        const double ch = W * 32768.0 * cB * std::ldexp(1.0, p.bar_frac - p.signal_shift - p.acc_shift) * params.v_th /
                          params.gamma;
        const double cr = W * std::ldexp(1.0, 15 + p.bar_frac - p.acc_shift);
        hidden_rate = L.learning_rate / (ch * unit_weight(net.hidden, hw) * hidden_lsb * L.batch);
        readout_rate = L.readout_learning_rate / (cr * unit_weight(net.out, hw) * hidden_lsb * L.batch);
        bias_rate = L.bias_learning_rate / (v_lsb * cr * L.batch);
    }
    to_mult_shift(hidden_rate * lr_scale, p.lr_mult, p.lr_shift);
    to_mult_shift(readout_rate * lr_scale, p.readout_lr_mult, p.readout_lr_shift);
    to_mult_shift(bias_rate * lr_scale, p.bias_lr_mult, p.bias_lr_shift);
    p.learn_hidden = p.learn_readout = p.learn_bias = 1;
    p.stochastic_weights = L.weight_rounding == "stochastic";
    return p;
}

Matrix firmware_feedback_matrix(const fw::LearnParams& p) {
    Matrix b(p.n_rec, p.n_out);
    const double scale = std::sqrt(3.0) / (127.0 * std::sqrt(double(p.n_rec)));
    for (int j = 0; j < p.n_rec; ++j)
        for (int k = 0; k < p.n_out; ++k) b(j, k) = scale * fw::feedback_weight(p.seed, j, k);
    return b;
}

LearningEngine::LearningEngine(const HwConfig& hw, const fw::LearnParams& params, TileAccess& tile)
    : hw_(hw), params_(params), tile_(tile), rule_(fw::find_rule(hw.learn.rule.c_str())) {
    if (!rule_) {
        std::string names;
        for (uint32_t i = 0; i < fw::rule_count(); ++i) names += std::string(i ? ", " : "") + fw::rule_at(i)->name;
        throw std::runtime_error(hw.source + ": learn.rule = \"" + hw.learn.rule + "\" is not a firmware rule (known: " +
                                 names + ")");
    }
    const int64_t total = [&] {
        int64_t t = 0;
        for (const auto& [name, b] : memory_bits()) t += b;
        return t;
    }();
    if (total > hw.learn.sram_bits)
        throw std::runtime_error(hw.source + ": capacity exceeded: learning memories need " + std::to_string(total) +
                                 " bits (rule " + rule_->name + "), learn.sram_bits = " +
                                 std::to_string(hw.learn.sram_bits));
    const uint32_t A = params_.n_addresses(), S = params_.n_slots(), K = params_.K, N = params_.n_rec;
    mem_[fw::lmem_pre].assign(2 * A + N, 0);
    mem_[fw::lmem_post].assign(2 * N, 0);
    mem_[fw::lmem_syn].assign(params_.placement == fw::place_synapse ? N * K : 0, 0);
    mem_[fw::lmem_hidden].assign(2 * S * K, 0);
    mem_[fw::lmem_accum].assign(S * K + params_.n_out, 0);
    mem_[fw::lmem_moments].assign(params_.update == fw::update_adam ? 2 * (S * K + params_.n_out) : 0, 0);

    scratch_.assign(fw::scratch_words(params_), 0);
    int32_t* s = scratch_.data();
    auto take = [&](uint32_t n) {
        int32_t* p = s;
        s += n;
        return p;
    };
    ctx_.s.addr_a = take(A);
    ctx_.s.addr_b = take(3 * A);
    ctx_.s.neuron_a = take(S);
    ctx_.s.neuron_b = take(3 * S);
    ctx_.s.row_a = take(K);
    ctx_.s.row_b = take(K);
    ctx_.s.row_c = take(K);
    ctx_.s.row_d = take(K);
    ctx_.s.row_e = take(2 * K);
    ctx_.s.row_f = take(K);
    ctx_.s.lut = take(static_cast<uint32_t>(fw::lut_size(params_.layout.kind, params_.layout.weight_bits)));
    ctx_.s.out = take(2u * params_.n_out);

    hal_ = fw::Hal{this, &hal_read, &hal_write, &hal_write_entry, &hal_clear_entry, &hal_event_count, &hal_count};
    ctx_.p = &params_;
    ctx_.hal = &hal_;
}

void LearningEngine::set_learning_rates(const fw::LearnParams& from) {
    params_.lr_mult = from.lr_mult;
    params_.lr_shift = from.lr_shift;
    params_.readout_lr_mult = from.readout_lr_mult;
    params_.readout_lr_shift = from.readout_lr_shift;
    params_.bias_lr_mult = from.bias_lr_mult;
    params_.bias_lr_shift = from.bias_lr_shift;
}

std::map<std::string, int64_t> LearningEngine::memory_bits() const {
    static const std::pair<fw::LearnMem, const char*> names[] = {
        {fw::lmem_pre, "learn.pre_traces"},     {fw::lmem_post, "learn.post_traces"},
        {fw::lmem_syn, "learn.syn_traces"},     {fw::lmem_hidden, "learn.hidden_params"},
        {fw::lmem_accum, "learn.accumulators"}, {fw::lmem_moments, "learn.adam_moments"}};
    std::map<std::string, int64_t> m;
    for (const auto& [mem, name] : names) m[name] = static_cast<int64_t>(rule_->memory_bits(params_, mem));
    m["learn.fw_scratch"] = int64_t{32} * fw::scratch_words(params_);
    m["learn.lfsr"] = 32;
    return m;
}

void LearningEngine::refuse(const std::string& what) {
    if (refused_++ == 0) first_refusal_ = what;
}

void LearningEngine::init() {
    if (rule_->init) rule_->init(ctx_);
}
void LearningEngine::begin_sample(int label) {
    label_ = label;
    if (rule_->begin_sample) rule_->begin_sample(ctx_);
}
void LearningEngine::trace_step(int t) {
    if (rule_->trace_step) rule_->trace_step(ctx_, static_cast<uint16_t>(t));
    if (observer_) observer_(t);
}
void LearningEngine::signal_step(int t) {
    if (rule_->signal_step) rule_->signal_step(ctx_, static_cast<uint16_t>(t));
}
void LearningEngine::end_sample() {
    if (rule_->end_sample) rule_->end_sample(ctx_);
}
void LearningEngine::finish() {
    if (rule_->finish) rule_->finish(ctx_);
}

uint64_t LearningEngine::bits_of(uint8_t mem, uint32_t index, uint32_t count) const {
    const fw::LearnParams& p = params_;
    const uint64_t n = count;
    // Elements of [index, index + count) inside the plane [lo, hi).
    auto in = [&](uint64_t lo, uint64_t hi) {
        const uint64_t a = std::max<uint64_t>(index, lo), b = std::min<uint64_t>(uint64_t{index} + count, hi);
        return b > a ? b - a : 0;
    };
    const uint64_t A = p.n_addresses(), N = p.n_rec, SK = uint64_t{p.n_slots()} * p.K;
    switch (mem) {
        case fw::lmem_cam: return n * fw::entry_bits(p.layout);
        case fw::lmem_events: return n * hw_.address_bits;
        case fw::lmem_v: return n * hw_.membrane_bits;
        case fw::lmem_a: return n * hw_.adaptation_bits;
        case fw::lmem_z: return n;
        case fw::lmem_refractory: return n * 4;
        case fw::lmem_lut: return n * hw_.lut_bits;
        case fw::lmem_bias: return n * hw_.membrane_bits;
        case fw::lmem_target: return n * std::max(1, ceil_log2(p.n_out));
        case fw::lmem_pre: return in(0, A) * p.eps_bits + in(A, 2 * A + N) * p.bar_bits;
        case fw::lmem_post: return in(0, N) * p.bar_bits + in(N, 2 * N) * 4;
        case fw::lmem_syn: return n * p.bar_bits;
        case fw::lmem_hidden: return in(0, SK) * p.hidden_bits + in(SK, 2 * SK) * p.layout.address_bits;
        case fw::lmem_accum:
        case fw::lmem_moments: return n * p.acc_bits;
        default: return 0;
    }
}

void LearningEngine::hal_read(void* ctx, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    e.counters_[Action::sram_read_bits] += e.bits_of(mem, index, count);
    switch (mem) {
        case fw::lmem_cam: {
            const int K = e.params_.K;
            for (uint32_t i = 0; i < count; ++i)
                dst[i] = static_cast<int32_t>(e.tile_.fanin_table().raw(static_cast<int>((index + i) / K),
                                                                        static_cast<int>((index + i) % K)));
            return;
        }
        case fw::lmem_events: {
            const auto& ev = e.tile_.step_events();
            for (uint32_t i = 0; i < count; ++i) dst[i] = static_cast<int32_t>(ev[index + i]);
            return;
        }
        case fw::lmem_v:
            for (uint32_t i = 0; i < count; ++i) dst[i] = e.tile_.neuron_state(static_cast<int>(index + i)).v;
            return;
        case fw::lmem_a:
            for (uint32_t i = 0; i < count; ++i) dst[i] = e.tile_.neuron_state(static_cast<int>(index + i)).a;
            return;
        case fw::lmem_z:
            for (uint32_t i = 0; i < count; ++i) dst[i] = e.tile_.neuron_state(static_cast<int>(index + i)).z;
            return;
        case fw::lmem_refractory:
            for (uint32_t i = 0; i < count; ++i) dst[i] = e.tile_.neuron_state(static_cast<int>(index + i)).refractory_left;
            return;
        case fw::lmem_lut: {
            const auto& lut = e.tile_.weight_lut();
            std::copy(lut.begin() + index, lut.begin() + index + count, dst);
            return;
        }
        case fw::lmem_bias:
            for (uint32_t i = 0; i < count; ++i) dst[i] = e.tile_.bias_of(static_cast<int>(index + i));
            return;
        case fw::lmem_target: dst[0] = e.label_; return;
        default: {
            const auto& m = e.mem_[mem];
            std::copy(m.begin() + index, m.begin() + index + count, dst);
        }
    }
}

void LearningEngine::hal_write(void* ctx, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    e.counters_[Action::sram_write_bits] += e.bits_of(mem, index, count);
    if (mem == fw::lmem_bias) {
        for (uint32_t i = 0; i < count; ++i) {
            try {
                e.tile_.write_bias(static_cast<int>(index + i), src[i]);
            } catch (const std::exception& ex) {
                e.refuse(ex.what());
            }
        }
        return;
    }
    if (mem < fw::lmem_pre || mem >= fw::lmem_count_) {
        e.refuse("firmware wrote to read-only memory " + std::to_string(mem));
        return;
    }
    std::copy(src, src + count, e.mem_[mem].begin() + index);
}

int LearningEngine::hal_write_entry(void* ctx, uint32_t slot, uint32_t entry, int32_t address, int32_t code) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    e.counters_[Action::sram_write_bits] += fw::entry_bits(e.params_.layout);
    try {
        e.tile_.fanin_table().write(static_cast<int>(slot), static_cast<int>(entry), address, code);
        return 0;
    } catch (const std::exception& ex) {
        e.refuse(ex.what());
        return 1;
    }
}

int LearningEngine::hal_clear_entry(void* ctx, uint32_t slot, uint32_t entry) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    e.counters_[Action::sram_write_bits] += 1;  // the valid bit
    try {
        e.tile_.fanin_table().clear(static_cast<int>(slot), static_cast<int>(entry));
        return 0;
    } catch (const std::exception& ex) {
        e.refuse(ex.what());
        return 1;
    }
}

uint32_t LearningEngine::hal_event_count(void* ctx) {
    return static_cast<uint32_t>(static_cast<LearningEngine*>(ctx)->tile_.step_events().size());
}

void LearningEngine::hal_count(void* ctx, uint8_t action, uint32_t n) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    switch (action) {
        case fw::lact_trace_update: e.counters_[Action::trace_update] += n; break;
        case fw::lact_fw_op: e.counters_[Action::fw_op] += n; break;
        case fw::lact_lfsr_draw: e.counters_[Action::lfsr_draw] += n; break;
        default: e.refuse("firmware counted unknown action " + std::to_string(action));
    }
}

}  // namespace qrsim
