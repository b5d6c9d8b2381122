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

void write_report(const std::string& path, const nlohmann::json& report) { write_file_atomically(path, report_text(report)); }

}  // namespace qrsim::app
