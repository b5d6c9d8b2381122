#include "hw_models/rv32_core.hpp"

#include "firmware/core_map.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <cstring>
#include <stdexcept>

namespace qrsim {
namespace {

enum Op : uint8_t {
    op_illegal = 0,
    op_lui, op_auipc, op_jal, op_jalr,
    op_beq, op_bne, op_blt, op_bge, op_bltu, op_bgeu,
    op_lb, op_lh, op_lw, op_lbu, op_lhu, op_sb, op_sh, op_sw,
    op_addi, op_slti, op_sltiu, op_xori, op_ori, op_andi, op_slli, op_srli, op_srai,
    op_add, op_sub, op_sll, op_slt, op_sltu, op_xor, op_srl, op_sra, op_or, op_and,
    op_mul, op_mulh, op_mulhsu, op_mulhu, op_div, op_divu, op_rem, op_remu,
    op_fence,
    op_stop,  // placed at the stop address for the duration of a run
    op_count_
};

inline int32_t sext(uint32_t v, int bits) { return static_cast<int32_t>(v << (32 - bits)) >> (32 - bits); }
inline uint32_t bit(uint32_t v, int i) { return (v >> i) & 1u; }
inline uint32_t bits(uint32_t v, int hi, int lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1u); }

Rv32Core::Decoded make(uint8_t op, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm, uint8_t len) {
    Rv32Core::Decoded d;
    d.op = op;
    d.rd = static_cast<uint8_t>(rd);
    d.rs1 = static_cast<uint8_t>(rs1);
    d.rs2 = static_cast<uint8_t>(rs2);
    d.imm = imm;
    d.len = len;
    return d;
}

Rv32Core::Decoded decode32(uint32_t in) {
    const uint32_t rd = bits(in, 11, 7), rs1 = bits(in, 19, 15), rs2 = bits(in, 24, 20);
    const uint32_t f3 = bits(in, 14, 12), f7 = bits(in, 31, 25);
    const int32_t imm_i = static_cast<int32_t>(in) >> 20;
    const int32_t imm_s = sext((bits(in, 31, 25) << 5) | bits(in, 11, 7), 12);
    const int32_t imm_b = sext((bit(in, 31) << 12) | (bit(in, 7) << 11) | (bits(in, 30, 25) << 5) | (bits(in, 11, 8) << 1), 13);
    const int32_t imm_u = static_cast<int32_t>(in & 0xFFFFF000u);
    const int32_t imm_j = sext((bit(in, 31) << 20) | (bits(in, 19, 12) << 12) | (bit(in, 20) << 11) | (bits(in, 30, 21) << 1), 21);
    switch (in & 0x7F) {
        case 0x37: return make(op_lui, rd, 0, 0, imm_u, 4);
        case 0x17: return make(op_auipc, rd, 0, 0, imm_u, 4);
        case 0x6F: return make(op_jal, rd, 0, 0, imm_j, 4);
        case 0x67: return f3 == 0 ? make(op_jalr, rd, rs1, 0, imm_i, 4) : Rv32Core::Decoded{};
        case 0x63: {
            static const uint8_t ops[8] = {op_beq, op_bne, op_illegal, op_illegal, op_blt, op_bge, op_bltu, op_bgeu};
            return make(ops[f3], 0, rs1, rs2, imm_b, 4);
        }
        case 0x03: {
            static const uint8_t ops[8] = {op_lb, op_lh, op_lw, op_illegal, op_lbu, op_lhu, op_illegal, op_illegal};
            return make(ops[f3], rd, rs1, 0, imm_i, 4);
        }
        case 0x23: {
            static const uint8_t ops[8] = {op_sb, op_sh, op_sw, op_illegal, op_illegal, op_illegal, op_illegal, op_illegal};
            return make(ops[f3], 0, rs1, rs2, imm_s, 4);
        }
        case 0x13: {
            switch (f3) {
                case 0: return make(op_addi, rd, rs1, 0, imm_i, 4);
                case 2: return make(op_slti, rd, rs1, 0, imm_i, 4);
                case 3: return make(op_sltiu, rd, rs1, 0, imm_i, 4);
                case 4: return make(op_xori, rd, rs1, 0, imm_i, 4);
                case 6: return make(op_ori, rd, rs1, 0, imm_i, 4);
                case 7: return make(op_andi, rd, rs1, 0, imm_i, 4);
                case 1: return f7 == 0 ? make(op_slli, rd, rs1, 0, static_cast<int32_t>(rs2), 4) : Rv32Core::Decoded{};
                default:
                    if (f7 == 0) return make(op_srli, rd, rs1, 0, static_cast<int32_t>(rs2), 4);
                    if (f7 == 0x20) return make(op_srai, rd, rs1, 0, static_cast<int32_t>(rs2), 4);
                    return Rv32Core::Decoded{};
            }
        }
        case 0x33: {
            if (f7 == 0x01) {
                static const uint8_t ops[8] = {op_mul, op_mulh, op_mulhsu, op_mulhu, op_div, op_divu, op_rem, op_remu};
                return make(ops[f3], rd, rs1, rs2, 0, 4);
            }
            if (f7 == 0) {
                static const uint8_t ops[8] = {op_add, op_sll, op_slt, op_sltu, op_xor, op_srl, op_or, op_and};
                return make(ops[f3], rd, rs1, rs2, 0, 4);
            }
            if (f7 == 0x20 && f3 == 0) return make(op_sub, rd, rs1, rs2, 0, 4);
            if (f7 == 0x20 && f3 == 5) return make(op_sra, rd, rs1, rs2, 0, 4);
            return Rv32Core::Decoded{};
        }
        case 0x0F: return f3 <= 1 ? make(op_fence, 0, 0, 0, 0, 4) : Rv32Core::Decoded{};
        default: return Rv32Core::Decoded{};  // system (ecall, ebreak, csr) and everything else
    }
}

// RV32C: each compressed instruction expands to the base instruction it stands for.
Rv32Core::Decoded decode16(uint32_t in) {
    const uint32_t f3 = bits(in, 15, 13);
    const uint32_t rd = bits(in, 11, 7), rs2 = bits(in, 6, 2);
    const uint32_t rdp = bits(in, 4, 2) + 8, rs1p = bits(in, 9, 7) + 8;
    const int32_t imm6 = sext((bit(in, 12) << 5) | bits(in, 6, 2), 6);
    Rv32Core::Decoded bad;
    switch (in & 3) {
        case 0:
            if (f3 == 0) {  // c.addi4spn
                const uint32_t imm = (bits(in, 10, 7) << 6) | (bits(in, 12, 11) << 4) | (bit(in, 5) << 3) | (bit(in, 6) << 2);
                return imm ? make(op_addi, rdp, 2, 0, static_cast<int32_t>(imm), 2) : bad;
            }
            if (f3 == 2 || f3 == 6) {  // c.lw, c.sw
                const int32_t off = static_cast<int32_t>((bit(in, 5) << 6) | (bits(in, 12, 10) << 3) | (bit(in, 6) << 2));
                return f3 == 2 ? make(op_lw, rdp, rs1p, 0, off, 2) : make(op_sw, 0, rs1p, rdp, off, 2);
            }
            return bad;
        case 1:
            switch (f3) {
                case 0: return make(op_addi, rd, rd, 0, imm6, 2);  // c.addi, c.nop
                case 1:
                case 5: {  // c.jal, c.j
                    const int32_t off = sext((bit(in, 12) << 11) | (bit(in, 8) << 10) | (bits(in, 10, 9) << 8) |
                                                 (bit(in, 6) << 7) | (bit(in, 7) << 6) | (bit(in, 2) << 5) |
                                                 (bit(in, 11) << 4) | (bits(in, 5, 3) << 1),
                                             12);
                    return make(op_jal, f3 == 1 ? 1 : 0, 0, 0, off, 2);
                }
                case 2: return make(op_addi, rd, 0, 0, imm6, 2);  // c.li
                case 3:
                    if (rd == 2) {  // c.addi16sp
                        const int32_t imm = sext((bit(in, 12) << 9) | (bits(in, 4, 3) << 7) | (bit(in, 5) << 6) |
                                                     (bit(in, 2) << 5) | (bit(in, 6) << 4),
                                                 10);
                        return imm ? make(op_addi, 2, 2, 0, imm, 2) : bad;
                    }
                    return imm6 ? make(op_lui, rd, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(imm6) << 12), 2) : bad;
                case 4: {
                    const uint32_t f2 = bits(in, 11, 10);
                    const int32_t shamt = static_cast<int32_t>(bits(in, 6, 2));
                    if (f2 == 0) return bit(in, 12) ? bad : make(op_srli, rs1p, rs1p, 0, shamt, 2);
                    if (f2 == 1) return bit(in, 12) ? bad : make(op_srai, rs1p, rs1p, 0, shamt, 2);
                    if (f2 == 2) return make(op_andi, rs1p, rs1p, 0, imm6, 2);
                    if (bit(in, 12)) return bad;
                    static const uint8_t ops[4] = {op_sub, op_xor, op_or, op_and};
                    return make(ops[bits(in, 6, 5)], rs1p, rs1p, rdp, 0, 2);
                }
                default: {  // c.beqz, c.bnez
                    const int32_t off = sext((bit(in, 12) << 8) | (bits(in, 6, 5) << 6) | (bit(in, 2) << 5) |
                                                 (bits(in, 11, 10) << 3) | (bits(in, 4, 3) << 1),
                                             9);
                    return make(f3 == 6 ? op_beq : op_bne, 0, rs1p, 0, off, 2);
                }
            }
        case 2:
            if (f3 == 0) return bit(in, 12) ? bad : make(op_slli, rd, rd, 0, static_cast<int32_t>(rs2), 2);
            if (f3 == 2) {  // c.lwsp
                const int32_t off = static_cast<int32_t>((bits(in, 3, 2) << 6) | (bit(in, 12) << 5) | (bits(in, 6, 4) << 2));
                return rd ? make(op_lw, rd, 2, 0, off, 2) : bad;
            }
            if (f3 == 4) {
                if (!bit(in, 12)) {
                    if (rs2 == 0) return rd ? make(op_jalr, 0, rd, 0, 0, 2) : bad;  // c.jr
                    return make(op_add, rd, 0, rs2, 0, 2);                           // c.mv
                }
                if (rs2 == 0) return rd ? make(op_jalr, 1, rd, 0, 0, 2) : bad;  // c.jalr (c.ebreak: rd = 0)
                return make(op_add, rd, rd, rs2, 0, 2);                          // c.add
            }
            if (f3 == 6) {  // c.swsp
                const int32_t off = static_cast<int32_t>((bits(in, 8, 7) << 6) | (bits(in, 12, 9) << 2));
                return make(op_sw, 0, 2, rs2, off, 2);
            }
            return bad;
        default: return bad;
    }
}

