// A sweep spec (configs/sweeps/README.md documents the format): the qrsim command every
// point runs, [fixed] settings, a [grid] (cartesian product) and/or a [[points]] list, over
// config keys ("constraint.fanin") and over the command's flags ("--hw").
//
// Expanding a spec gives its points in a stable order. Every point is validated before
// anything runs: config keys and values through the config layer (apps/config.hpp), flags
// against the command's own CLI11 definition. A point is named by a stable hash of its
// command, flags and resolved config, so the same experiment keeps its name (and its
// finished report) when a spec is reordered or extended.
#pragma once

#include "apps/config.hpp"

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qrsim::app {

// One swept or fixed setting: a config key "table.key" or a command flag "--name".
struct SweepSetting {
    std::string key;
    RawValue value;
    std::string source;  // "spec.toml:12 [grid]", for error messages
};

struct SweepAxis {
    std::string key;
    std::vector<SweepSetting> values;
};

struct SweepSpec {
    std::string path;
    std::vector<std::string> command;            // {"run", "--learn"}
    std::vector<SweepSetting> fixed;
    std::vector<SweepAxis> grid;                 // in file order; the last varies fastest
    std::vector<std::vector<SweepSetting>> list;  // [[points]]: one more axis, the fastest
    std::vector<SweepSetting> seeds;             // seeds = [...]: the outermost axis (train.seed or --seed)
    std::vector<std::string> sbatch_options;     // [slurm] options, passed to sbatch as is
};

struct SweepPoint {
    int index = 0;
    std::string name;                          // "p" + 16 hex digits of the hash
    std::vector<std::string> command;
    std::map<std::string, RawValue> config;    // config keys the spec sets (not the defaults)
    std::map<std::string, RawValue> flags;     // "--hw" -> "dynapse2"; true: a bare flag
    std::vector<std::pair<std::string, RawValue>> swept;  // this point's grid / list values
    int threads = 1;                           // train.threads as resolved: sizes the pool
};

// Reads and checks the file's structure; throws UsageError naming the file, line and key.
SweepSpec read_sweep_spec(const std::string& path);
// The same from the file's text (`path` names it in errors); what the fuzzer calls.
SweepSpec parse_sweep_spec(const std::string& text, const std::string& path);

// All points, validated against the subcommands registered in `root`. Points that resolve
// to the same name are merged (their report would be the same file). Throws UsageError
// naming the key on the first invalid point.
std::vector<SweepPoint> expand_sweep(const SweepSpec& spec, const CLI::App& root);

// How a value appears on a command line, in a TOML file and in CSV cells.
std::string value_text(const RawValue& value);

}  // namespace qrsim::app
