#include "hw_models/learning_engine.hpp"

#include "firmware/core_map.hpp"
#include "firmware/eprop_kernels.hpp"
#include "firmware/quantized_rewiring.hpp"
#include "hw_models/rule_catalog.hpp"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <cstring>
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

}  // namespace

double unit_weight(const GroupLut& g, const HwConfig& hw) {
    const int32_t lsb = static_cast<int32_t>(fw::code_weight(g.kind, g.weight_bits, g.stored.data(), 1));
    if (lsb <= 0) throw std::runtime_error("learn: the weight of code 1 must be positive (LUT value " + std::to_string(lsb) + ")");
    return std::ldexp(static_cast<double>(lsb), -hw.membrane_frac_bits);
}

namespace {

// What the on-chip firmware cannot run, refused with the key to change.
void check_learnable(const HwConfig& hw, const TileNetwork& net, const TaskInfo& info) {
    const std::string& o = hw.source;
    if (hw.tiles() != 1)
        throw std::runtime_error(o + ": on-chip learning needs the whole network on one tile (mesh.width = mesh.height = 1)");
    if (net.n_alif > 0 && hw.trace_placement != TracePlacement::synapse)
        throw std::runtime_error(o + ": " + std::to_string(net.n_alif) +
                                 " ALIF neurons learn on chip with traces.placement = \"synapse\" only: their "
                                 "adaptation eligibility is a trace per synapse (or set network.alif = 0)");
    if (hw.kind != WeightKind::uniform && hw.kind != WeightKind::dynapse2)
        throw std::runtime_error(o + ": on-chip Quantized Rewiring supports synapse.kind uniform and dynapse2");
    if (net.n_luts() > 2)
        throw std::runtime_error("on-chip learning needs one hidden weight LUT; this network has per-layer levels");
    // The firmware steps a dynapse2 code as a count of the smallest base (mask m weighs m s),
    // which holds for the ladder s, 2s, 4s, 8s up to the LUT's rounding of each base.
    for (const GroupLut* g : {&net.hidden, &net.out}) {
        if (g->kind != fw::code_dynapse2 || g->stored.size() != 4) continue;
        bool ladder = true;
        for (int b = 1; b < 4; ++b)
            ladder = ladder && std::abs(g->stored[b] - (g->stored[0] << b)) <= (1 << (b - 1));
        if (!ladder)
            throw std::runtime_error(
                std::string("learn: the network's ") + (g == &net.hidden ? "hidden" : "readout") + " dynapse2 bases (" +
                std::to_string(g->stored[0]) + ", " + std::to_string(g->stored[1]) + ", " + std::to_string(g->stored[2]) +
                ", " + std::to_string(g->stored[3]) +
                " LSB) are not the ladder s, 2s, 4s, 8s that the learning firmware assumes; train it with "
                "constraint.bases = \"ladder\" to learn on chip (the tile runs it without --learn)");
    }
    if (net.n_out > 64) throw std::runtime_error("on-chip learning supports at most 64 readout units");
    if (hw.trace_placement == TracePlacement::none)
        throw std::runtime_error(o + ": traces.placement = \"none\": the learning firmware needs trace memory "
                                     "(presynaptic or synapse)");
    if (info.readout_begin < 0 || info.readout_begin >= info.n_steps || info.n_steps > 65535)
        throw std::runtime_error("learn: task readout window out of range");
}

// Shapes, the network's neuron formats (and the ALIF adaptation gain), the rule the config
// names with what it implements of the shared choices and its own settings, and the modes.
void set_shapes_and_modes(fw::LearnParams& p, const HwConfig& hw, const TileNetwork& net, const RsnnParams& params,
                          const TaskInfo& info) {
    const LearnConfig& L = hw.learn;
    p.n_in = static_cast<uint16_t>(net.n_in);
    p.n_rec = static_cast<uint16_t>(net.n_rec);
    p.n_out = static_cast<uint16_t>(net.n_out);
    p.K = static_cast<uint16_t>(hw.fanin);
    p.layout = hw.entry_layout();
    p.lut_offset[0] = 0;
    p.lut_offset[1] = fw::lut_size(p.layout.kind, p.layout.weight_bits);
    p.lif = net.lif;
    p.alif = net.alif;
    p.n_alif = static_cast<uint16_t>(net.n_alif);
    const double adapt_gain = std::ldexp(params.gamma * params.beta / params.v_th, 16);
    if (net.n_alif > 0 && !(adapt_gain >= 1 && adapt_gain < 2147483648.0))
        throw std::runtime_error("learn: network.beta = " + std::to_string(params.beta) +
                                 " gives an adaptation eligibility gain gamma beta / v_th outside [2^-16, 2^15)");
    p.adapt_gain = net.n_alif > 0 ? static_cast<int32_t>(std::llround(adapt_gain)) : 0;
    p.kappa = net.readout.alpha;
    p.leak = hw.leak;
    p.trace_rounding = L.trace_rounding;
    p.n_steps = static_cast<uint16_t>(info.n_steps);
    p.readout_begin = static_cast<uint16_t>(info.readout_begin);
    p.v_frac = static_cast<uint8_t>(hw.membrane_frac_bits);
    // The rule decides what it implements of the shared choices, and takes its own settings.
    const RuleChoice rule = choose_rule(hw);
    p.placement = rule.placement;
    p.update = rule.update;
    p.feedback = rule.feedback;
    std::copy(std::begin(rule.settings), std::end(rule.settings), std::begin(p.settings));
    p.psi_shape = L.pseudo_derivative == "linear" ? fw::psi_linear : fw::psi_pwc5;
    p.batch = static_cast<uint16_t>(L.batch);
    if (L.momentum > 0 && p.update != fw::update_sign && p.update != fw::update_accumulate)
        throw std::runtime_error(hw.source + ": learn.momentum = " + std::to_string(L.momentum) +
                                 " needs learn.update = \"sign\" or \"accumulate\", whose accumulators carry it (adam keeps "
                                 "its own moments, stochastic has no accumulators)");
    p.momentum = static_cast<uint16_t>(std::lround(L.momentum * 32768.0));
    p.rewire_shift = static_cast<uint8_t>(L.rewire_shift);
    p.seed = L.seed;
    p.learn_readout = p.learn_bias = 1;
    p.stochastic_weights = L.weight_rounding == "stochastic";
    p.hidden_store = L.hidden_store == "shadow" ? fw::store_shadow : fw::store_cam;
}

// Trace formats (eps up to 32: 6 integer bits with the sign; filtered traces up to 128), the
// learning signal, h and the accumulators; refused when no fraction is left to learn in.
void set_number_formats(fw::LearnParams& p, const HwConfig& hw) {
    const LearnConfig& L = hw.learn;
    const std::string& o = hw.source;
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
    // With h in the CAM (stochastic) the fraction may be empty: updates round to whole codes.
    if (hf < (p.update == fw::update_stochastic ? 0 : 1))
        throw std::runtime_error(o + ": learn.hidden_bits = " + std::to_string(L.hidden_bits) + " leaves no fraction below one weight code (codes up to " +
                                 std::to_string(cmax) + " need at least " + std::to_string(ceil_log2(cmax + 1.0) + 2) + ")");
    p.hidden_frac = static_cast<uint8_t>(hf);
}

// Fixed shifts that keep the learning signal and the accumulators in range.
void set_range_shifts(fw::LearnParams& p, const HwConfig& hw, const TileNetwork& net, const TaskInfo& info) {
    const LearnConfig& L = hw.learn;
    const int W = info.n_steps - info.readout_begin;
    int32_t max_lut = 1;
    for (int32_t v : net.out.table) max_lut = std::max(max_lut, std::abs(v));
    const double max_b = p.feedback == fw::feedback_symmetric ? 2.0 * max_lut : 127.0;
    p.signal_shift = static_cast<uint8_t>(std::max(0, ceil_log2(max_b) + 16 - (L.signal_bits - 1)));
    const int acc_shift = p.accumulates()
                              ? (L.signal_bits - 1) + (p.bar_bits - 1) + ceil_log2(double(W) * L.batch) - 31
                              : L.signal_bits + p.bar_bits - 2 - 30;
    p.acc_shift = static_cast<uint8_t>(std::max(0, acc_shift));
}

// Learning rates. Sign and adam: steps of about `step` weight units (the float trainer's
// signum and Adam learning rate). Otherwise the float trainer's SGD on the batch-mean
// gradient, dw = -lr g, in hidden LSBs. The firmware's G relates to the float gradient g by a
// known factor:
//   hidden:  G = g x W 2^15 cB 2^(bar_frac - signal_shift - acc_shift) v_th / gamma
//   readout: G = g x W 2^(15 + bar_frac - acc_shift)
// (err in Q15 without the float's 1/W; psi without gamma / v_th; B = cB x the float B).
// Every rate is x lr_scale (the host's per-epoch decay).
void set_learning_rates(fw::LearnParams& p, const HwConfig& hw, const TileNetwork& net, const RsnnParams& params,
                        const TaskInfo& info, double lr_scale) {
    const LearnConfig& L = hw.learn;
    const int W = info.n_steps - info.readout_begin;
    const double hidden_lsb = std::ldexp(1.0, -p.hidden_frac);
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
}

}  // namespace