std::string hex(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08x", v);
    return b;
}

}  // namespace

const char* instr_class_name(InstrClass c) {
    static const char* names[] = {"alu", "mul", "mulh", "div", "load", "store", "branch_taken", "branch_not_taken", "jump"};
    return names[static_cast<int>(c)];
}

Rv32Core::Decoded rv32_decode(uint32_t in) {
    Rv32Core::Decoded d = (in & 3) == 3 ? decode32(in) : decode16(in & 0xFFFFu);
    if (d.op == op_illegal) d.len = (in & 3) == 3 ? 4 : 2;
    return d;
}

Rv32Core::Rv32Core(const ElfImage& image, uint32_t rom_bytes, uint32_t ram_bytes, CoreBus& bus)
    : image_(image), bus_(bus) {
    if (image.rom.size() > rom_bytes)
        throw std::runtime_error(image.path + ": firmware image needs " + std::to_string(image.rom.size()) +
                                 " bytes of ROM (code " + std::to_string(image.code_bytes) + ", read-only data " +
                                 std::to_string(image.rodata_bytes) + "), learn.rom_bytes = " + std::to_string(rom_bytes));
    if (image.ram_bytes > ram_bytes)
        throw std::runtime_error(image.path + ": firmware image needs " + std::to_string(image.ram_bytes) +
                                 " bytes of RAM (stack, data, bss), learn.ram_bytes = " + std::to_string(ram_bytes));
    rom_.assign(rom_bytes, 0);
    std::copy(image.rom.begin(), image.rom.end(), rom_.begin());
    ram_.assign(ram_bytes, 0);
    decode_rom();
}

