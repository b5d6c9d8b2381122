#include "hw_models/core_timing.hpp"

#include <stdexcept>
#include <toml++/toml.h>

namespace qrsim {

CoreTiming load_core_timing(const std::string& path) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw std::runtime_error(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    CoreTiming t;
    t.path = path;
    t.name = root["name"].value_or(std::string{});
    t.description = root["description"].value_or(std::string{});
    t.source = root["source"].value_or(std::string{});
    if (t.name.empty() || t.source.empty())
        throw std::runtime_error(path + ": a core timing table needs `name` and `source` (the document its cycles come from)");
    const toml::table* cycles = root["cycles"].as_table();
    if (!cycles) throw std::runtime_error(path + ": missing table [cycles]");
    for (int i = 0; i < kInstrClassCount; ++i) {
        const char* key = instr_class_name(static_cast<InstrClass>(i));
        const auto v = (*cycles)[key].value<int64_t>();
        if (!v) throw std::runtime_error(path + ": cycles." + key + " missing (an integer number of cycles)");
        if (*v < 1 || *v > 1000)
            throw std::runtime_error(path + ": cycles." + key + " = " + std::to_string(*v) + " out of range [1, 1000]");
        t.cpi[i] = static_cast<uint32_t>(*v);
    }
    for (const auto& [k, node] : *cycles) {
        bool known = false;
        for (int i = 0; i < kInstrClassCount; ++i) known |= k.str() == instr_class_name(static_cast<InstrClass>(i));
        if (!known) throw std::runtime_error(path + ": unknown key cycles." + std::string(k.str()));
    }
    return t;
}

}  // namespace qrsim
