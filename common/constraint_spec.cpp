// Weight codes of the fan-in table entries: what one entry weighs, how a weight splits into
// the fewest entries, and the memory the tables need.
#include "common/constraint_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace qrsim {
namespace {

constexpr int kMaskCount = 15;     // dynapse2: masks 1..15 over 4 bases
constexpr int kSharedValueBits = 32;
// More entries than the largest fan-in table (synapse.fanin <= 65536) cannot realise one
// weight; the bound also keeps the entry counts far from long long's range.
constexpr double kMaxEntriesPerWeight = 65536;

// Floating tolerance when asking "is this an integer number of levels": the projection
// produces weights as integer x level, exact to a few ulps.
bool near_integer(double x, long long& n) {
    // Beyond 2^53 no double has a fraction, and beyond 2^63 llround has no result (a huge
    // weight over a small scale): no entry code is that large anyway.
    if (!(std::abs(x) < 0x1p53)) return false;
    n = std::llround(x);
    return std::abs(x - static_cast<double>(n)) <= 1e-9 * std::max(1.0, std::abs(x));
}

bool near(double x, double y, double unit) {
    return std::abs(x - y) <= 1e-9 * unit + 1e-12 * std::max(std::abs(x), std::abs(y));
}

double mask_weight(const GroupQuant& quant, int mask) {
    double sum = 0;
    for (int b = 0; b < 4; ++b)
        if (mask & (1 << b)) sum += quant.base[b];
    return sum;
}

// dynapse1 types of one sign, larger base first: {large type, small type}.
std::array<int, 2> dynapse1_types(const GroupQuant& quant, bool negative) {
    const int small = negative ? 2 : 0;
    const int large = small + 1;
    return quant.base[large] >= quant.base[small] ? std::array<int, 2>{large, small}
                                                    : std::array<int, 2>{small, large};
}

// The fewest entries realising w, appended to out when out != nullptr; -1 if none does.
int decompose_into(const GroupQuant& quant, double w, int pre, std::vector<EntryCode>* out) {
    auto emit = [&](int code, long long n) {
        if (out)
            for (long long i = 0; i < n; ++i) out->push_back({pre, code});
    };
    if (w == 0) return 0;
    if (!std::isfinite(w)) return -1;
    const bool negative = w < 0;
    const double a = std::abs(w);
    switch (quant.kind) {
    case WeightKind::none:
        return -1;  // a float weight has no entry code
    case WeightKind::uniform: {
        long long code;
        if (quant.scale <= 0 || !near_integer(a / quant.scale, code)) return -1;
        if (code > uniform_max_code(quant.weight_bits)) return -1;
        emit(static_cast<int>(negative ? -code : code), 1);
        return 1;
    }
    case WeightKind::dynapse1: {
        // With large = integer x small (the projection's levels) the first try succeeds;
        // other ratios step the large count down a few times.
        const auto [large, small] = dynapse1_types(quant, negative);
        const double big = quant.base[large], little = quant.base[small];
        if (little <= 0 || big <= 0 || !(a / big <= kMaxEntriesPerWeight)) return -1;
        long long n_big = static_cast<long long>(std::floor(a / big + 1e-9));
        for (int tries = 0; n_big >= 0 && tries < 64; --n_big, ++tries) {
            long long n_little;
            const double rest = (a - static_cast<double>(n_big) * big) / little;
            if (rest > -1e-9 && near_integer(rest, n_little)) {
                emit(large, n_big);
                emit(small, n_little);
                return static_cast<int>(n_big + n_little);
            }
        }
        return -1;
    }
    case WeightKind::dynapse2: {
        // Full entries (all bases) first, the rest one mask: the optimum for the ladder
        // s, 2s, 4s, 8s. Bases that leave gaps may need the rest split into two masks.
        const double full = mask_weight(quant, kMaskCount);
        const double unit = *std::min_element(quant.base.begin(), quant.base.end());
        if (full <= 0 || unit <= 0 || !(a / full <= kMaxEntriesPerWeight)) return -1;
        const int sign = negative ? -1 : 1;
        const long long n_full = static_cast<long long>(std::floor(a / full + 1e-9));
        auto one_mask = [&](double rest) {
            for (int m = 1; m <= kMaskCount; ++m)
                if (near(rest, mask_weight(quant, m), unit)) return m;
            return 0;
        };
        auto two_masks = [&](double rest, int& m2) {
            for (int m1 = 1; m1 <= kMaskCount; ++m1)
                if ((m2 = one_mask(rest - mask_weight(quant, m1)))) return m1;
            return 0;
        };
        const double rest = a - static_cast<double>(n_full) * full;
        if (near(rest, 0, unit)) {
            emit(sign * kMaskCount, n_full);
            return static_cast<int>(n_full);
        }
        if (const int m = one_mask(rest)) {
            emit(sign * kMaskCount, n_full);
            emit(sign * m, 1);
            return static_cast<int>(n_full + 1);
        }
        // Two masks, with one full entry fewer (same count as above) or as many.
        for (long long k : {n_full - 1, n_full}) {
            int m2 = 0;
            if (k < 0) continue;
            if (const int m1 = two_masks(a - static_cast<double>(k) * full, m2)) {
                emit(sign * kMaskCount, k);
                emit(sign * m1, 1);
                emit(sign * m2, 1);
                return static_cast<int>(k + 2);
            }
        }
        return -1;
    }
    }
    return -1;
}

int code_bits(const ConstraintSpec& spec) {
    switch (spec.kind) {
    case WeightKind::none: return 32;
    case WeightKind::uniform: return spec.weight_bits;
    case WeightKind::dynapse1: return 2;  // the synapse type
    case WeightKind::dynapse2: return 5;  // sign + 4-bit mask
    }
    return 0;
}

int shared_values(WeightKind kind) {
    switch (kind) {
    case WeightKind::none: return 0;
    case WeightKind::uniform: return 1;
    case WeightKind::dynapse1:
    case WeightKind::dynapse2: return 4;
    }
    return 0;
}

int ceil_log2(long long n) {
    int bits = 0;
    while ((1LL << bits) < n) ++bits;
    return bits;
}

}  // namespace