void Rv32Core::decode_rom() {
    code_.assign(rom_.size() / 2 + 2, Decoded{});  // + an illegal sentinel past the end
    for (size_t h = 0; h + 1 < rom_.size(); h += 2) {
        uint32_t in = rom_[h] | (uint32_t{rom_[h + 1]} << 8);
        if ((in & 3) == 3 && h + 3 < rom_.size()) in |= (uint32_t{rom_[h + 2]} << 16) | (uint32_t{rom_[h + 3]} << 24);
        code_[h / 2] = rv32_decode(in);
    }
}

void Rv32Core::enable_profile() { profile_.assign(rom_.size() / 2 + 2, 0); }

std::vector<std::pair<std::string, uint64_t>> Rv32Core::profile_by_function() const {
    std::map<std::string, uint64_t> by;
    for (size_t h = 0; h < profile_.size(); ++h)
        if (profile_[h]) {
            std::string f = image_.function_at(static_cast<uint32_t>(2 * h));
            f = f.substr(0, f.find('+'));
            by[f] += profile_[h];
        }
    std::vector<std::pair<std::string, uint64_t>> out(by.begin(), by.end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    return out;
}

std::string Rv32Core::where(uint32_t pc) const { return "pc " + hex(pc) + " in " + image_.function_at(pc); }

// A threaded interpreter (GCC's labels as values): every handler ends by dispatching the
// next instruction itself, which keeps the host's branch predictor per handler. Control
// leaves ROM only through a jump or a taken branch, so only those check the target; the
// stop address and the budget are checked there too (a loop must jump).
Rv32Core::Result Rv32Core::run(uint32_t entry, uint32_t until, uint64_t budget) {
    using fw::core_map::ram_base;
    static void* const handlers[op_count_] = {
        &&illegal, &&lui, &&auipc, &&jal, &&jalr, &&beq, &&bne, &&blt, &&bge, &&bltu, &&bgeu,
        &&lb, &&lh, &&lw, &&lbu, &&lhu, &&sb, &&sh, &&sw,
        &&addi, &&slti, &&sltiu, &&xori, &&ori, &&andi, &&slli, &&srli, &&srai,
        &&add, &&sub, &&sll, &&slt, &&sltu, &&xor_, &&srl, &&sra, &&or_, &&and_,
        &&mul, &&mulh, &&mulhsu, &&mulhu, &&div, &&divu, &&rem, &&remu, &&fence, &&stop};
    Result res;
    uint32_t* const x = x_.data();
    uint8_t* const ram = ram_.data();
    const uint8_t* const rom = rom_.data();
    const uint32_t ram_size = static_cast<uint32_t>(ram_.size()), rom_size = static_cast<uint32_t>(rom_.size());
    const Decoded* const code = code_.data();
    uint64_t* const n = counts_.n.data();
    const uint64_t start_total = counts_.total();
    std::string error;
    uint32_t pc = entry, addr = 0, w = 0;
    uint32_t transfers = 0, block_start = entry;
    const Decoded* d = nullptr;
    profiled_total_ = counts_.total();
    if (until >= rom_size || (until & 1)) return Result{false, "stop address " + hex(until) + " outside ROM"};
    // The stop address gets a stop handler for this run, so reaching it sequentially stops too.
    struct StopMark {
        Decoded& slot;
        Decoded saved;
        ~StopMark() { slot = saved; }
    } mark{code_[until >> 1], code_[until >> 1]};
    mark.slot.op = op_stop;

    auto fault = [&](const std::string& what) {
        res.ok = false;
        res.fault = what + " at " + where(pc);
        pc_ = pc;
        return res;
    };
    auto access_fault = [&](uint32_t a, bool is_store) {
        if (a < ram_base && a >= ram_base - 0x10000u)
            return fault("stack overflow (" + std::string(is_store ? "store" : "load") + " at " + hex(a) +
                         ", below RAM: the stack is " + std::to_string(image_.stack_bytes) + " bytes)");
        if (!error.empty()) return fault(error);
        return fault(std::string(is_store ? "store to " : "load from ") + hex(a) + ", outside the core's memory map");
    };
    auto in_ram = [&](uint32_t a, uint32_t size) { return a - ram_base < ram_size && ram_size - (a - ram_base) >= size; };
    auto count = [&](InstrClass c) { ++n[static_cast<int>(c)]; };

#define QR_RD(value)                     \
    do {                                 \
        x[d->rd] = (value);              \
        x[0] = 0;                        \
    } while (0)
#define QR_NEXT()                        \
    do {                                 \
        pc += d->len;                    \
        d = code + (pc >> 1);            \
        goto* handlers[d->op];           \
    } while (0)
#define QR_JUMP(target)                  \
    do {                                 \
        pc = (target);                   \
        goto transfer;                   \
    } while (0)
#define QR_A x[d->rs1]
#define QR_B x[d->rs2]
#define QR_IMM static_cast<uint32_t>(d->imm)

transfer:
    if (!profile_.empty()) {  // the instructions since the last transfer ran from block_start
        const uint64_t total = counts_.total();
        profile_[block_start >> 1] += total - profiled_total_;
        profiled_total_ = total;
        block_start = pc;
    }
    if (pc >= rom_size || (pc & 1))
        return fault("instruction fetch from " + hex(pc) + (pc & 1 ? " (misaligned)" : ", outside ROM"));
    // The budget is checked every 256 control transfers (a loop that never ends transfers).
    if ((++transfers & 255) == 0 && counts_.total() - start_total > budget)
        return fault("instruction budget of " + std::to_string(budget) +
                     " exceeded (learn.hook_budget: a hook that never returns?)");
    d = code + (pc >> 1);
    goto* handlers[d->op];

stop:
    if (!profile_.empty()) profile_[block_start >> 1] += counts_.total() - profiled_total_;
    pc_ = pc;
    return res;
illegal: {
    if (pc >= rom_size) return fault("instruction fetch from " + hex(pc) + ", past the end of ROM");
    uint32_t raw = rom[pc] | (uint32_t{rom[pc + 1]} << 8);
    if ((raw & 3) == 3 && pc + 3 < rom_size) raw |= (uint32_t{rom[pc + 2]} << 16) | (uint32_t{rom[pc + 3]} << 24);
    return fault("illegal instruction " + hex(raw));
}
lui: count(InstrClass::alu); QR_RD(QR_IMM); QR_NEXT();
auipc: count(InstrClass::alu); QR_RD(pc + QR_IMM); QR_NEXT();
jal: {
    count(InstrClass::jump);
    const uint32_t link = pc + d->len;
    const uint32_t target = pc + QR_IMM;
    QR_RD(link);
    QR_JUMP(target);
}
jalr: {
    count(InstrClass::jump);
    const uint32_t link = pc + d->len;
    const uint32_t target = (QR_A + QR_IMM) & ~1u;
    QR_RD(link);
    QR_JUMP(target);
}
#define QR_BRANCH(cond)                                   \
    if (cond) {                                           \
        count(InstrClass::branch_taken);                  \
        QR_JUMP(pc + QR_IMM);                             \
    }                                                     \
    count(InstrClass::branch_not_taken);                  \
    QR_NEXT();
beq: QR_BRANCH(QR_A == QR_B)
bne: QR_BRANCH(QR_A != QR_B)
blt: QR_BRANCH(static_cast<int32_t>(QR_A) < static_cast<int32_t>(QR_B))
bge: QR_BRANCH(static_cast<int32_t>(QR_A) >= static_cast<int32_t>(QR_B))
bltu: QR_BRANCH(QR_A < QR_B)
bgeu: QR_BRANCH(QR_A >= QR_B)
#define QR_LOAD(size, convert)                                                     \
    count(InstrClass::load);                                                       \
    addr = QR_A + QR_IMM;                                                          \
    if (addr & ((size)-1)) return fault("misaligned " #size "-byte load from " + hex(addr)); \
    if (in_ram(addr, size)) {                                                      \
        w = 0;                                                                     \
        std::memcpy(&w, ram + (addr - ram_base), size);                            \
        ++ram_accesses_;                                                           \
    } else if (addr < rom_size && rom_size - addr >= (size)) {                     \
        w = 0;                                                                     \
        std::memcpy(&w, rom + addr, size);                                         \
    } else if (!((size) == 4 && bus_.load(addr, w, error))) {                      \
        return access_fault(addr, false);                                          \
    }                                                                              \
    QR_RD(convert);                                                                \
    QR_NEXT();
lb: QR_LOAD(1, static_cast<uint32_t>(sext(w & 0xFFu, 8)))
lh: QR_LOAD(2, static_cast<uint32_t>(sext(w & 0xFFFFu, 16)))
lw: QR_LOAD(4, w)
lbu: QR_LOAD(1, w)
lhu: QR_LOAD(2, w)
#define QR_STORE(size)                                                             \
    count(InstrClass::store);                                                      \
    addr = QR_A + QR_IMM;                                                          \
    if (addr & ((size)-1)) return fault("misaligned " #size "-byte store to " + hex(addr)); \
    if (in_ram(addr, size)) {                                                      \
        w = QR_B;                                                                  \
        std::memcpy(ram + (addr - ram_base), &w, size);                            \
        ++ram_accesses_;                                                           \
    } else if (!((size) == 4 && bus_.store(addr, QR_B, error))) {                  \
        return access_fault(addr, true);                                           \
    }                                                                              \
    QR_NEXT();
sb: QR_STORE(1)
sh: QR_STORE(2)
sw: QR_STORE(4)
addi: count(InstrClass::alu); QR_RD(QR_A + QR_IMM); QR_NEXT();
slti: count(InstrClass::alu); QR_RD(static_cast<int32_t>(QR_A) < d->imm); QR_NEXT();
sltiu: count(InstrClass::alu); QR_RD(QR_A < QR_IMM); QR_NEXT();
xori: count(InstrClass::alu); QR_RD(QR_A ^ QR_IMM); QR_NEXT();
ori: count(InstrClass::alu); QR_RD(QR_A | QR_IMM); QR_NEXT();
andi: count(InstrClass::alu); QR_RD(QR_A & QR_IMM); QR_NEXT();
slli: count(InstrClass::alu); QR_RD(QR_A << d->imm); QR_NEXT();
srli: count(InstrClass::alu); QR_RD(QR_A >> d->imm); QR_NEXT();
srai: count(InstrClass::alu); QR_RD(static_cast<uint32_t>(static_cast<int32_t>(QR_A) >> d->imm)); QR_NEXT();
add: count(InstrClass::alu); QR_RD(QR_A + QR_B); QR_NEXT();
sub: count(InstrClass::alu); QR_RD(QR_A - QR_B); QR_NEXT();
sll: count(InstrClass::alu); QR_RD(QR_A << (QR_B & 31)); QR_NEXT();
slt: count(InstrClass::alu); QR_RD(static_cast<int32_t>(QR_A) < static_cast<int32_t>(QR_B)); QR_NEXT();
sltu: count(InstrClass::alu); QR_RD(QR_A < QR_B); QR_NEXT();
xor_: count(InstrClass::alu); QR_RD(QR_A ^ QR_B); QR_NEXT();
srl: count(InstrClass::alu); QR_RD(QR_A >> (QR_B & 31)); QR_NEXT();
sra: count(InstrClass::alu); QR_RD(static_cast<uint32_t>(static_cast<int32_t>(QR_A) >> (QR_B & 31))); QR_NEXT();
or_: count(InstrClass::alu); QR_RD(QR_A | QR_B); QR_NEXT();
and_: count(InstrClass::alu); QR_RD(QR_A & QR_B); QR_NEXT();
mul: count(InstrClass::mul); QR_RD(QR_A * QR_B); QR_NEXT();
mulh:
    count(InstrClass::mulh);
    QR_RD(static_cast<uint32_t>((int64_t{static_cast<int32_t>(QR_A)} * int64_t{static_cast<int32_t>(QR_B)}) >> 32));
    QR_NEXT();
mulhsu:
    count(InstrClass::mulh);
    QR_RD(static_cast<uint32_t>((int64_t{static_cast<int32_t>(QR_A)} * static_cast<int64_t>(QR_B)) >> 32));
    QR_NEXT();
mulhu: count(InstrClass::mulh); QR_RD(static_cast<uint32_t>((uint64_t{QR_A} * uint64_t{QR_B}) >> 32)); QR_NEXT();
div: {
    count(InstrClass::div);
    const uint32_t a = QR_A, b = QR_B;
    QR_RD(b == 0 ? 0xFFFFFFFFu
                 : (a == 0x80000000u && b == 0xFFFFFFFFu ? a
                                                          : static_cast<uint32_t>(static_cast<int32_t>(a) / static_cast<int32_t>(b))));
    QR_NEXT();
}
divu: {
    count(InstrClass::div);
    const uint32_t a = QR_A, b = QR_B;
    QR_RD(b == 0 ? 0xFFFFFFFFu : a / b);
    QR_NEXT();
}
rem: {
    count(InstrClass::div);
    const uint32_t a = QR_A, b = QR_B;
    QR_RD(b == 0 ? a
                 : (a == 0x80000000u && b == 0xFFFFFFFFu ? 0u
                                                          : static_cast<uint32_t>(static_cast<int32_t>(a) % static_cast<int32_t>(b))));
    QR_NEXT();
}
remu: {
    count(InstrClass::div);
    const uint32_t a = QR_A, b = QR_B;
    QR_RD(b == 0 ? a : a % b);
    QR_NEXT();
}
fence: count(InstrClass::alu); QR_NEXT();

#undef QR_RD
#undef QR_NEXT
#undef QR_JUMP
#undef QR_A
#undef QR_B
#undef QR_IMM
#undef QR_BRANCH
#undef QR_LOAD
#undef QR_STORE
}

}  // namespace qrsim
