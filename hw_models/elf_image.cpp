#include "hw_models/elf_image.hpp"

#include "firmware/core_map.hpp"

#include <algorithm>
#include <cxxabi.h>
#include <memory>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>

namespace qrsim {
namespace {

constexpr uint64_t kMaxImageBytes = 16u << 20;
constexpr uint32_t kRomWindow = fw::core_map::ram_base - fw::core_map::rom_base;
constexpr uint32_t kRamWindow = fw::core_map::mailbox_base - fw::core_map::ram_base;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw std::runtime_error(origin + ": not a usable firmware image: " + what);
}

class Reader {
public:
    Reader(const std::vector<uint8_t>& b, const std::string& origin) : b_(b), origin_(origin) {}
    uint32_t u32(uint64_t off, const char* field) const {
        need(off, 4, field);
        uint32_t v;
        std::memcpy(&v, b_.data() + off, 4);
        return v;
    }
    uint16_t u16(uint64_t off, const char* field) const {
        need(off, 2, field);
        uint16_t v;
        std::memcpy(&v, b_.data() + off, 2);
        return v;
    }
    uint8_t u8(uint64_t off, const char* field) const {
        need(off, 1, field);
        return b_[off];
    }
    void need(uint64_t off, uint64_t n, const char* field) const {
        if (off > b_.size() || n > b_.size() - off)
            fail(origin_, std::string(field) + " lies outside the file (" + std::to_string(b_.size()) + " bytes)");
    }

private:
    const std::vector<uint8_t>& b_;
    const std::string& origin_;
};

}  // namespace

uint32_t ElfImage::symbol(const std::string& name) const {
    for (const ElfSymbol& s : symbols)
        if (s.name == name) return s.address;
    throw std::runtime_error(path + ": firmware image has no symbol '" + name +
                             "' (link it with firmware/rv32/start.S and firmware/rv32/link.ld)");
}

bool ElfImage::has_symbol(const std::string& name) const {
    return std::any_of(symbols.begin(), symbols.end(), [&](const ElfSymbol& s) { return s.name == name; });
}

std::string ElfImage::function_at(uint32_t address) const {
    const ElfSymbol* best = nullptr;
    for (const ElfSymbol& s : symbols)
        if (s.function && s.address <= address && (s.size == 0 || address < s.address + s.size) &&
            (!best || s.address > best->address))
            best = &s;
    if (!best) return "?";
    char off[16];
    std::snprintf(off, sizeof off, "+0x%x", address - best->address);
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> plain(abi::__cxa_demangle(best->name.c_str(), nullptr, nullptr, &status), std::free);
    return (status == 0 && plain ? std::string(plain.get()) : best->name) + off;
}

