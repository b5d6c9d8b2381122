// The built-in on-chip rules, composed from the SDK's e-prop pieces
// (firmware/eprop_pieces.hpp): e-prop (Bellec et al. 2020) with Quantized Rewiring, and
// the readout-only delta rule. Each follows learn.update: it hands the update the host
// resolved (LearnParams::update) to the pieces.
#include "firmware/eprop_pieces.hpp"
#include "firmware/rule.hpp"

namespace qrsim {
namespace fw {
namespace {

// ---- e-prop hooks ----------------------------------------------------------------

// Setting 0 of e-prop: whether the recurrent fan-in learns.
constexpr uint32_t kEpropHidden = 0;
inline bool eprop_hidden(const LearnParams& p) { return p.settings[kEpropHidden] != 0; }

void eprop_init(LearnContext& c) {
    carve_scratch(c.s, *c.p, eprop_hidden(*c.p), c.pool);
    learn_init(c, c.p->update, eprop_hidden(*c.p));
}
void eprop_begin(LearnContext& c) { learn_begin_sample(c, eprop_hidden(*c.p)); }
void eprop_end(LearnContext& c) { learn_end_sample(c, c.p->update, eprop_hidden(*c.p)); }
void eprop_finish(LearnContext& c) { learn_finish(c, c.p->update, eprop_hidden(*c.p)); }
uint32_t eprop_scratch_words(const LearnParams& p) { return scratch_words(p, eprop_hidden(p)); }

void eprop_trace_step(LearnContext& c, uint16_t) {
    const LearnParams& p = *c.p;
    presynaptic_trace_step(c, eprop_hidden(p));
    if (!eprop_hidden(p)) return;
    const int32_t* psi = pseudo_derivative_step(c);
    if (p.placement == place_synapse) synapse_trace_step(c, psi);
}

void eprop_signal_step(LearnContext& c, uint16_t t) {
    const LearnParams& p = *c.p;
    if (!window_error(c, t)) return;
    const int32_t* err = c.s.out + p.n_out;
    const uint32_t A = p.n_addresses();
    // Traces as they are after this step.
    hal_read(c, lmem_pre, 2 * A, p.n_rec, c.s.addr_b + 2 * A);
    readout_signal_step(c, p.update, err);
    if (!eprop_hidden(p)) return;
    hidden_gradients(c, p.update, learning_signals(c, err));
}

uint64_t eprop_memory_bits(const LearnParams& p, uint8_t mem) { return learn_memory_bits(p, p.update, mem, eprop_hidden(p)); }

// ---- readout-only delta rule -------------------------------------------------------
// dW_out_kj = -lr sum_t err_k[t] zbar_j[t]: e-prop's (and BPTT's) exact readout gradient,
// with the recurrent weights fixed. The cheapest on-chip rule: one trace per recurrent
// neuron, no pseudo-derivative, no learning signal.

void delta_init(LearnContext& c) {
    carve_scratch(c.s, *c.p, false, c.pool);
    learn_init(c, c.p->update, false);
}
void delta_begin(LearnContext& c) { learn_begin_sample(c, false); }
void delta_end(LearnContext& c) { learn_end_sample(c, c.p->update, false); }
void delta_finish(LearnContext& c) { learn_finish(c, c.p->update, false); }
void delta_trace_step(LearnContext& c, uint16_t) { presynaptic_trace_step(c, false); }
void delta_signal_step(LearnContext& c, uint16_t t) {
    if (!window_error(c, t)) return;
    const LearnParams& p = *c.p;
    hal_read(c, lmem_pre, 2 * p.n_addresses(), p.n_rec, c.s.addr_b + 2 * p.n_addresses());
    readout_signal_step(c, p.update, c.s.out + p.n_out);
}
uint64_t delta_memory_bits(const LearnParams& p, uint8_t mem) { return learn_memory_bits(p, p.update, mem, false); }
uint32_t delta_scratch_words(const LearnParams& p) { return scratch_words(p, false); }

const RuleInfo kEpropInfo = {
    kRuleAbi,
    "eprop",
    "e-prop (Bellec et al. 2020): eligibility traces x learning signal from the readout error, "
    "Quantized Rewiring of every fan-in table",
    kEveryUpdate,
    kEveryFeedback,
    kEveryPlacement,
    1,
    {{"hidden", "the recurrent fan-in learns (false: only the readout and its biases)", 0, 1, 1, setting_boolean}}};

const RuleInfo kDeltaInfo = {
    kRuleAbi,
    "readout-delta",
    "readout-only delta rule: the readout's fan-in learns from err x zbar, recurrent weights fixed",
    kEveryUpdate,
    supports(feedback_random),  // no learning signal: a feedback matrix would be ignored
    kEveryPlacement,
    0,
    {}};

const RuleOps kEpropRule = {&kEpropInfo,      eprop_init,  eprop_begin,       eprop_trace_step, eprop_signal_step,
                            eprop_end,        eprop_finish, eprop_memory_bits, eprop_scratch_words};
const RuleOps kDeltaRule = {&kDeltaInfo,      delta_init,  delta_begin,       delta_trace_step, delta_signal_step,
                            delta_end,        delta_finish, delta_memory_bits, delta_scratch_words};

}  // namespace

QRSIM_RULE(kEpropRule);
QRSIM_RULE(kDeltaRule);

}  // namespace fw
}  // namespace qrsim
