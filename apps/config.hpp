// The configuration of a run, in two layers (as in DRAMSys):
//   RawConfig - exactly what the sources said ("table.key" -> value, where it came from):
//               a TOML file, the config echoed in a checkpoint, command-line flags;
//   Config    - the resolved, validated struct with every default filled in, which the
//               rest of the program takes by const&.
// Only this layer parses config sources. configs/README.md documents every key.
#pragma once

#include "common/bounded_input.hpp"
#include "common/rsnn.hpp"
#include "common/task.hpp"
#include "learning_rules/trainer.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace qrsim::app {

// A bad command line or config: the CLI exits with code 2 (runtime errors exit 1). The
// libraries' config loaders (hw config, energy table) throw the ConfigError it refines.
class UsageError : public ConfigError {
public:
    using ConfigError::ConfigError;
};

struct Config {
    TaskOptions task;     // [task]
    RsnnParams network;   // [network]; n_in and n_out come from the task, not the config
    TrainOptions train;   // [train], and [constraint] (train.method, train.constraint)
    std::string constraint_kind = "none";  // [constraint] kind, resolved into train.constraint.kind
    uint64_t seed = 1;    // [train] seed: weights, shuffling and synthetic tasks
};

using RawValue = std::variant<int64_t, double, bool, std::string>;

struct RawEntry {
    RawValue value;
    std::string source;  // "experiment.toml", "--neurons", ... for error messages
};

class RawConfig {
public:
    // key is "table.key"; throws UsageError naming the source if the key is unknown.
    void set(const std::string& key, RawValue value, const std::string& source);
    // Converts command-line text to the key's type (integer, number or string).
    void set_text(const std::string& key, const std::string& text, const std::string& source);
    // Entries of `over` replace ours.
    void merge(const RawConfig& over);
    const std::map<std::string, RawEntry>& entries() const { return entries_; }

private:
    std::map<std::string, RawEntry> entries_;
};

// Reads a TOML file with tables [task], [network], [train]. Throws UsageError naming the
// file and the key on unknown tables/keys or syntax errors.
RawConfig read_config_file(const std::string& path);
// The same from the file's text (`path` names it in errors); what the fuzzer calls.
RawConfig parse_config_text(const std::string& text, const std::string& path);

// Reads a config echoed by config_to_json (e.g. from a checkpoint).
RawConfig raw_from_json(const nlohmann::json& config, const std::string& source);

// Defaults + raw values, then validation: throws UsageError naming the key, the value
// and the allowed range.
Config resolve(const RawConfig& raw);

// {"task": {...}, "network": {...}, "train": {...}} with exactly the file's keys.
nlohmann::json config_to_json(const Config& config);

// Every key as "table.key", in documentation order.
std::vector<std::string> config_keys();

}  // namespace qrsim::app
