// On-chip learning: the firmware's view of the tile (the HAL), the learning parameters,
// and the interface every on-chip rule implements. Freestanding C++17, integer only.
//
// The firmware never touches tile memory directly: every access goes through the Hal's
// read / write / write_entry calls. On the tile's core (firmware/rv32/hal.hpp) they
// are loads and stores in the core's memory map; in the native host build they call the
// learning engine (hw_models/learning_engine.hpp). Either way every word is counted in bits
// and checked, and the tile checks every fan-in write (a refused write is an error of the
// firmware, never a silent clamp). What the firmware computes is measured by the core that
// runs it (instructions retired), not declared by the firmware.
//
// Neurons of the tile: slots 0 .. n_rec-1 are recurrent (hidden) neurons, slots n_rec ..
// n_rec+n_out-1 the readout units (global id = slot on a single tile). AER address of input
// channel c is c, of recurrent neuron j is n_in + j.
//
// Call order per sample (the tile calls them at its step boundaries, hw_models/tile.hpp):
//   begin_sample
//   for t in 0 .. T-1:  trace_step(t)    after the neurons computed step t
//                       signal_step(t)   after the readout computed y_t
//   end_sample                           (per-sample update, rewiring)
// and finish before the tile is used for inference.
#pragma once

#include "firmware/fixed_point.hpp"
#include "firmware/lfsr.hpp"
#include "firmware/memory_map.hpp"
#include "firmware/neuron_core.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {

// Tile and learning memories the firmware can address through the Hal.
enum LearnMem : uint8_t {
    lmem_cam = 0,    // R  packed fan-in entries, index slot * K + entry (writes: write_entry)
    lmem_events,     // R  AER addresses of this step's input packet (x_t and z_{t-1})
    lmem_v,          // R  membrane / readout value by slot
    lmem_a,          // R  adaptation by slot
    lmem_z,          // R  spike of this step by slot
    lmem_refractory, // R  refractory counter by slot, after this step
    lmem_lut,        // R  the tile's expanded weight LUT (group offsets in LearnParams)
    lmem_bias,       // RW readout bias registers by slot
    lmem_target,     // R  the sample's target class (one value, delivered with the input)
    // Learning memories, in planes (A = n_addresses, S = n_slots):
    lmem_pre,        // RW presynaptic traces: eps [0, A), epsbar [A, 2A), zbar [2A, 2A + n_rec)
    lmem_post,       // RW per hidden neuron: psibar [0, n_rec), refractory of the last step [n_rec, 2 n_rec)
    lmem_syn,        // RW per-synapse traces: ebar at slot * K + entry; the ALIF rows' adaptation
                     //    eligibility beta eps_a at n_rec K + (slot - first_alif) K + entry
    lmem_hidden,     // RW per entry: h at slot * K + entry, its address at S K + slot * K + entry
                     //    (h in the CAM, LearnParams::hidden_in_cam: h's fraction at slot * K + entry only)
    lmem_accum,      // RW update accumulators: slot * K + entry; bias of readout k at S K + k
    lmem_moments,    // RW adam: first moment m at the accumulator's index i, RMS r at (S K + n_out) + i
    lmem_count_
};

struct Hal {
    void* ctx;
    void (*read)(void* ctx, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst);
    void (*write)(void* ctx, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src);
    // Checked CAM writes through the tile's interface; 0 = accepted, else refused.
    int (*write_entry)(void* ctx, uint32_t slot, uint32_t entry, int32_t address, int32_t code);
    // A dormant entry: the valid bit off, the tag kept (`address`: where it connects once a
    // code makes it active again), so the fan-in table itself remembers it.
    int (*clear_entry)(void* ctx, uint32_t slot, uint32_t entry, int32_t address);
    uint32_t (*event_count)(void* ctx);
};

enum TracePlacement : uint8_t { place_presynaptic = 0, place_synapse = 1 };
// stochastic: a stochastically rounded SGD step at every window step (ReckOn, Loihi), no
// accumulator memory;
// accumulate: per-entry accumulators, SGD step of their sum every `batch` samples;
// sign: the same accumulators, a fixed step against their sign (signSGD, Bernstein et al.
// 2018): every entry moves as fast whatever its gradient's scale, which Adam buys with two
// moments per parameter (float counterpart: train.optimizer = "signum" with the same
// momentum, which the accumulators carry: LearnParams::momentum);
// adam: the float trainer's own optimiser (Kingma & Ba 2015) in integers: per entry the
// accumulators plus a first moment and an RMS, applied every `batch` samples.
enum UpdateMode : uint8_t { update_stochastic = 0, update_accumulate = 1, update_sign = 2, update_adam = 3 };
// Where the hidden parameters live (firmware/quantized_rewiring.hpp).
enum HiddenStore : uint8_t { store_cam = 0, store_shadow = 1 };
enum FeedbackMode : uint8_t { feedback_symmetric = 0, feedback_random = 1 };
enum PsiShape : uint8_t { psi_pwc5 = 0, psi_linear = 1 };