fw::LearnParams make_learn_params(const HwConfig& hw, const TileNetwork& net, const RsnnParams& params,
                                  const TaskInfo& info, double lr_scale) {
    check_learnable(hw, net, info);
    fw::LearnParams p;
    set_shapes_and_modes(p, hw, net, params, info);
    set_number_formats(p, hw);
    set_range_shifts(p, hw, net, info);
    set_learning_rates(p, hw, net, params, info, lr_scale);
    return p;
}

Matrix firmware_feedback_matrix(const fw::LearnParams& p) {
    Matrix b(p.n_rec, p.n_out);
    const double scale = std::sqrt(3.0) / (127.0 * std::sqrt(double(p.n_rec)));
    for (int j = 0; j < p.n_rec; ++j)
        for (int k = 0; k < p.n_out; ++k) b(j, k) = scale * fw::feedback_weight(p.seed, j, k);
    return b;
}

const char* learn_hook_name(LearnHook h) {
    static const char* names[] = {"init", "begin_sample", "trace_step", "signal_step", "end_sample", "finish", "set_rates"};
    return names[static_cast<int>(h)];
}

namespace {

const char* memory_name(uint8_t mem) {
    static const char* names[] = {"cam",        "events",     "v",         "a",         "z",
                                  "refractory", "lut",        "bias",      "target",    "pre_traces",
                                  "post_traces", "syn_traces", "hidden_params", "accumulators", "adam_moments"};
    return mem < fw::lmem_count_ ? names[mem] : "?";
}


}  // namespace

