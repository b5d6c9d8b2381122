// Shared helpers of the hw_models tests: preset text with edits, the fmnist-rows task.
#pragma once

#include "common/task.hpp"
#include "hw_models/hw_config.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace qrsim::test {

inline std::string preset_text(const std::string& name) {
    std::ifstream in(project_dir() + "/configs/hw/" + name + ".toml");
    if (!in) throw std::runtime_error("missing preset " + name);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The preset with each `from` replaced by `to` (each must occur).
inline HwConfig edited_preset(const std::string& name, const std::vector<std::pair<std::string, std::string>>& edits) {
    std::string text = preset_text(name);
    for (const auto& [from, to] : edits) {
        const size_t at = text.find(from);
        if (at == std::string::npos) throw std::runtime_error("test edit not found: " + from);
        text.replace(at, from.size(), to);
    }
    return resolve_hw_config(parse_hw_config(text, name + "(edited)"), name + "(edited)", project_dir());
}

inline std::unique_ptr<Task> fmnist_rows(int test_samples) {
    TaskOptions o;
    o.name = "fmnist-rows";
    o.train_samples = 1;
    o.test_samples = test_samples;
    return make_task(o);
}

}  // namespace qrsim::test