// The most settings one rule declares (firmware/rule.hpp).
constexpr uint32_t kMaxRuleSettings = 8;

// Everything a rule needs to know, set once by the host (integers only).
struct LearnParams {
    uint16_t n_in = 0, n_rec = 0, n_out = 0;
    uint16_t K = 0;
    EntryLayout layout;
    int32_t lut_offset[2] = {0, 0};  // expanded-LUT offsets of the hidden and readout groups
    NeuronConfig lif;                // threshold (pseudo-derivative), membrane decay alpha
    NeuronConfig alif;               // the adaptive neurons: beta, a_frac, adaptation decay rho
    uint16_t n_alif = 0;             // hidden slots [n_rec - n_alif, n_rec) are ALIF
    // gamma beta / v_th in Q16: how much one unit of psi (Q psi_bits) moves the adaptation
    // eligibility towards eps (firmware/eprop_pieces.hpp).
    int32_t adapt_gain = 0;
    Decay kappa;                     // readout decay: the eligibility filter
    LeakMode leak = leak_multiply;
    Rounding trace_rounding = round_stochastic;
    uint16_t n_steps = 0, readout_begin = 0;

    uint8_t v_frac = 10;             // membrane LSB = 2^-v_frac (readout values for the softmax)
    uint8_t placement = place_presynaptic;
    uint8_t update = update_accumulate;
    uint8_t feedback = feedback_random;
    uint8_t psi_shape = psi_pwc5;
    // Trace formats: eps (alpha-filtered presynaptic spikes) and the kappa-filtered traces
    // (ebar per synapse, epsbar / zbar per presynaptic address, psibar per neuron).
    uint8_t eps_bits = 16, eps_frac = 10;
    uint8_t bar_bits = 16, bar_frac = 8;
    uint8_t psi_bits = 5;     // pseudo-derivative: unsigned, 1.0 ~ 2^psi_bits
    uint8_t signal_bits = 16; // learning signal (signed)
    uint8_t signal_shift = 0; // L = (sum_k B_jk err_k) >> signal_shift, saturated
    uint8_t hidden_bits = 10, hidden_frac = 5;  // h: signed; one code step = 2^hidden_frac
    uint8_t acc_bits = 32;    // accumulators (signed, saturating)
    uint8_t acc_shift = 8;    // product L x trace >> acc_shift into the accumulator
    // Update in hidden LSBs: dh = -(G x lr_mult) >> lr_shift, stochastic rounding; G is the
    // accumulated (accumulate), per-step (stochastic) product, or the accumulator's sign (sign).
    int32_t lr_mult = 1;
    uint8_t lr_shift = 16;
    int32_t readout_lr_mult = 1;   // the same for the readout group
    uint8_t readout_lr_shift = 16;
    int32_t bias_lr_mult = 1;      // and for the readout biases (membrane LSBs)
    uint8_t bias_lr_shift = 16;
    uint16_t batch = 1;            // accumulate: samples per apply
    // Momentum beta in Q15 (sign, accumulate): an apply leaves beta x the sum in the
    // accumulators instead of zero (firmware/eprop_pieces.hpp, carry_row); 0: none.
    uint16_t momentum = 0;
    uint8_t rewire_shift = 2;      // a dormant entry moves with probability 2^-rewire_shift per update
    uint32_t seed = 1;             // firmware LFSR and random feedback matrix
    uint8_t learn_readout = 1, learn_bias = 1;  // the readout group and its biases learn
    // Codes written at each update of an accumulating mode: a fresh stochastic rounding of h
    // (the float QR trainer's forward pass; 1) or the nearest code (0). `finish` writes the
    // nearest codes for inference either way.
    uint8_t stochastic_weights = 0;
    uint8_t hidden_store = store_cam;
    // The rule's own settings (learn.<rule>.<key>), in the order its RuleInfo declares them.
    int32_t settings[kMaxRuleSettings] = {};