LearningEngine::LearningEngine(const HwConfig& hw, const fw::LearnParams& params, TileAccess& tile)
    : hw_(hw), params_(params), tile_(tile) {
    const bool native = hw.learn.core == "native";
    if (!native) {
        timing_ = load_core_timing(hw.learn.timing);
        if (!std::filesystem::exists(hw.learn.firmware))
            throw std::runtime_error(hw.learn.firmware + ": firmware image not found (learn.firmware; the build makes it "
                                     "with riscv64-unknown-elf-g++, which scripts/setup installs; or set learn.core = \"native\")");
        image_ = std::make_unique<ElfImage>(load_elf_image(hw.learn.firmware));
    }
    info_ = choose_rule(hw, native ? builtin_rules() : image_rules(*image_)).info;
    if (native) {
        rule_ = fw::find_rule(info_.name);
        for (uint8_t m = 0; m < fw::lmem_count_; ++m) rule_bits_[m] = rule_->memory_bits ? rule_->memory_bits(params_, m) : 0;
        scratch_words_ = rule_->scratch_words ? rule_->scratch_words(params_) : 0;
    } else {
        hook_entry_ = image_->symbol("qrsim_hook_entry");
        idle_ = image_->symbol("qrsim_idle");
        core_ = std::make_unique<Rv32Core>(*image_, static_cast<uint32_t>(hw.learn.rom_bytes),
                                           static_cast<uint32_t>(hw.learn.ram_bytes), *this);
        mailbox_.assign(fw::core_map::mmio_size / 4, 0);
        std::memcpy(reinterpret_cast<char*>(mailbox_.data()) + fw::core_map::mb_rule_name, info_.name,
                    std::strlen(info_.name) + 1);
        std::memcpy(reinterpret_cast<char*>(mailbox_.data()) + fw::core_map::mb_params, &params_, sizeof(params_));
        // Reset: startup code (stack, .data, .bss) runs once, up to the idle loop.
        const Rv32Core::Result boot = core_->run(image_->entry, idle_, static_cast<uint64_t>(hw.learn.hook_budget));
        if (!boot.ok) throw std::runtime_error(hw.learn.firmware + ": firmware core fault at reset: " + boot.fault);
        describe_on_core();
        if (hw.learn.profile) core_->enable_profile();
    }
    int64_t total = 0;
    for (const auto& [name, b] : memory_bits()) total += b;
    if (total > hw.learn.sram_bits)
        throw std::runtime_error(hw.source + ": capacity exceeded: learning memories need " + std::to_string(total) +
                                 " bits (rule " + info_.name + "), learn.sram_bits = " + std::to_string(hw.learn.sram_bits));
    const uint32_t A = params_.n_addresses(), S = params_.n_slots(), K = params_.K, N = params_.n_rec;
    mem_[fw::lmem_pre].assign(2 * A + N, 0);
    mem_[fw::lmem_post].assign(2 * N, 0);
    mem_[fw::lmem_syn].assign(params_.placement == fw::place_synapse ? (N + params_.n_alif) * K : 0, 0);
    mem_[fw::lmem_hidden].assign(params_.hidden_in_cam() ? (params_.hidden_frac > 0 ? S * K : 0) : 2 * S * K, 0);
    mem_[fw::lmem_accum].assign(S * K + params_.n_out + (params_.block_scaled() ? S + 1 : 0), 0);
    mem_[fw::lmem_moments].assign(params_.update == fw::update_adam ? 2 * (S * K + params_.n_out) : 0, 0);
    for (uint8_t m = fw::lmem_pre; m < fw::lmem_count_; ++m) {
        PlaneFormat& f = planes_[m];
        f.boundary = m == fw::lmem_pre                                  ? A
                     : m == fw::lmem_post                               ? N
                     : m == fw::lmem_syn                                ? N * K
                     : m == fw::lmem_hidden && !params_.hidden_in_cam() ? S * K
                     : m == fw::lmem_accum && params_.block_scaled()    ? S * K + params_.n_out
                                                                        : UINT32_MAX;
        f.lower_bits = static_cast<uint8_t>(bits_of(m, 0, 1));
        f.upper_bits = f.boundary == UINT32_MAX ? f.lower_bits : static_cast<uint8_t>(bits_of(m, f.boundary, 1));
        f.upper_unsigned = m == fw::lmem_post || m == fw::lmem_hidden || m == fw::lmem_accum;
    }

    const uint64_t scratch_bytes = 4ull * scratch_words_;
    if (native) {
        if (scratch_bytes > static_cast<uint64_t>(hw.learn.ram_bytes))
            throw std::runtime_error(hw.source + ": the firmware's working buffers need " + std::to_string(scratch_bytes) +
                                     " bytes, learn.ram_bytes = " + std::to_string(hw.learn.ram_bytes));
        scratch_.assign(scratch_words_, 0);
        hal_ = fw::Hal{this, &hal_read, &hal_write, &hal_write_entry, &hal_clear_entry, &hal_event_count};
        ctx_.p = &params_;
        ctx_.hal = &hal_;
        ctx_.pool = scratch_.data();
        ctx_.pool_words = scratch_words_;
        return;
    }

    // The core reaches memory m through a window of region_words words; a larger memory
    // could not be addressed whole, and its tail would alias the next memory's window.
    for (uint8_t m = 0; m < fw::lmem_count_; ++m) {
        const uint32_t words = m == fw::lmem_events ? A : region_size(m);
        if (words > fw::core_map::region_words)
            throw std::runtime_error(hw.source + ": learning core memory " + memory_name(m) + " needs " +
                                     std::to_string(words) + " words, more than the " +
                                     std::to_string(fw::core_map::region_words) +
                                     " of its window in the core's address map (firmware/core_map.hpp); use "
                                     "learn.core = \"native\", fewer neurons or a smaller synapse.fanin");
    }
    if (image_->ram_bytes + scratch_bytes > static_cast<uint64_t>(hw.learn.ram_bytes))
        throw std::runtime_error(hw.learn.firmware + ": the firmware needs " + std::to_string(image_->ram_bytes) +
                                 " bytes of RAM (stack, data) + " + std::to_string(scratch_bytes) +
                                 " of working buffers, learn.ram_bytes = " + std::to_string(hw.learn.ram_bytes));
}

