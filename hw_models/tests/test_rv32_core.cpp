// The learning core's instruction-set simulator: a program whose instruction classes and
// cycles are counted by hand, every fault with its message, and random instruction streams
// checked register for register (and RAM word for word) against Unicorn, an independent
// RISC-V emulator (QEMU's TCG), so decoding and semantics are not checked against themselves.
#include "firmware/core_map.hpp"
#include "hw_models/core_timing.hpp"
#include "hw_models/elf_image.hpp"
#include "hw_models/rv32_core.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifdef QRSIM_HAVE_UNICORN
#include <unicorn/unicorn.h>
#endif

using namespace qrsim;

namespace {

// A bus with nothing behind it: every access outside ROM and RAM faults.
struct NoDevices : CoreBus {
    bool load(uint32_t, uint32_t&, std::string&) override { return false; }
    bool store(uint32_t, uint32_t, std::string&) override { return false; }
};

const ElfImage& programs() {
    static const ElfImage img = load_elf_image(QRSIM_TEST_PROGRAMS_ELF);
    return img;
}

std::string fault_of(const char* entry) {
    NoDevices bus;
    Rv32Core core(programs(), 65536, 4096, bus);
    const Rv32Core::Result r = core.run(programs().symbol(entry), programs().symbol("done"), 100000);
    REQUIRE(!r.ok);
    return r.fault;
}

}  // namespace

TEST_CASE("ISS: a hand-counted program retires the expected instructions and cycles", "[rv32]") {
    NoDevices bus;
    Rv32Core core(programs(), 65536, 4096, bus);
    const Rv32Core::Result r = core.run(programs().entry, programs().symbol("tiny_end"), 1000);
    REQUIRE(r.ok);
    const InstrCounts& c = core.counts();
    CHECK(c[InstrClass::alu] == 24);
    CHECK(c[InstrClass::mul] == 10);
    CHECK(c[InstrClass::mulh] == 0);
    CHECK(c[InstrClass::div] == 1);
    CHECK(c[InstrClass::load] == 1);
    CHECK(c[InstrClass::store] == 1);
    CHECK(c[InstrClass::branch_taken] == 9);
    CHECK(c[InstrClass::branch_not_taken] == 1);
    CHECK(c[InstrClass::jump] == 1);
    CHECK(core.ram_accesses() == 2);
    CHECK(core.reg(10) == 30);                    // a0
    CHECK(core.reg(12) == 900);                   // a2 = 30 * 30
    CHECK(core.reg(14) == 30);                    // a4, loaded back
    CHECK(core.reg(15) == 0xFFFFFFFFu);           // a5 = 30 / 0
    // Ibex "small": 24 x 1 + 10 x 3 + 37 + 2 + 2 + 9 x 3 + 1 + 2 = 125 cycles.
    const CoreTiming ibex = load_core_timing(std::string(QRSIM_SOURCE_DIR_TEST) + "/configs/cores/ibex.toml");
    CHECK(ibex.cycles(c) == 125);
}

TEST_CASE("ISS: faults name the fault, the pc and the function", "[rv32]") {
    CHECK_THAT(fault_of("fault_illegal"), Catch::Contains("illegal instruction 0xb0002573") &&
                                              Catch::Contains("in fault_illegal+0x0"));
    CHECK_THAT(fault_of("fault_fetch"), Catch::Contains("instruction fetch from 0x20000000, outside ROM"));
    CHECK_THAT(fault_of("fault_misaligned"), Catch::Contains("misaligned 4-byte load") && Catch::Contains("fault_misaligned"));
    CHECK_THAT(fault_of("fault_unmapped"), Catch::Contains("store to 0x50000000, outside the core's memory map"));
    CHECK_THAT(fault_of("fault_rom_store"), Catch::Contains("store to 0x00000000"));
    CHECK_THAT(fault_of("fault_stack"), Catch::Contains("stack overflow") && Catch::Contains("in recurse"));
    CHECK_THAT(fault_of("fault_loop"), Catch::Contains("instruction budget of 100000 exceeded") &&
                                           Catch::Contains("in fault_loop"));
}

TEST_CASE("ISS: an image that does not fit ROM or RAM is refused", "[rv32]") {
    NoDevices bus;
    CHECK_THROWS_WITH(Rv32Core(programs(), 64, 4096, bus), Catch::Contains("learn.rom_bytes = 64"));
    CHECK_THROWS_WITH(Rv32Core(programs(), 65536, 256, bus), Catch::Contains("learn.ram_bytes = 256"));
    std::vector<uint8_t> junk(64, 0x41);
    CHECK_THROWS_WITH(parse_elf_image(junk, "junk.elf"), Catch::Contains("junk.elf: not a usable firmware image"));
}