ElfImage parse_elf_image(const std::vector<uint8_t>& b, const std::string& origin) {
    const Reader r(b, origin);
    if (b.size() < 20 || std::memcmp(b.data(), "\x7f" "ELF", 4) != 0) fail(origin, "not an ELF file (no ELF header)");
    if (r.u8(5, "e_ident") != 1) fail(origin, "not little-endian");
    // e_machine sits at the same offset in 32- and 64-bit headers: name the architecture first.
    if (const uint16_t machine = r.u16(18, "e_machine"); machine != 243)
        fail(origin, "built for another architecture (e_machine " + std::to_string(machine) +
                         ", not RISC-V 243): build the rule with scripts/build_rule");
    if (r.u8(4, "e_ident") != 1) fail(origin, "a 64-bit RISC-V ELF: the learning core is rv32imc (build the rule with scripts/build_rule)");
    if (b.size() < 52) fail(origin, "the ELF header lies outside the file (" + std::to_string(b.size()) + " bytes)");
    if (r.u16(16, "e_type") != 2) fail(origin, "not an executable (link it; an object file cannot run)");
    ElfImage img;
    img.path = origin;
    img.entry = r.u32(24, "e_entry");
    const uint32_t phoff = r.u32(28, "e_phoff"), shoff = r.u32(32, "e_shoff");
    const uint16_t phentsize = r.u16(42, "e_phentsize"), phnum = r.u16(44, "e_phnum");
    const uint16_t shentsize = r.u16(46, "e_shentsize"), shnum = r.u16(48, "e_shnum");
    if (phnum == 0 || phentsize < 32) fail(origin, "no program headers");

    for (uint32_t i = 0; i < phnum; ++i) {
        const uint64_t ph = phoff + uint64_t{i} * phentsize;
        if (r.u32(ph, "program header") != 1) continue;  // PT_LOAD only
        const uint32_t off = r.u32(ph + 4, "p_offset"), vaddr = r.u32(ph + 8, "p_vaddr"),
                       paddr = r.u32(ph + 12, "p_paddr"), filesz = r.u32(ph + 16, "p_filesz"),
                       memsz = r.u32(ph + 20, "p_memsz"), flags = r.u32(ph + 24, "p_flags");
        if (filesz > memsz) fail(origin, "segment " + std::to_string(i) + " has p_filesz > p_memsz");
        r.need(off, filesz, "segment data");
        if (filesz > 0) {
            if (paddr >= kRomWindow || filesz > kRomWindow - paddr)
                fail(origin, "segment " + std::to_string(i) + " loads outside ROM [0, 0x10000000)");
            if (img.rom.size() < uint64_t{paddr} + filesz) img.rom.resize(uint64_t{paddr} + filesz, 0);
            std::copy(b.begin() + off, b.begin() + off + filesz, img.rom.begin() + paddr);
            if (flags & 1u) img.code_bytes += filesz;
            else img.rodata_bytes += filesz;
        }
        if (vaddr >= fw::core_map::ram_base) {
            if (vaddr - fw::core_map::ram_base > kRamWindow || memsz > kRamWindow - (vaddr - fw::core_map::ram_base))
                fail(origin, "segment " + std::to_string(i) + " lies outside RAM");
            img.ram_bytes = std::max(img.ram_bytes, vaddr - fw::core_map::ram_base + memsz);
        } else if (memsz > filesz) {
            fail(origin, "segment " + std::to_string(i) + " reserves zeroed memory in ROM");
        }
    }
    if (img.rom.empty()) fail(origin, "nothing to load");

    // Symbols: the first SHT_SYMTAB and its string table.
    if (shnum > 0 && shentsize >= 40) {
        for (uint32_t i = 0; i < shnum; ++i) {
            const uint64_t sh = shoff + uint64_t{i} * shentsize;
            if (r.u32(sh + 4, "section header") != 2) continue;  // SHT_SYMTAB
            const uint32_t off = r.u32(sh + 16, "sh_offset"), size = r.u32(sh + 20, "sh_size"),
                           link = r.u32(sh + 24, "sh_link"), entsize = r.u32(sh + 36, "sh_entsize");
            if (link >= shnum || entsize < 16) fail(origin, "symbol table header");
            r.need(off, size, "symbol table");
            const uint64_t strsh = shoff + uint64_t{link} * shentsize;
            const uint32_t stroff = r.u32(strsh + 16, "string table"), strsize = r.u32(strsh + 20, "string table");
            r.need(stroff, strsize, "string table");
            for (uint64_t s = off; s + entsize <= uint64_t{off} + size; s += entsize) {
                const uint32_t name = r.u32(s, "symbol");
                const uint8_t info = r.u8(s + 12, "symbol");
                const uint8_t type = info & 15;
                if (name == 0 || name >= strsize || type > 2) continue;  // NOTYPE, OBJECT, FUNC
                const char* p = reinterpret_cast<const char*>(b.data() + stroff + name);
                const size_t len = strnlen(p, strsize - name);
                ElfSymbol sym;
                sym.name.assign(p, len);
                sym.address = r.u32(s + 4, "symbol");
                sym.size = r.u32(s + 8, "symbol");
                // Functions, and code labels of assembly sources (untyped, in ROM, not linker symbols).
                sym.function = type == 2 || (type == 0 && sym.address < fw::core_map::ram_base && sym.name.rfind("__", 0) != 0 &&
                                             sym.name.rfind(".L", 0) != 0 && sym.name[0] != '$');
                img.symbols.push_back(std::move(sym));
            }
            break;
        }
    }
    std::sort(img.symbols.begin(), img.symbols.end(),
              [](const ElfSymbol& a, const ElfSymbol& c) { return a.address < c.address; });
    if (img.has_symbol("__pool_start")) img.ram_bytes = img.symbol("__pool_start") - fw::core_map::ram_base;
    if (img.has_symbol("__stack_top")) img.stack_bytes = img.symbol("__stack_top") - fw::core_map::ram_base;
    return img;
}

ElfImage load_elf_image(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": firmware image not found (learn.firmware)");
    if (!S_ISREG(st.st_mode)) throw std::runtime_error(path + ": firmware image is not a regular file (learn.firmware)");
    if (static_cast<uint64_t>(st.st_size) > kMaxImageBytes)
        throw std::runtime_error(path + ": firmware image larger than 16 MiB (learn.firmware)");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error(path + ": cannot read the firmware image (learn.firmware)");
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
    f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (f.gcount() != static_cast<std::streamsize>(bytes.size()))
        throw std::runtime_error(path + ": firmware image shorter than its size (learn.firmware)");
    return parse_elf_image(bytes, path);
}

}  // namespace qrsim