void LearningEngine::describe_on_core() {
    namespace map = fw::core_map;
    mailbox_[map::mb_hook / 4] = map::hook_describe;
    mailbox_[map::mb_status / 4] = 0xFFFFFFFFu;
    const Rv32Core::Result r = core_->run(hook_entry_, idle_, static_cast<uint64_t>(hw_.learn.hook_budget));
    if (!r.ok) throw std::runtime_error(hw_.learn.firmware + ": firmware core fault describing rule " + info_.name + ": " + r.fault);
    if (mailbox_[map::mb_status / 4] != map::status_ok)
        throw std::runtime_error(hw_.learn.firmware + ": the firmware does not describe rule " + info_.name + " (status " +
                                 std::to_string(mailbox_[map::mb_status / 4]) + ")");
    for (uint32_t m = 0; m < fw::lmem_count_; ++m)
        rule_bits_[m] = mailbox_[(map::mb_memory_bits + 8 * m) / 4] |
                        uint64_t{mailbox_[(map::mb_memory_bits + 8 * m + 4) / 4]} << 32;
    scratch_words_ = mailbox_[map::mb_scratch_words / 4];
}

LearningEngine::~LearningEngine() = default;

void LearningEngine::fail(const std::string& what) {
    if (error_.empty()) error_ = what;
}

void LearningEngine::throw_if_error() const {
    if (!error_.empty()) throw std::runtime_error(error_);
}

