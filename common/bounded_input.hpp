// Reading files a user names, as a hostile user might name them: every loader (configs,
// energy tables, sweep specs, checkpoints, ANNs, reports, datasets) opens its input here,
// so each gets the same checks with the same one-line errors:
//   - regular files only: a directory, FIFO or device is refused without blocking on it;
//   - a size limit per kind of file, checked before reading (and again while reading, for
//     a file that grows), so /dev/zero or a 10 GB file cannot fill the memory;
//   - JSON nested at most a few dozen levels (no stack overflow in the parser's users),
//     and parse errors in the project's words, never the library's exception text.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace qrsim {

// A bad command line or configuration (config TOML, hw config, energy table, sweep spec,
// flags): the CLI exits with code 2. Every other failure (dataset, checkpoint, I/O) exits 1.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Which error a bad file raises: ConfigError (config) or std::runtime_error (data).
enum class InputKind { config, data };

// Size limits, generous for every real file the project writes or ships. A checkpoint of
// the largest network the config allows (4096 neurons, 784 inputs) is about 400 MB.
inline constexpr size_t kMaxConfigBytes = size_t{1} << 20;        // TOML configs, tables, specs
inline constexpr size_t kMaxCheckpointBytes = size_t{512} << 20;  // checkpoints, ANNs
inline constexpr size_t kMaxReportBytes = size_t{64} << 20;       // report JSONs (qrsim report)
inline constexpr size_t kMaxDatasetBytes = size_t{256} << 20;     // one gzip'd IDX file
inline constexpr int kMaxJsonDepth = 32;                          // ours nest at most 5 levels

// Opens `path` read-only after the checks above; the caller owns the returned fd.
// `what` names the file in errors: "cannot read <what> <path>: <problem>".
int open_input_file(const std::string& path, size_t max_bytes, const std::string& what, InputKind kind);

// The whole file (same checks).
std::string read_input_file(const std::string& path, size_t max_bytes, const std::string& what, InputKind kind);

// Parses JSON nested at most max_depth levels. Errors are std::runtime_error
// "<origin>: not valid JSON (byte N)", "...: nested deeper than N levels", ...
nlohmann::json parse_json_text(const std::string& text, const std::string& origin, int max_depth = kMaxJsonDepth);

}  // namespace qrsim
