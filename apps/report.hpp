// The machine-readable report every qrsim command writes with --report FILE.json.
// Shared keys: test_accuracy, train_accuracy, train_samples_per_s, epochs, seed,
// wall_time_s, config (the resolved config), epoch_history; null where a command has
// no such figure (eval does not train). Commands add their own keys next to them.
#pragma once

#include "apps/config.hpp"
#include "hw_models/hw_config.hpp"

#include <nlohmann/json.hpp>
#include <cstdio>
#include <string>

namespace qrsim::app {

// The shared keys, figures null, config and seed filled in.
nlohmann::json base_report(const std::string& command, const Config& config);

// Pretty-printed, written atomically.
// The hardware a run used: preset, file, tiles, K and the device mismatch drawn.
nlohmann::json hw_report(const HwConfig& hw);
// One line naming the mismatch drawn, when there is any.
void print_mismatch(std::FILE* out, const HwConfig& hw);

void write_report(const std::string& path, const nlohmann::json& report);
std::string report_text(const nlohmann::json& report);

}  // namespace qrsim::app
