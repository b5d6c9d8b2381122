// Quantized Rewiring on chip (Petschenig & Legenstein 2023; docs/references.md
// #quantized-rewiring), integer only.
//
// Every CAM entry of a learning neuron has a hidden parameter h (signed, hidden_bits,
// hidden_frac fractional bits below one weight-code step) and an address, kept in learning
// memory. The entry's code is derived from h after EVERY update (the projection):
//   h is clipped to the codes' range: |h| <= (cmax + 1/2) 2^hidden_frac - 1 (canonical form);
//   code = sign(h) x round(|h| / 2^hidden_frac)   (nearest, ties away from zero);
//   code 0 = dormant: the CAM entry is cleared (no synaptic events, no SOPs).
// The fan-in limit holds structurally and EXACTLY: a neuron owns K CAM entries and an entry
// is either active or dormant, so no update can ever need a (K+1)-th entry. Several entries
// may hold the same address (their weights add, as in the float spec).
// Dormant entries keep their address and keep receiving gradient (QR's regrowth through the
// gradient); the rewiring hook moves a dormant entry to a new presynaptic address drawn by
// the LFSR with probability 2^-rewire_shift per update (DEEP R's random exploration), h = 0.
// Writes go through the Hal's checked interface and only when the code changed.
// Where h lives (LearnParams::hidden_in_cam): the accumulating modes keep h and the address
// in learning memory (hidden_bits + address_bits per entry, a shadow copy of the CAM). The
// stochastic mode keeps them in the CAM itself: the code is h's integer part and a dormant
// entry keeps its tag with the valid bit off, so only h's part below one code step
// (hidden_frac bits, possibly none) is learning memory. Both hold the same h exactly.
// Codes: uniform +-cmax (2^(b-1) - 1), dynapse2 sign x mask with bases s, 2s, 4s, 8s so mask m
// weighs m s (cmax 15). dynapse1 (typed counts) is not supported on chip.
#pragma once

#include "firmware/learning.hpp"

