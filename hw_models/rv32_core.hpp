// An RV32IMC instruction-set simulator: the learning core of a tile.
//
// Why not Unicorn: Debian's libunicorn 2.0.1 takes every store through QEMU's not-dirty slow
// path (about 400 ns per store measured here; fixed upstream only in 2.1), and learning
// firmware stores into its working buffers all the time, so it ran e-prop 5-50x slower than
// this interpreter. Unicorn stays the independent oracle the tests compare this core with
// (hw_models/tests/test_rv32_core.cpp).
//
// The core executes from ROM (the image's code and read-only data) and keeps its data in
// RAM; every other address goes to a CoreBus (the tile's registers and learning memories).
// It counts instructions retired by class; cycles are the counts x a CPI table
// (hw_models/core_timing.hpp). Faults stop it with a message naming the PC's function:
// illegal instruction, fetch or access outside the map, misaligned access, an access below
// RAM (the stack overflowed: the stack sits at the bottom of RAM), and an instruction budget
// exceeded (a hook that never returns).
#pragma once

#include "hw_models/elf_image.hpp"
#include "hw_models/enum_counters.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qrsim {

enum class InstrClass : uint8_t {
    alu,                // integer register / immediate ops, lui, auipc, fence
    mul,                // mul
    mulh,               // mulh, mulhsu, mulhu
    div,                // div, divu, rem, remu
    load,
    store,
    branch_taken,
    branch_not_taken,
    jump,               // jal, jalr
    count_
};
inline constexpr int kInstrClassCount = static_cast<int>(InstrClass::count_);
const char* instr_class_name(InstrClass c);

using InstrCounts = EnumCounters<InstrClass, kInstrClassCount>;

// What the core reaches outside ROM and RAM: aligned 32-bit words only. Returning false
// means nothing answers at that address (the core faults). A bus that finds a fault of its
// own (a value too wide for its memory) sets `error` and returns false.
class CoreBus {
public:
    virtual ~CoreBus() = default;
    virtual bool load(uint32_t address, uint32_t& value, std::string& error) = 0;
    virtual bool store(uint32_t address, uint32_t value, std::string& error) = 0;
};

class Rv32Core {
public:
    // Maps the image: ROM = its loadable bytes from address 0, RAM = ram_bytes at
    // core_map::ram_base. Throws one line if the image does not fit.
    Rv32Core(const ElfImage& image, uint32_t rom_bytes, uint32_t ram_bytes, CoreBus& bus);

    struct Result {
        bool ok = true;
        std::string fault;  // "illegal instruction 0x... at pc 0x... in fw::foo" etc.
    };
    // Runs from `entry` until the PC reaches `until`, at most `budget` instructions.
    Result run(uint32_t entry, uint32_t until, uint64_t budget);

    const InstrCounts& counts() const { return counts_; }
    uint64_t ram_accesses() const { return ram_accesses_; }  // loads and stores that hit RAM
    uint32_t reg(int i) const { return x_[i]; }
    void set_reg(int i, uint32_t v) {
        if (i > 0 && i < 32) x_[i] = v;
    }
    uint32_t pc() const { return pc_; }
    const std::vector<uint8_t>& ram() const { return ram_; }
    const ElfImage& image() const { return image_; }
    // Profiling (off by default: it costs time): instructions retired per function of the
    // image, from then on; most expensive first.
    void enable_profile();
    std::vector<std::pair<std::string, uint64_t>> profile_by_function() const;

    struct Decoded {
        uint8_t op = 0, rd = 0, rs1 = 0, rs2 = 0;
        uint8_t len = 4;
        int32_t imm = 0;
    };

private:
    std::string where(uint32_t pc) const;
    void decode_rom();

    const ElfImage& image_;
    std::vector<uint8_t> rom_, ram_;
    std::vector<Decoded> code_;  // one per halfword of ROM
    CoreBus& bus_;
    std::array<uint32_t, 32> x_{};
    uint32_t pc_ = 0;
    InstrCounts counts_;
    uint64_t ram_accesses_ = 0;
    std::vector<uint64_t> profile_;  // instructions by the halfword their block starts at
    uint64_t profiled_total_ = 0;
};

// Decodes one instruction (16- or 32-bit, from its low halfword first); op 0 = illegal.
Rv32Core::Decoded rv32_decode(uint32_t bits);

}  // namespace qrsim
