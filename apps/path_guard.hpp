// Every path a command reads or writes, checked against every other before any work:
// an output may never be an input (`eval --net n.json --report n.json` would destroy the
// network), nor two outputs the same file. Paths are compared as files, not strings:
// by device and inode where they exist (hard links, symlinks, ./x vs x), else by their
// canonical form. Also checked: an output is not a directory and its folder can be
// written. Nothing is created here; writers create missing folders when they write, so
// a run that fails early leaves nothing behind.
#pragma once

#include "hw_models/hw_config.hpp"

#include <string>
#include <vector>

namespace qrsim::app {

class PathGuard {
public:
    // `flag` names the path in errors ("--net", "hw config energy.table"); "" paths are ignored.
    void input(const std::string& flag, const std::string& path);
    // Every regular file directly in `dir` is an input (a dataset folder).
    void inputs_in(const std::string& flag, const std::string& dir);
    void output(const std::string& flag, const std::string& path);
    // A folder files are written into (plots).
    void output_dir(const std::string& flag, const std::string& dir);

    // Throws UsageError (exit 2) naming both flags and the fix on the first conflict.
    void check() const;

    // Creates the missing parent folders of every output, just before writing them.
    void create_output_dirs() const;

private:
    struct Entry {
        std::string flag, path;
    };
    std::vector<Entry> inputs_, outputs_, output_dirs_;
};

// The hw config's files: the config itself, its energy table (inputs) and its VCD (an
// output; `vcd_flag` names where the VCD path came from).
void add_hw_paths(PathGuard& paths, const HwConfig& hw, const std::string& vcd_flag = "hw config vcd.file");

}  // namespace qrsim::app
