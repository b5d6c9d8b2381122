#include "apps/report.hpp"

#include "common/atomic_file.hpp"

namespace qrsim::app {

nlohmann::json base_report(const std::string& command, const Config& config) {
    return {
        {"command", command},
        {"test_accuracy", nullptr},
        {"train_accuracy", nullptr},
        {"train_samples_per_s", nullptr},
        {"epochs", 0},
        {"seed", config.seed},
        {"wall_time_s", nullptr},
        {"config", config_to_json(config)},
        {"epoch_history", nlohmann::json::array()},
    };
}

// Strings from the command line may hold invalid UTF-8: replaced (U+FFFD), not thrown.
std::string report_text(const nlohmann::json& report) {
    return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json hw_report(const HwConfig& hw) {
    return {{"name", hw.name},
            {"source", hw.source},
            {"tiles", hw.tiles()},
            {"fanin", hw.fanin},
            {"mismatch",
             {{"weights", hw.mismatch.weights},
              {"time_constants", hw.mismatch.time_constants},
              {"thresholds", hw.mismatch.thresholds},
              {"seed", hw.mismatch.seed}}}};
}

void print_mismatch(std::FILE* out, const HwConfig& hw) {
    const MismatchConfig& m = hw.mismatch;
    if (!m.any()) return;
    std::fprintf(out, "device mismatch (chip seed %u): weights %g %%, time constants %g %%, thresholds %g %% (std / mean)\n",
                 m.seed, 100 * m.weights, 100 * m.time_constants, 100 * m.thresholds);
}

void write_report(const std::string& path, const nlohmann::json& report) { write_file_atomically(path, report_text(report)); }

}  // namespace qrsim::app