void LearningEngine::run_hook(LearnHook h, uint32_t arg) {
    if (!error_.empty()) return;
    HookStats& st = hooks_[static_cast<int>(h)];
    ++st.calls;
    if (!core_) {
        std::string err;
        switch (h) {
            case LearnHook::init: if (rule_->init) rule_->init(ctx_); break;
            case LearnHook::begin_sample: if (rule_->begin_sample) rule_->begin_sample(ctx_); break;
            case LearnHook::trace_step: if (rule_->trace_step) rule_->trace_step(ctx_, static_cast<uint16_t>(arg)); break;
            case LearnHook::signal_step: if (rule_->signal_step) rule_->signal_step(ctx_, static_cast<uint16_t>(arg)); break;
            case LearnHook::end_sample: if (rule_->end_sample) rule_->end_sample(ctx_); break;
            case LearnHook::finish: if (rule_->finish) rule_->finish(ctx_); break;
            default: break;
        }
        if (!error_.empty()) error_ = std::string("firmware error in hook ") + learn_hook_name(h) + ": " + error_;
        return;
    }
    namespace map = fw::core_map;
    mailbox_[map::mb_hook / 4] = static_cast<uint32_t>(h);
    mailbox_[map::mb_arg / 4] = arg;
    mailbox_[map::mb_status / 4] = 0xFFFFFFFFu;
    const InstrCounts before = core_->counts();
    const uint64_t ram_before = core_->ram_accesses();
    const Rv32Core::Result r = core_->run(hook_entry_, idle_, static_cast<uint64_t>(hw_.learn.hook_budget));
    const InstrCounts spent = core_->counts() - before;
    const uint64_t cycles = timing_.cycles(spent);
    st.instructions += spent;
    st.cycles += cycles;
    st.max_cycles = std::max(st.max_cycles, cycles);
    counters_[Action::core_instr] += spent.total();
    counters_[Action::core_ram_access] += core_->ram_accesses() - ram_before;
    if (h == LearnHook::trace_step || h == LearnHook::signal_step) step_cycles_ += cycles;
    else sample_cycles_ += cycles;
    if (!r.ok) {
        fail(std::string("firmware core fault in hook ") + learn_hook_name(h) + ": " + r.fault);
        return;
    }
    const uint32_t status = mailbox_[map::mb_status / 4], detail = mailbox_[map::mb_detail / 4];
    switch (status) {
        case map::status_ok: break;
        case map::status_unknown_rule:
            fail(hw_.learn.firmware + ": the firmware image has no rule named \"" + std::string(info_.name) + "\" (learn.rule)");
            break;
        case map::status_scratch_full:
            fail(hw_.learn.firmware + ": the firmware's working buffers need " + std::to_string(detail) +
                 " bytes more RAM than learn.ram_bytes = " + std::to_string(hw_.learn.ram_bytes) + " leaves");
            break;
        default:
            fail(std::string("firmware hook ") + learn_hook_name(h) + " returned status " + std::to_string(status) +
                 " (detail " + std::to_string(detail) + ")");
    }
}

void LearningEngine::set_learning_rates(const fw::LearnParams& from) {
    fw::copy_learning_rates(params_, from);
    if (core_) {
        std::memcpy(reinterpret_cast<char*>(mailbox_.data()) + fw::core_map::mb_params, &params_, sizeof(params_));
        run_hook(LearnHook::set_rates, 0);
        throw_if_error();
    }
}

uint32_t LearningEngine::updates() const {
    return core_ ? mailbox_[fw::core_map::mb_updates / 4] : ctx_.updates;
}

std::map<std::string, int64_t> LearningEngine::memory_bits() const {
    static const std::pair<fw::LearnMem, const char*> names[] = {
        {fw::lmem_pre, "learn.pre_traces"},     {fw::lmem_post, "learn.post_traces"},
        {fw::lmem_syn, "learn.syn_traces"},     {fw::lmem_hidden, "learn.hidden_params"},
        {fw::lmem_accum, "learn.accumulators"}, {fw::lmem_moments, "learn.adam_moments"}};
    std::map<std::string, int64_t> m;
    for (const auto& [mem, name] : names) m[name] = static_cast<int64_t>(rule_bits_[mem]);
    // The core's data RAM holds the rule's working buffers, the stack and the firmware's state.
    m["learn.scratch"] = 32 * static_cast<int64_t>(scratch_words_);
    m["learn.core_ram"] = std::max<int64_t>(0, 8 * hw_.learn.ram_bytes - m["learn.scratch"]);
    m["learn.core_rom"] = 8 * hw_.learn.rom_bytes;
    return m;
}

void LearningEngine::refuse(const std::string& what) {
    if (refused_++ == 0) first_refusal_ = what;
}

void LearningEngine::init() {
    run_hook(LearnHook::init, 0);
    throw_if_error();
}
void LearningEngine::begin_sample(int label) {
    label_ = label;
    run_hook(LearnHook::begin_sample, 0);
    throw_if_error();
}
void LearningEngine::trace_step(int t) {
    run_hook(LearnHook::trace_step, static_cast<uint32_t>(t));
    if (observer_ && error_.empty()) observer_(t);
}
void LearningEngine::signal_step(int t) { run_hook(LearnHook::signal_step, static_cast<uint32_t>(t)); }
void LearningEngine::end_sample() {
    run_hook(LearnHook::end_sample, 0);
    throw_if_error();
}
void LearningEngine::finish() {
    run_hook(LearnHook::finish, 0);
    throw_if_error();
}

