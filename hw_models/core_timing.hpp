// The learning core's timing: cycles per instruction class of a named, published core
// (configs/cores/*.toml, each citing its source), so cycles = instructions retired by class
// x CPI. One definition, used by the tile (step timing), the reports and the benchmarks.
#pragma once

#include "hw_models/rv32_core.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace qrsim {

struct CoreTiming {
    std::string name, description, source, path;
    std::array<uint32_t, kInstrClassCount> cpi{};

    uint64_t cycles(const InstrCounts& c) const {
        uint64_t t = 0;
        for (int i = 0; i < kInstrClassCount; ++i) t += c.n[i] * cpi[i];
        return t;
    }
};

// Reads a timing table; every class must be present, 1..1000 cycles. Errors name the file
// and the key.
CoreTiming load_core_timing(const std::string& path);

}  // namespace qrsim