int uniform_max_code(int weight_bits) { return (1 << (weight_bits - 1)) - 1; }

double entry_weight(const GroupQuant& quant, int code) {
    switch (quant.kind) {
    case WeightKind::none:
        throw std::invalid_argument("entry_weight: weight kind none has no entry codes");
    case WeightKind::uniform:
        if (std::abs(code) > uniform_max_code(quant.weight_bits) || code == 0)
            throw std::invalid_argument("entry_weight: uniform code " + std::to_string(code) + " outside +-[1, " +
                                        std::to_string(uniform_max_code(quant.weight_bits)) + "]");
        return quant.scale * code;
    case WeightKind::dynapse1:
        if (code < 0 || code > 3)
            throw std::invalid_argument("entry_weight: dynapse1 type " + std::to_string(code) + " outside 0..3");
        return (code >= 2 ? -1.0 : 1.0) * quant.base[code];
    case WeightKind::dynapse2:
        if (code == 0 || std::abs(code) > kMaskCount)
            throw std::invalid_argument("entry_weight: dynapse2 code " + std::to_string(code) +
                                        " is not sign x mask with mask in 1..15");
        return (code < 0 ? -1.0 : 1.0) * mask_weight(quant, std::abs(code));
    }
    throw std::invalid_argument("entry_weight: unknown weight kind");
}

int decompose(const GroupQuant& quant, double w, int pre, std::vector<EntryCode>& out) {
    const int n = decompose_into(quant, w, pre, &out);
    if (n < 0) {
        char shown[32];  // %g: std::to_string(1e300) would print 300 digits
        std::snprintf(shown, sizeof shown, "%g", w);
        throw std::invalid_argument("decompose: weight " + std::string(shown) + " is not representable as " +
                                    to_string(quant.kind) + " entries");
    }
    return n;
}

int entry_count(const GroupQuant& quant, double w) {
    if (quant.kind == WeightKind::none) return w != 0 ? 1 : 0;
    return decompose_into(quant, w, 0, nullptr);
}

std::string to_string(WeightKind kind) {
    switch (kind) {
    case WeightKind::none: return "none";
    case WeightKind::uniform: return "uniform";
    case WeightKind::dynapse1: return "dynapse1";
    case WeightKind::dynapse2: return "dynapse2";
    }
    return "unknown";
}

WeightKind weight_kind_from_string(const std::string& name) {
    for (WeightKind k : {WeightKind::none, WeightKind::uniform, WeightKind::dynapse1, WeightKind::dynapse2})
        if (to_string(k) == name) return k;
    throw std::invalid_argument("unknown weight kind '" + name + "' (allowed: none, uniform, dynapse1, dynapse2)");
}

void validate(const ConstraintSpec& spec) {
    if (spec.kind == WeightKind::uniform && (spec.weight_bits < 2 || spec.weight_bits > 16))
        throw std::invalid_argument("constraint: weight_bits " + std::to_string(spec.weight_bits) +
                                    " outside 2..16 for uniform weights");
    if (!(spec.connectivity > 0.0 && spec.connectivity <= 1.0))
        throw std::invalid_argument("constraint: connectivity " + std::to_string(spec.connectivity) +
                                    " outside (0, 1]");
}

std::map<std::string, long long> memory_bits(const ConstraintSpec& spec, int rows, int cols) {
    validate(spec);
    const bool dense = spec.fanin <= 0;
    const long long entries = static_cast<long long>(rows) * (dense ? cols : spec.fanin);
    return {
        {"cam_address_bits", dense ? 0 : entries * ceil_log2(cols)},
        {"cam_weight_bits", entries * code_bits(spec)},
        {"shared_base_bits", static_cast<long long>(shared_values(spec.kind)) * kSharedValueBits},
    };
}

std::map<std::string, long long> network_memory_bits(const ConstraintSpec& spec, int n_in, int n_rec, int n_out) {
    std::map<std::string, long long> bits;
    long long total = 0;
    auto add = [&](const std::string& group, int rows, int cols) {
        for (const auto& [component, n] : memory_bits(spec, rows, cols)) {
            bits[group + "." + component] = n;
            total += n;
        }
    };
    add("hidden", n_rec, n_in + n_rec);
    add("readout", n_out, n_rec);
    bits["total"] = total;
    return bits;
}

}  // namespace qrsim