uint64_t LearningEngine::end_step() {
    const uint64_t c = step_cycles_;
    step_cycles_ = 0;
    if (!core_) return 0;
    const double ps = static_cast<double>(c) * 1e12 / hw_.learn.clock_hz;
    const double period_ps = static_cast<double>(hw_.step_ns) * 1e3;
    ++steps_.steps;
    steps_.busy_cycles += c;
    steps_.worst_cycles = std::max(steps_.worst_cycles, c);
    if (ps > period_ps) {
        ++steps_.over;
        steps_.excess_cycles += c - static_cast<uint64_t>(period_ps * 1e-12 * hw_.learn.clock_hz);
        if (hw_.learn.realtime == "error")
            fail("learning of a step takes " + std::to_string(c) + " cycles = " + std::to_string(ps * 1e-6) +
                 " us at learn.clock_hz = " + std::to_string(hw_.learn.clock_hz) + ", longer than the step (" +
                 std::to_string(hw_.step_ns / 1000.0) + " us; learn.realtime = \"error\")");
    }
    return static_cast<uint64_t>(ps);
}

uint64_t LearningEngine::take_sample_cycles() {
    const uint64_t c = sample_cycles_;
    sample_cycles_ = 0;
    return c;
}

// ---- the memories, word by word: one path for both cores ----

uint32_t LearningEngine::region_size(uint8_t mem) const {
    const fw::LearnParams& p = params_;
    switch (mem) {
        case fw::lmem_cam: return p.n_slots() * p.K;
        case fw::lmem_events: return static_cast<uint32_t>(tile_.step_events().size());
        case fw::lmem_v:
        case fw::lmem_a:
        case fw::lmem_z:
        case fw::lmem_refractory:
        case fw::lmem_bias: return p.n_slots();
        case fw::lmem_lut: return static_cast<uint32_t>(tile_.weight_lut().size());
        case fw::lmem_target: return 1;
        default: return mem < fw::lmem_count_ ? static_cast<uint32_t>(mem_[mem].size()) : 0;
    }
}

// Bits of the words [index, index + count) of a memory: the width the config declares for
// each plane (the learning memories hold two or three planes of different formats).
uint64_t LearningEngine::bits_of(uint8_t mem, uint32_t index, uint32_t count) const {
    const fw::LearnParams& p = params_;
    const uint64_t n = count;
    auto in = [&](uint64_t lo, uint64_t hi) {  // words of the range inside the plane [lo, hi)
        const uint64_t a = std::max<uint64_t>(index, lo), b = std::min<uint64_t>(uint64_t{index} + count, hi);
        return b > a ? b - a : 0;
    };
    const uint64_t A = p.n_addresses(), N = p.n_rec, SK = uint64_t{p.n_slots()} * p.K, all = ~uint64_t{0};
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
        case fw::lmem_pre: return in(0, A) * p.eps_bits + in(A, all) * p.bar_bits;
        case fw::lmem_post: return in(0, N) * p.bar_bits + in(N, all) * 4;
        case fw::lmem_syn: return in(0, N * p.K) * p.bar_bits + in(N * p.K, all) * p.eps_bits;  // ebar, then eta
        case fw::lmem_hidden:
            if (p.hidden_in_cam()) return n * p.hidden_frac;
            return in(0, SK) * p.hidden_bits + in(SK, all) * p.layout.address_bits;
        case fw::lmem_accum: return in(0, SK + p.n_out) * p.acc_bits + in(SK + p.n_out, all) * 6;  // row exponents
        case fw::lmem_moments: return n * 32;
        default: return 0;
    }
}

std::string LearningEngine::outside_message(bool store, uint32_t mem, uint32_t index) const {
    return std::string(store ? "store to " : "load from ") + memory_name(static_cast<uint8_t>(std::min<uint32_t>(mem, 255))) +
           "[" + std::to_string(index) + "], outside its " +
           std::to_string(mem < fw::lmem_count_ ? region_size(static_cast<uint8_t>(mem)) : 0) + " words";
}

