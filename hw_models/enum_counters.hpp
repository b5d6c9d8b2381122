// A count per value of an enum class (actions of the tile, instruction classes of the
// learning core): the one shape every counter of the model has.
#pragma once

#include <array>
#include <cstdint>

namespace qrsim {

template <class Enum, int N>
struct EnumCounters {
    std::array<uint64_t, N> n{};

    uint64_t& operator[](Enum e) { return n[static_cast<int>(e)]; }
    uint64_t operator[](Enum e) const { return n[static_cast<int>(e)]; }
    uint64_t total() const {
        uint64_t t = 0;
        for (uint64_t v : n) t += v;
        return t;
    }
    EnumCounters& operator+=(const EnumCounters& o) {
        for (int i = 0; i < N; ++i) n[i] += o.n[i];
        return *this;
    }
    EnumCounters operator-(const EnumCounters& o) const {
        EnumCounters d;
        for (int i = 0; i < N; ++i) d.n[i] = n[i] - o.n[i];
        return d;
    }
};

}  // namespace qrsim
