// The tile's synapse memory layout, shared by the tile model and the firmware:
//  - a fan-in table (CAM) entry: valid bit | presynaptic address | weight code;
//  - the weight code per kind (common/constraint_spec.hpp gives the meaning):
//      uniform   b-bit two's complement code in [-(2^(b-1)-1), 2^(b-1)-1]
//      dynapse1  2-bit synapse type: 0 exc small, 1 exc large, 2 inh small, 3 inh large
//      dynapse2  sign bit + 4-bit mask; mask 1..15 selects bases (code = sign x mask)
//  - the per-group weight look-up table (LUT) of fixed-point weights in membrane LSBs:
//      uniform   2^b - 1 stored weights, one per code
//      dynapse1  4 stored base weights (magnitudes; the type fixes the sign)
//      dynapse2  4 stored base weights; weight = sign x sum of the bases the mask selects
//    The tile expands a group's stored values once into `lut_size` signed weights indexed
//    by `lut_index`, computed here, so per synaptic event it is one table read.
// Integer only; no float: turning float weights into LUT values is the host loader's job.
#pragma once

#include "firmware/fixed_point.hpp"

#include <stdint.h>

namespace qrsim {
namespace fw {

// Same order and values as qrsim::WeightKind.
enum CodeKind : uint8_t { code_none = 0, code_uniform = 1, code_dynapse1 = 2, code_dynapse2 = 3 };

struct EntryLayout {
    CodeKind kind = code_uniform;
    uint8_t weight_bits = 4;    // uniform only
    uint8_t address_bits = 11;  // presynaptic address (AER tag) width
};

constexpr int code_bits(CodeKind kind, int weight_bits) {
    return kind == code_uniform ? weight_bits : (kind == code_dynapse1 ? 2 : (kind == code_dynapse2 ? 5 : 0));
}

// valid bit + address + code
constexpr int entry_bits(const EntryLayout& l) { return 1 + l.address_bits + code_bits(l.kind, l.weight_bits); }

constexpr int32_t code_min(CodeKind kind, int weight_bits) {
    return kind == code_uniform ? -max_signed(weight_bits) : (kind == code_dynapse2 ? -15 : 0);
}
constexpr int32_t code_max(CodeKind kind, int weight_bits) {
    return kind == code_uniform ? max_signed(weight_bits) : (kind == code_dynapse1 ? 3 : (kind == code_dynapse2 ? 15 : 0));
}

constexpr bool code_valid(CodeKind kind, int weight_bits, int32_t code) {
    if (kind == code_dynapse2 && code == 0) return false;  // mask 0 selects nothing
    return kind != code_none && code >= code_min(kind, weight_bits) && code <= code_max(kind, weight_bits);
}

constexpr bool address_valid(const EntryLayout& l, int32_t address) {
    return address >= 0 && address <= max_unsigned(l.address_bits);
}

// The code as stored in the entry's code field.
constexpr uint32_t encode_code(CodeKind kind, int weight_bits, int32_t code) {
    if (kind == code_dynapse2) return (code < 0 ? 16u : 0u) | static_cast<uint32_t>(code < 0 ? -code : code);
    return static_cast<uint32_t>(code) & static_cast<uint32_t>(max_unsigned(code_bits(kind, weight_bits)));
}

constexpr int32_t decode_code(CodeKind kind, int weight_bits, uint32_t field) {
    if (kind == code_dynapse2) return (field & 16u) ? -static_cast<int32_t>(field & 15u) : static_cast<int32_t>(field & 15u);
    if (kind == code_uniform) {
        const int b = weight_bits;
        const int32_t v = static_cast<int32_t>(field & static_cast<uint32_t>(max_unsigned(b)));
        return v > max_signed(b) ? v - (int32_t{1} << b) : v;
    }
    return static_cast<int32_t>(field & 3u);
}

// Packs a valid entry: [valid | address | code] from the most significant bit down.
constexpr uint32_t pack_entry(const EntryLayout& l, int32_t address, int32_t code) {
    const int cb = code_bits(l.kind, l.weight_bits);
    return (1u << (l.address_bits + cb)) | (static_cast<uint32_t>(address) << cb) | encode_code(l.kind, l.weight_bits, code);
}
constexpr bool entry_is_valid(const EntryLayout& l, uint32_t e) {
    return ((e >> (l.address_bits + code_bits(l.kind, l.weight_bits))) & 1u) != 0;
}
constexpr int32_t entry_address(const EntryLayout& l, uint32_t e) {
    return static_cast<int32_t>((e >> code_bits(l.kind, l.weight_bits)) & static_cast<uint32_t>(max_unsigned(l.address_bits)));
}
constexpr int32_t entry_code(const EntryLayout& l, uint32_t e) {
    const int cb = code_bits(l.kind, l.weight_bits);
    return decode_code(l.kind, l.weight_bits, e & static_cast<uint32_t>(max_unsigned(cb)));
}

// Number of values a group stores in its LUT memory.
constexpr int lut_stored(CodeKind kind, int weight_bits) {
    return kind == code_uniform ? max_unsigned(weight_bits) : 4;
}
// Size of the expanded table indexed by lut_index.
constexpr int lut_size(CodeKind kind, int weight_bits) {
    return kind == code_uniform ? max_unsigned(weight_bits) : (kind == code_dynapse1 ? 4 : 32);
}
constexpr int lut_index(CodeKind kind, int weight_bits, int32_t code) {
    return kind == code_uniform ? code + max_signed(weight_bits)
                                : (kind == code_dynapse1 ? code : (code < 0 ? 16 - code : code));
}

// The weight of a code from a group's stored values (membrane LSBs). This is the one
// definition of how bases combine; the expanded table is built with it.
constexpr int64_t code_weight(CodeKind kind, int weight_bits, const int32_t* stored, int32_t code) {
    if (kind == code_uniform) return stored[code + max_signed(weight_bits)];
    if (kind == code_dynapse1) return code >= 2 ? -static_cast<int64_t>(stored[code]) : stored[code];
    int64_t sum = 0;
    const int32_t mask = code < 0 ? -code : code;
    for (int b = 0; b < 4; ++b)
        if (mask & (1 << b)) sum += stored[b];
    return code < 0 ? -sum : sum;
}

// Expands a group's stored values into the lut_size table (entries of unused indices,
// e.g. dynapse2 mask 0, are 0).
inline void expand_lut(CodeKind kind, int weight_bits, const int32_t* stored, int32_t* table) {
    for (int i = 0; i < lut_size(kind, weight_bits); ++i) table[i] = 0;
    for (int32_t c = code_min(kind, weight_bits); c <= code_max(kind, weight_bits); ++c)
        if (code_valid(kind, weight_bits, c))
            table[lut_index(kind, weight_bits, c)] = static_cast<int32_t>(code_weight(kind, weight_bits, stored, c));
}

}  // namespace fw
}  // namespace qrsim