#ifdef QRSIM_HAVE_UNICORN
namespace {

uint32_t r_type(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
uint32_t i_type(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
    return (static_cast<uint32_t>(imm & 0xFFF) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}
uint32_t s_type(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
    const uint32_t u = static_cast<uint32_t>(imm & 0xFFF);
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | 0x23;
}

// Random straight-line code: register, immediate and M-extension ops, loads and stores
// relative to x31 (which stays a RAM pointer), and compressed ALU forms.
std::vector<uint8_t> random_program(std::mt19937& g, int n) {
    std::vector<uint8_t> code;
    auto emit32 = [&](uint32_t w) {
        for (int b = 0; b < 4; ++b) code.push_back(static_cast<uint8_t>(w >> (8 * b)));
    };
    auto reg = [&] { return static_cast<uint32_t>(g() % 31); };  // x0..x30: never x31
    std::uniform_int_distribution<int> imm12(-2048, 2047);
    for (int i = 0; i < n; ++i) {
        switch (g() % 6) {
            case 0: {  // OP: base (add/sub/shifts/compares/logic) or M
                const uint32_t f3 = g() % 8;
                const uint32_t kind = g() % 3;
                uint32_t f7 = kind == 2 ? 1u : 0u;
                if (kind == 1 && (f3 == 0 || f3 == 5)) f7 = 0x20;
                emit32(r_type(f7, reg(), reg(), f3, reg(), 0x33));
                break;
            }
            case 1: {  // OP-IMM
                const uint32_t f3 = g() % 8;
                if (f3 == 1 || f3 == 5) {
                    const uint32_t f7 = f3 == 5 && (g() & 1) ? 0x20u : 0u;
                    emit32(r_type(f7, g() % 32, reg(), f3, reg(), 0x13));
                } else {
                    emit32(i_type(imm12(g), reg(), f3, reg(), 0x13));
                }
                break;
            }
            case 2: emit32((g() & 0xFFFFF000u) | (reg() << 7) | ((g() & 1) ? 0x37u : 0x17u)); break;  // lui, auipc
            case 3: {  // loads: lb lh lw lbu lhu
                static const uint32_t f3s[] = {0, 1, 2, 4, 5};
                const uint32_t f3 = f3s[g() % 5];
                const int32_t align = f3 == 2 ? 4 : (f3 == 1 || f3 == 5 ? 2 : 1);
                emit32(i_type((imm12(g) / 8) * align, 31, f3, reg(), 0x03));
                break;
            }
            case 4: {  // stores: sb sh sw
                const uint32_t f3 = g() % 3;
                emit32(s_type((imm12(g) / 8) * (1 << f3), reg(), 31, f3));
                break;
            }
            default: {  // compressed: random halfwords of quadrants 0-2 that decode to ALU/M ops
                for (;;) {
                    const uint32_t h = g() & 0xFFFFu;
                    if ((h & 3) == 3) continue;
                    const Rv32Core::Decoded d = rv32_decode(h);
                    if (d.op == 0 || d.len != 2 || d.rd == 31 || d.rd == 2) continue;
                    // keep ALU forms only: the ops of lui .. and, by the decoded op's name order
                    const uint32_t low = h & 0xE003u;
                    const bool control = low == 0x2001u || low == 0xA001u || low == 0xC001u || low == 0xE001u ||
                                         (low == 0x8002u && ((h >> 2) & 31) == 0);
                    const bool memory = low == 0x4000u || low == 0xC000u || low == 0x4002u || low == 0xC002u;
                    const bool sp_form = low == 0x0000u || (low == 0x6001u && ((h >> 7) & 31) == 2);
                    if (control || memory || sp_form) continue;
                    code.push_back(static_cast<uint8_t>(h));
                    code.push_back(static_cast<uint8_t>(h >> 8));
                    break;
                }
            }
        }
    }
    emit32(0x0000006Fu);  // j . (the stop address)
    return code;
}

// The same program in both emulators; returns the number of differing registers + RAM words.
int compare_with_unicorn(const std::vector<uint8_t>& code, std::mt19937& g) {
    using fw::core_map::ram_base;
    constexpr uint32_t ram_size = 8192;
    ElfImage img;
    img.path = "random";
    img.rom = code;
    NoDevices bus;
    Rv32Core core(img, 65536, ram_size, bus);
    uc_engine* uc = nullptr;
    REQUIRE(uc_open(UC_ARCH_RISCV, UC_MODE_RISCV32, &uc) == UC_ERR_OK);
    REQUIRE(uc_mem_map(uc, 0, 65536, UC_PROT_READ | UC_PROT_EXEC) == UC_ERR_OK);
    REQUIRE(uc_mem_map(uc, ram_base, ram_size, UC_PROT_READ | UC_PROT_WRITE) == UC_ERR_OK);
    REQUIRE(uc_mem_write(uc, 0, code.data(), code.size()) == UC_ERR_OK);
    for (int r = 1; r < 32; ++r) {
        const uint32_t v = r == 31 ? ram_base + 4096 : static_cast<uint32_t>(g());
        core.set_reg(r, v);
        uc_reg_write(uc, UC_RISCV_REG_X0 + r, &v);
    }
    const uint32_t end = static_cast<uint32_t>(code.size() - 4);
    const Rv32Core::Result res = core.run(0, end, 1000000);
    INFO(res.fault);
    REQUIRE(res.ok);
    const uc_err err = uc_emu_start(uc, 0, end, 0, 0);
    INFO(uc_strerror(err));
    REQUIRE(err == UC_ERR_OK);
    int differ = 0;
    for (int r = 1; r < 32; ++r) {
        uint32_t v = 0;
        uc_reg_read(uc, UC_RISCV_REG_X0 + r, &v);
        if (v != core.reg(r)) {
            UNSCOPED_INFO("x" << r << ": unicorn " << v << ", qrsim " << core.reg(r));
            ++differ;
        }
    }
    std::vector<uint8_t> ram(ram_size);
    uc_mem_read(uc, ram_base, ram.data(), ram_size);
    for (uint32_t i = 0; i < ram_size; i += 4) differ += std::memcmp(&ram[i], &core.ram()[i], 4) != 0;
    uc_close(uc);
    return differ;
}

}  // namespace

TEST_CASE("ISS: random instruction streams match Unicorn register for register", "[rv32][unicorn]") {
    std::mt19937 g(20261201);
    int programs_run = 0, differ = 0;
    for (int p = 0; p < 300; ++p) {
        const std::vector<uint8_t> code = random_program(g, 200);
        differ += compare_with_unicorn(code, g);
        ++programs_run;
    }
    std::printf("%d random programs of 200 instructions: %d differing registers or RAM words\n", programs_run, differ);
    CHECK(differ == 0);
}
#endif