namespace qrsim {
namespace fw {

struct QrLimits {
    int32_t cmax;  // largest |code|
    int32_t hmax;  // largest |h|
    int hf;        // hidden_frac
};

inline QrLimits qr_limits(const LearnParams& p) {
    QrLimits l;
    l.cmax = code_max(p.layout.kind, p.layout.weight_bits);
    l.hf = p.hidden_frac;
    const int64_t hmax = (static_cast<int64_t>(l.cmax) << l.hf) + (l.hf > 0 ? (int64_t{1} << (l.hf - 1)) - 1 : 0);
    const int64_t cap = max_signed(p.hidden_bits);
    l.hmax = static_cast<int32_t>(hmax < cap ? hmax : cap);
    return l;
}

inline int32_t qr_clip(int64_t h, const QrLimits& l) { return static_cast<int32_t>(h > l.hmax ? l.hmax : (h < -l.hmax ? -l.hmax : h)); }

inline int32_t qr_code(int32_t h, const QrLimits& l) {
    const int32_t a = h < 0 ? -h : h;
    const int32_t m = l.hf > 0 ? (a + (int32_t{1} << (l.hf - 1))) >> l.hf : a;
    const int32_t c = m > l.cmax ? l.cmax : m;
    return h < 0 ? -c : c;
}

// A stochastic rounding of h to a code: floor or ceil of |h| / 2^hf with the probability of
// the fraction (the float trainer's forward pass while training).
inline int32_t qr_code_stochastic(int32_t h, const QrLimits& l, Lfsr32& lfsr) {
    const int32_t a = h < 0 ? -h : h;
    const int32_t frac_mask = (int32_t{1} << l.hf) - 1;
    const int32_t m = l.hf > 0 ? (a + static_cast<int32_t>(lfsr.next() & static_cast<uint32_t>(frac_mask))) >> l.hf : a;
    const int32_t c = m > l.cmax ? l.cmax : m;
    return h < 0 ? -c : c;
}

// A random presynaptic address for a slot: recurrent neurons draw from every input and
// recurrent address except their own (no self-connections), readout units from the
// recurrent addresses.
inline int32_t qr_random_address(LearnContext& c, uint32_t slot) {
    const LearnParams& p = *c.p;
    const uint32_t r = c.lfsr.next();
    if (slot >= p.n_rec) return static_cast<int32_t>(p.n_in + r % p.n_rec);
    const uint32_t a = r % (p.n_addresses() - 1);
    return static_cast<int32_t>(a >= p.n_in + slot ? a + 1 : a);
}

// h's part below its code, hidden_frac-bit signed: h - code 2^hf in magnitude (code != 0;
// the sign is the code's), h itself for a dormant entry.
inline int32_t qr_fraction(int32_t h, const QrLimits& l) {
    const int32_t code = qr_code(h, l);
    if (code == 0) return h;
    return (h < 0 ? -h : h) - ((code < 0 ? -code : code) << l.hf);
}
inline int32_t qr_compose(int32_t code, int32_t fraction, const QrLimits& l) {
    if (code == 0) return fraction;
    const int32_t magnitude = ((code < 0 ? -code : code) << l.hf) + fraction;
    return code < 0 ? -magnitude : magnitude;
}

inline uint32_t qr_hidden_index(const LearnParams& p, uint32_t slot) { return slot * p.K; }
inline uint32_t qr_address_index(const LearnParams& p, uint32_t slot) { return (p.n_slots() + slot) * p.K; }

// The addresses of a row's entries (`cam`: K words of working memory).
inline void qr_load_addresses(LearnContext& c, uint32_t slot, int32_t* addr, int32_t* cam) {
    const LearnParams& p = *c.p;
    if (!p.hidden_in_cam()) return hal_read(c, lmem_hidden, qr_address_index(p, slot), p.K, addr);
    hal_read(c, lmem_cam, slot * p.K, p.K, cam);
    for (uint32_t e = 0; e < p.K; ++e) addr[e] = entry_address(p.layout, static_cast<uint32_t>(cam[e]));
}

// h and the addresses of a row (`work`: K words of working memory).
inline void qr_load_row(LearnContext& c, const QrLimits& l, uint32_t slot, int32_t* h, int32_t* addr, int32_t* work) {
    const LearnParams& p = *c.p;
    if (!p.hidden_in_cam()) {
        hal_read(c, lmem_hidden, qr_hidden_index(p, slot), p.K, h);
        return hal_read(c, lmem_hidden, qr_address_index(p, slot), p.K, addr);
    }
    if (l.hf > 0) hal_read(c, lmem_hidden, qr_hidden_index(p, slot), p.K, h);
    hal_read(c, lmem_cam, slot * p.K, p.K, work);
    for (uint32_t e = 0; e < p.K; ++e) {
        const uint32_t entry = static_cast<uint32_t>(work[e]);
        addr[e] = entry_address(p.layout, entry);
        const int32_t code = entry_is_valid(p.layout, entry) ? entry_code(p.layout, entry) : 0;
        h[e] = qr_compose(code, l.hf > 0 ? h[e] : 0, l);
    }
}

// Stores a row's h (its codes are in the CAM already) and, in shadow form, its addresses.
inline void qr_store_row(LearnContext& c, const QrLimits& l, uint32_t slot, const int32_t* h, const int32_t* addr,
                         int32_t* work) {
    const LearnParams& p = *c.p;
    if (!p.hidden_in_cam()) {
        hal_write(c, lmem_hidden, qr_hidden_index(p, slot), p.K, h);
        if (addr) hal_write(c, lmem_hidden, qr_address_index(p, slot), p.K, addr);
        return;
    }
    if (l.hf == 0) return;
    for (uint32_t e = 0; e < p.K; ++e) work[e] = qr_fraction(h[e], l);
    hal_write(c, lmem_hidden, qr_hidden_index(p, slot), p.K, work);
}

// Writes entry e's CAM state for code (dormant when 0) through the checked interface.
inline void qr_commit(LearnContext& c, uint32_t slot, uint32_t e, int32_t address, int32_t code) {
    const int rc = code == 0 ? c.hal->clear_entry(c.hal->ctx, slot, e, address)
                             : c.hal->write_entry(c.hal->ctx, slot, e, address, code);
    if (rc != 0) ++c.refused;
}

// The same, only if code differs from old_code.
inline void qr_write(LearnContext& c, uint32_t slot, uint32_t e, int32_t address, int32_t code, int32_t old_code) {
    if (code != old_code) qr_commit(c, slot, e, address, code);
}

// h[e] += dh, then the projection (a CAM write when the nearest code changed; none when
// the caller writes the row's codes afterwards: write = false).
inline void qr_update(LearnContext& c, const QrLimits& l, uint32_t slot, uint32_t e, int32_t* h, const int32_t* addr,
                      int64_t dh, bool write = true) {
    if (dh == 0) return;
    const int32_t old_h = h[e];
    h[e] = qr_clip(static_cast<int64_t>(old_h) + dh, l);
    if (write) qr_write(c, slot, e, addr[e], qr_code(h[e], l), qr_code(old_h, l));
}

// Writes a row's codes from h (stochastic rounding, or nearest) where the CAM (`cam`: the
// row as read) differs in code or address.
inline void qr_write_row(LearnContext& c, const QrLimits& l, uint32_t slot, const int32_t* h, const int32_t* addr,
                         const int32_t* cam, bool stochastic) {
    const LearnParams& p = *c.p;
    for (uint32_t e = 0; e < p.K; ++e) {
        const int32_t code = stochastic ? qr_code_stochastic(h[e], l, c.lfsr) : qr_code(h[e], l);
        const uint32_t entry = static_cast<uint32_t>(cam[e]);
        const bool same = entry_is_valid(p.layout, entry)
                              ? entry_code(p.layout, entry) == code && entry_address(p.layout, entry) == addr[e]
                              : code == 0;
        if (!same) qr_commit(c, slot, e, addr[e], code);
    }
}

// The rewiring hook for one row (h, addr: K entries): dormant entries move to random
// addresses with probability 2^-rewire_shift. `syn` (per-synapse traces of the row) and
// `moments` (the optimiser's 2 K words: m, then r) are reset for moved entries when given.
// Returns how many moved.
inline uint32_t qr_rewire_row(LearnContext& c, const QrLimits& l, uint32_t slot, int32_t* h, int32_t* addr,
                              int32_t* syn, int32_t* moments = nullptr) {
    const LearnParams& p = *c.p;
    const uint32_t mask = (uint32_t{1} << p.rewire_shift) - 1u;
    uint32_t moved = 0;
    for (uint32_t e = 0; e < p.K; ++e) {
        if (qr_code(h[e], l) != 0) continue;
        if ((c.lfsr.next() & mask) != 0) continue;
        h[e] = 0;
        addr[e] = qr_random_address(c, slot);
        if (p.hidden_in_cam()) qr_commit(c, slot, e, addr[e], 0);  // the dormant tag moves
        if (syn) syn[e] = 0;
        if (moments) moments[e] = moments[p.K + e] = 0;
        ++moved;
    }
    return moved;
}

// Hidden parameters of one row from the CAM as loaded: active entries start at their code
// (h = code 2^hidden_frac), empty entries become dormant at a random address. A loaded
// entry of code 0 (uniform) is cleared: the projection's dormant state. With h in the CAM
// every dormant entry's tag is written.
inline void qr_init_row(LearnContext& c, uint32_t slot, const int32_t* cam, int32_t* h, int32_t* addr) {
    const LearnParams& p = *c.p;
    for (uint32_t e = 0; e < p.K; ++e) {
        const uint32_t entry = static_cast<uint32_t>(cam[e]);
        if (entry_is_valid(p.layout, entry)) {
            h[e] = entry_code(p.layout, entry) * (int32_t{1} << p.hidden_frac);
            addr[e] = entry_address(p.layout, entry);
            if (h[e] == 0) qr_commit(c, slot, e, addr[e], 0);
        } else {
            h[e] = 0;
            addr[e] = qr_random_address(c, slot);
            if (p.hidden_in_cam()) qr_commit(c, slot, e, addr[e], 0);
        }
    }
}

}  // namespace fw
}  // namespace qrsim