bool LearningEngine::read_words(uint8_t mem, uint32_t index, uint32_t count, int32_t* dst, std::string& error) {
    if (mem >= fw::lmem_count_ || uint64_t{index} + count > region_size(mem)) {
        error = outside_message(false, mem, index);
        return false;
    }
    counters_[Action::sram_read_bits] += bits_of(mem, index, count);
    switch (mem) {
        case fw::lmem_cam: {
            const uint32_t K = params_.K;
            const FaninTable& table = tile_.fanin_table();
            for (uint32_t i = 0; i < count; ++i)
                dst[i] = static_cast<int32_t>(table.raw(static_cast<int>((index + i) / K), static_cast<int>((index + i) % K)));
            break;
        }
        case fw::lmem_events:
            for (uint32_t i = 0; i < count; ++i) dst[i] = static_cast<int32_t>(tile_.step_events()[index + i]);
            break;
        case fw::lmem_v:
            for (uint32_t i = 0; i < count; ++i) dst[i] = tile_.neuron_state(static_cast<int>(index + i)).v;
            break;
        case fw::lmem_a:
            for (uint32_t i = 0; i < count; ++i) dst[i] = tile_.neuron_state(static_cast<int>(index + i)).a;
            break;
        case fw::lmem_z:
            for (uint32_t i = 0; i < count; ++i) dst[i] = tile_.neuron_state(static_cast<int>(index + i)).z;
            break;
        case fw::lmem_refractory:
            for (uint32_t i = 0; i < count; ++i) dst[i] = tile_.neuron_state(static_cast<int>(index + i)).refractory_left;
            break;
        case fw::lmem_lut: std::copy_n(tile_.weight_lut().begin() + index, count, dst); break;
        case fw::lmem_bias:
            for (uint32_t i = 0; i < count; ++i) dst[i] = tile_.bias_of(static_cast<int>(index + i));
            break;
        case fw::lmem_target: dst[0] = label_; break;
        default: std::copy_n(mem_[mem].begin() + index, count, dst);
    }
    return true;
}

bool LearningEngine::write_words(uint8_t mem, uint32_t index, uint32_t count, const int32_t* src, std::string& error) {
    if (mem >= fw::lmem_count_ || uint64_t{index} + count > region_size(mem)) {
        error = outside_message(true, mem, index);
        return false;
    }
    if (mem < fw::lmem_pre && mem != fw::lmem_bias) {
        error = std::string("store to read-only tile memory ") + memory_name(mem) +
                (mem == fw::lmem_cam ? " (fan-in entries are written through the CAM port)" : "");
        return false;
    }
    counters_[Action::sram_write_bits] += bits_of(mem, index, count);
    if (mem == fw::lmem_bias) {
        for (uint32_t i = 0; i < count; ++i) {
            try {
                tile_.write_bias(static_cast<int>(index + i), src[i]);
            } catch (const std::exception& ex) {
                refuse(ex.what());
            }
        }
        return true;
    }
    // Every value must fit the width the config declares for its word: signed for traces,
    // parameters and accumulators; unsigned for stored addresses and step counters.
    const PlaneFormat& f = planes_[mem];
    if (const uint32_t i = f.first_misfit(index, count, src); i < count) {
        const bool upper = index + i >= f.boundary;
        error = std::string("value ") + std::to_string(src[i]) + " stored to " + memory_name(mem) + "[" +
                std::to_string(index + i) + "] does not fit its " + std::to_string(upper ? f.upper_bits : f.lower_bits) +
                " bits (" + (upper && f.upper_unsigned ? "unsigned" : "signed") + ")";
        return false;
    }
    std::copy_n(src, count, mem_[mem].begin() + index);
    return true;
}

int LearningEngine::cam_write(uint32_t slot, uint32_t entry, int32_t address, int32_t code, bool clear) {
    // clear: the valid bit and the tag
    counters_[Action::sram_write_bits] += clear ? 1 + params_.layout.address_bits : fw::entry_bits(params_.layout);
    try {
        if (clear) tile_.fanin_table().clear(static_cast<int>(slot), static_cast<int>(entry), address);
        else tile_.fanin_table().write(static_cast<int>(slot), static_cast<int>(entry), address, code);
        return 0;
    } catch (const std::exception& ex) {
        refuse(ex.what());
        return 1;
    }
}

void LearningEngine::hidden_parameters(std::vector<int32_t>& h, std::vector<int32_t>& address) const {
    const uint32_t SK = params_.n_slots() * params_.K;
    const std::vector<int32_t>& hidden = mem_[fw::lmem_hidden];
    if (!params_.hidden_in_cam()) {
        h.assign(hidden.begin(), hidden.begin() + SK);
        address.assign(hidden.begin() + SK, hidden.end());
        return;
    }
    const fw::QrLimits l = fw::qr_limits(params_);
    const FaninTable& cam = tile_.fanin_table();
    h.assign(SK, 0);
    address.assign(SK, 0);
    for (uint32_t i = 0; i < SK; ++i) {
        const int slot = static_cast<int>(i / params_.K), e = static_cast<int>(i % params_.K);
        address[i] = cam.address(slot, e);
        h[i] = fw::qr_compose(cam.valid(slot, e) ? cam.code(slot, e) : 0, hidden.empty() ? 0 : hidden[i], l);
    }
}

// ---- native core: the Hal calls ----

