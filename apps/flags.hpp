// Command-line flags that override config keys. Precedence, lowest first: built-in
// defaults, a base (e.g. the config stored in a checkpoint), --config FILE, --set
// KEY=VALUE, the dedicated flags (--neurons, --lr, ...).
#pragma once

#include "apps/config.hpp"
#include "apps/path_guard.hpp"

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

namespace qrsim::app {

class ConfigFlags {
public:
    // Which dedicated flags a subcommand offers; --config and --set are always there.
    enum Group : unsigned { data = 1u, network = 2u, training = 4u, constraint = 8u, all = 15u };

    void add_to(CLI::App& command, unsigned groups);
    Config resolve(const RawConfig& base = {}) const;
    // The files the resolved config reads: --config and the dataset folder.
    void add_inputs(PathGuard& paths, const Config& config) const;

private:
    struct Flag {
        std::string value;
        CLI::Option* option = nullptr;
    };
    std::map<std::string, Flag> flags_;  // by config key; a map keeps `value` addresses stable
    std::string config_file_;
    std::vector<std::string> sets_;
};

}  // namespace qrsim::app
