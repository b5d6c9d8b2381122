// Whole-file writes that never leave a partial file behind: readers (and a crashed or
// interrupted run) see either the old file or the complete new one.
//
// The temporary file of target T is T.tmp.<pid> (a VCD's: T.tmp.<pid>.vcd, SystemC adds
// the extension). A run killed by SIGKILL cannot remove it, so before writing T every
// writer removes the temporaries of T whose process no longer exists.
#pragma once

#include <string>
#include <sys/types.h>

namespace qrsim {

// Writes `contents` to `path.tmp.<pid>`, flushes it to disk and renames it over `path`.
// On any failure the temporary file is removed and std::runtime_error names the path.
void write_file_atomically(const std::string& path, const std::string& contents);

// A file written to its temporary now and renamed into place by commit(): a command
// with several outputs stages them all, then commits them all, so a failure on one
// leaves none written. Destroyed uncommitted, the temporary is removed.
class StagedFile {
public:
    StagedFile(const std::string& path, const std::string& contents);
    ~StagedFile();
    StagedFile(StagedFile&& other) noexcept;
    StagedFile(const StagedFile&) = delete;
    StagedFile& operator=(const StagedFile&) = delete;
    StagedFile& operator=(StagedFile&&) = delete;

    void commit();
    const std::string& path() const { return path_; }

private:
    std::string path_, tmp_;
    bool committed_ = false;
};

// The temporary name of `path` for this process (suffix: what the writer appends).
std::string temp_path_for(const std::string& path, const std::string& suffix = "");

// Removes `path.tmp.<pid>[suffix]` files left by processes that no longer exist.
void remove_stale_temps(const std::string& path, const std::string& suffix = "");

}  // namespace qrsim