void LearningEngine::hal_read(void* ctx, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    std::string err;
    if (!e.read_words(mem, index, count, dst, err)) {
        e.fail(err);
        std::fill(dst, dst + count, 0);
    }
}

void LearningEngine::hal_write(void* ctx, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src) {
    auto& e = *static_cast<LearningEngine*>(ctx);
    std::string err;
    if (!e.write_words(mem, index, count, src, err)) e.fail(err);
}

int LearningEngine::hal_write_entry(void* ctx, uint32_t slot, uint32_t entry, int32_t address, int32_t code) {
    return static_cast<LearningEngine*>(ctx)->cam_write(slot, entry, address, code, false);
}

int LearningEngine::hal_clear_entry(void* ctx, uint32_t slot, uint32_t entry, int32_t address) {
    return static_cast<LearningEngine*>(ctx)->cam_write(slot, entry, address, 0, true);
}

uint32_t LearningEngine::hal_event_count(void* ctx) {
    return static_cast<uint32_t>(static_cast<LearningEngine*>(ctx)->tile_.step_events().size());
}

// ---- instruction-set simulator: the core's bus ----

bool LearningEngine::load(uint32_t address, uint32_t& value, std::string& error) {
    namespace map = fw::core_map;
    if (address - map::region_base < fw::lmem_count_ * map::region_stride) {
        const uint32_t off = address - map::region_base;
        const uint32_t mem = off / map::region_stride, index = (off % map::region_stride) / 4;
        if (mem >= fw::lmem_pre && index < mem_[mem].size()) {  // the learning memories: the hot path
            counters_[Action::sram_read_bits] += planes_[mem].bits(index);
            value = static_cast<uint32_t>(mem_[mem][index]);
            return true;
        }
        int32_t v = 0;
        if (!read_words(static_cast<uint8_t>(off / map::region_stride), (off % map::region_stride) / 4, 1, &v, error))
            return false;
        value = static_cast<uint32_t>(v);
        return true;
    }
    if (address - map::mailbox_base < map::mmio_size) {
        value = mailbox_[(address - map::mailbox_base) / 4];
        return true;
    }
    if (address - map::cam_base < map::mmio_size) {
        const uint32_t r = (address - map::cam_base) / 4;
        if (r >= cam_regs_.size()) return false;
        value = cam_regs_[r];
        return true;
    }
    if (address == map::info_base + map::info_event_count) {
        value = static_cast<uint32_t>(tile_.step_events().size());
        return true;
    }
    if (address == map::info_base + map::info_ram_end) {
        value = map::ram_base + static_cast<uint32_t>(hw_.learn.ram_bytes);
        return true;
    }
    return false;
}

bool LearningEngine::store(uint32_t address, uint32_t value, std::string& error) {
    namespace map = fw::core_map;
    if (address - map::region_base < fw::lmem_count_ * map::region_stride) {
        const uint32_t off = address - map::region_base;
        const uint32_t mem = off / map::region_stride, index = (off % map::region_stride) / 4;
        if (mem >= fw::lmem_pre && index < mem_[mem].size() && planes_[mem].fits(index, static_cast<int32_t>(value))) {
            counters_[Action::sram_write_bits] += planes_[mem].bits(index);
            mem_[mem][index] = static_cast<int32_t>(value);
            return true;
        }
        const int32_t v = static_cast<int32_t>(value);
        return write_words(static_cast<uint8_t>(off / map::region_stride), (off % map::region_stride) / 4, 1, &v, error);
    }
    if (address - map::mailbox_base < map::mmio_size) {
        const uint32_t off = address - map::mailbox_base;
        if (!map::firmware_writes_mailbox(off)) {
            error = "store to mailbox word " + std::to_string(off) + ", which only the tile writes";
            return false;
        }
        mailbox_[off / 4] = value;
        return true;
    }
    if (const uint32_t trap = address - map::bounds_trap_address(0, false); trap < 8u * fw::lmem_count_) {
        error = outside_message(trap % 8 != 0, trap / 8, value);
        return false;
    }
    if (address - map::cam_base < map::mmio_size) {
        const uint32_t r = (address - map::cam_base) / 4;
        if (r == map::cam_status / 4 || r >= cam_regs_.size()) {
            error = "store to read-only CAM port register " + std::to_string(r * 4);
            return false;
        }
        cam_regs_[r] = value;
        if (r == map::cam_command / 4) {
            if (value != 1 && value != 2) {
                error = "CAM port command " + std::to_string(value) + " (1: write entry, 2: clear entry)";
                return false;
            }
            cam_regs_[map::cam_status / 4] = static_cast<uint32_t>(
                cam_write(cam_regs_[0], cam_regs_[1], static_cast<int32_t>(cam_regs_[2]), static_cast<int32_t>(cam_regs_[3]),
                          value == 2));
        }
        return true;
    }
    return false;
}

}  // namespace qrsim