    bool accumulates() const { return update != update_stochastic; }
    // h lives in the CAM (code, tag) plus hidden_frac bits per entry: firmware/quantized_rewiring.hpp.
    bool hidden_in_cam() const { return hidden_store == store_cam; }
    // Accumulators narrower than 32 bits are block-scaled: a shared exponent per row.
    bool block_scaled() const { return accumulates() && acc_bits < 32; }
    bool redraws_codes() const { return accumulates() && stochastic_weights; }
    uint32_t n_addresses() const { return static_cast<uint32_t>(n_in) + n_rec; }
    uint32_t n_slots() const { return static_cast<uint32_t>(n_rec) + n_out; }
    uint32_t first_alif() const { return static_cast<uint32_t>(n_rec) - n_alif; }
    // Where ALIF slot j's adaptation eligibility row starts in lmem_syn.
    uint32_t adapt_index(uint32_t j) const { return (static_cast<uint32_t>(n_rec) + j - first_alif()) * K; }
};

// The rate registers the host rewrites between epochs (per-epoch decay).
inline void copy_learning_rates(LearnParams& to, const LearnParams& from) {
    to.lr_mult = from.lr_mult;
    to.lr_shift = from.lr_shift;
    to.readout_lr_mult = from.readout_lr_mult;
    to.readout_lr_shift = from.readout_lr_shift;
    to.bias_lr_mult = from.bias_lr_mult;
    to.bias_lr_shift = from.bias_lr_shift;
}

// Firmware working memory (a microcontroller's data RAM): the caller provides buffers of
// the documented sizes; kernels never allocate.
struct LearnScratch {
    int32_t* addr_a = nullptr;    // n_addresses
    int32_t* addr_b = nullptr;    // n_addresses * 3
    int32_t* neuron_a = nullptr;  // n_slots
    int32_t* neuron_b = nullptr;  // n_slots * 3
    int32_t* row_a = nullptr;     // K
    int32_t* row_b = nullptr;     // K
    int32_t* row_c = nullptr;     // K
    int32_t* row_d = nullptr;     // K
    int32_t* row_e = nullptr;     // 2 K
    int32_t* row_f = nullptr;     // K
    int32_t* lut = nullptr;       // lut_size of the code kind
    int32_t* out = nullptr;       // n_out * 2
};

// Sizes of the LearnScratch buffers in 32-bit words. A rule whose recurrent fan-in does
// not learn (`hidden` false) reads no events, keeps no postsynaptic traces and never reads
// the LUT: addr_a, neuron_b and lut stay empty.
inline uint32_t scratch_words(const LearnParams& p, bool hidden) {
    const uint32_t lut = static_cast<uint32_t>(lut_size(p.layout.kind, p.layout.weight_bits));
    return p.n_addresses() * (hidden ? 4 : 3) + p.n_slots() * (hidden ? 4 : 1) + 7u * p.K + (hidden ? lut : 0) +
           2u * p.n_out;
}

// Lays the LearnScratch buffers out back to back from `base` (scratch_words(p, hidden) words).
inline void carve_scratch(LearnScratch& s, const LearnParams& p, bool hidden, int32_t* base) {
    const uint32_t A = p.n_addresses(), S = p.n_slots(), K = p.K;
    auto take = [&base](uint32_t n) {
        int32_t* block = n ? base : nullptr;
        base += n;
        return block;
    };
    s.addr_a = take(hidden ? A : 0);
    s.addr_b = take(3 * A);
    s.neuron_a = take(S);
    s.neuron_b = take(hidden ? 3 * S : 0);
    s.row_a = take(K);
    s.row_b = take(K);
    s.row_c = take(K);
    s.row_d = take(K);
    s.row_e = take(2 * K);
    s.row_f = take(K);
    s.lut = take(hidden ? static_cast<uint32_t>(lut_size(p.layout.kind, p.layout.weight_bits)) : 0);
    s.out = take(2u * p.n_out);
}

struct LearnContext {
    const LearnParams* p = nullptr;
    const Hal* hal = nullptr;
    int32_t* pool = nullptr;    // the rule's working memory: scratch_words of its RuleOps
    uint32_t pool_words = 0;
    LearnScratch s;             // the e-prop pieces' buffers, carved from pool by the rule's init
    Lfsr32 lfsr;
    int32_t one_bar = 0;        // kappa-filtered constant 1 (bias eligibility), Q bar_frac
    uint16_t samples_in_batch = 0;
    uint32_t updates = 0;       // weight updates applied (projections run)
    uint32_t beta1_t = 0, beta2_t = 0;  // adam: beta1^t and beta2^t in Q30 (bias correction)
    uint32_t refused = 0;       // CAM writes the tile refused (must stay 0)
};

// ---- helpers shared by rules -------------------------------------------------------

inline void hal_read(LearnContext& c, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst) {
    c.hal->read(c.hal->ctx, mem, index, count, dst);
}
inline void hal_write(LearnContext& c, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src) {
    c.hal->write(c.hal->ctx, mem, index, count, src);
}

}  // namespace fw
}  // namespace qrsim
