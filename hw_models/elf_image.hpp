// A firmware image for the learning core: an ELF32 little-endian RISC-V executable, read with
// every offset and size checked (a malformed file is one error line naming the file and the
// field, never a crash). Keeps what the core and the reports need: the bytes that load into
// ROM, the entry point, how much RAM the image itself takes, and the symbols (fault messages
// name the function a PC is in; the tile finds the hook entry by name).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qrsim {

struct ElfSymbol {
    uint32_t address = 0, size = 0;
    bool function = false;
    std::string name;
};

struct ElfImage {
    std::string path;
    uint32_t entry = 0;
    std::vector<uint8_t> rom;   // loadable bytes from address 0 (code, read-only data, .data image)
    uint32_t code_bytes = 0;    // executable bytes (.text)
    uint32_t rodata_bytes = 0;  // read-only data and the .data image in ROM
    uint32_t ram_bytes = 0;     // RAM the image reserves: stack + .data + .bss (up to __pool_start)
    uint32_t stack_bytes = 0;   // __stack_top - RAM base
    std::vector<ElfSymbol> symbols;  // sorted by address

    // Address of a symbol; throws one line naming the file if it is missing.
    uint32_t symbol(const std::string& name) const;
    bool has_symbol(const std::string& name) const;
    // "qrsim::fw::learn_init(qrsim::fw::LearnContext&, bool)+0x1c" (demangled) for an address
    // inside a known function or code label, else "?".
    std::string function_at(uint32_t address) const;
};

// Reads and checks an image: a regular file of at most 16 MiB, ELF32, little-endian,
// EM_RISCV, executable, loadable segments inside the core's ROM and RAM windows.
ElfImage load_elf_image(const std::string& path);
ElfImage parse_elf_image(const std::vector<uint8_t>& bytes, const std::string& origin);

}  // namespace qrsim
