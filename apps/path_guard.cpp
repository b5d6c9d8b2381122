#include "apps/path_guard.hpp"

#include "apps/config.hpp"
#include "common/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qrsim::app {

namespace {

namespace fs = std::filesystem;

// What a path designates: the file (device, inode) if it exists, and its canonical path.
struct Identity {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    std::string canonical;
};

Identity identify(const std::string& path) {
    Identity id;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        id.exists = true;
        id.dev = st.st_dev;
        id.ino = st.st_ino;
    }
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(path, ec), ec);
    id.canonical = ec ? path : canonical.string();
    return id;
}

bool same_file(const Identity& a, const Identity& b) {
    if (a.exists && b.exists) return a.dev == b.dev && a.ino == b.ino;
    return a.canonical == b.canonical;
}

std::string named(const std::string& flag, const std::string& path) { return flag + " " + path; }

// The deepest folder of `path` that exists (its parent, or further up).
fs::path existing_ancestor(const fs::path& path) {
    fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    std::error_code ec;
    while (!fs::exists(dir, ec) && dir.has_parent_path() && dir != dir.parent_path()) dir = dir.parent_path();
    return dir;
}

// An output file can be created where it is to go: checked by creating (and removing) its
// temporary file when the folder exists, since access(2) says yes to root on a read-only
// file system.
void check_writable(const std::string& flag, const std::string& path, bool is_dir) {
    const fs::path p(path);
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (!is_dir && fs::is_directory(st)) throw UsageError(named(flag, path) + ": is a directory");
    if (is_dir && fs::exists(st) && !fs::is_directory(st))
        throw UsageError(named(flag, path) + ": is a file, not a folder");
    const fs::path dir = is_dir ? (fs::exists(st) ? p : existing_ancestor(p / "x")) : existing_ancestor(p);
    if (!fs::is_directory(dir, ec))
        throw UsageError(named(flag, path) + ": " + dir.string() + " is not a folder");
    const bool direct = is_dir ? fs::exists(st) : dir == (p.parent_path().empty() ? fs::path(".") : p.parent_path());
    if (direct) {
        const std::string probe = temp_path_for((dir / (is_dir ? ".qrsim-probe" : p.filename())).string());
        const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            throw UsageError(named(flag, path) + ": cannot write in " + dir.string() + " (" + std::strerror(errno) + ")");
        ::close(fd);
        ::unlink(probe.c_str());
    } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        throw UsageError(named(flag, path) + ": cannot create folders in " + dir.string() + " (" +
                         std::strerror(errno) + ")");
    }
}

}  // namespace

void PathGuard::input(const std::string& flag, const std::string& path) {
    if (!path.empty()) inputs_.push_back({flag, path});
}

void PathGuard::inputs_in(const std::string& flag, const std::string& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec)) inputs_.push_back({flag, it->path().string()});
}

void PathGuard::output(const std::string& flag, const std::string& path) {
    if (!path.empty()) outputs_.push_back({flag, path});
}

void PathGuard::output_dir(const std::string& flag, const std::string& dir) {
    if (!dir.empty()) output_dirs_.push_back({flag, dir});
}

void PathGuard::check() const {
    std::vector<Identity> in, out;
    for (const Entry& e : inputs_) in.push_back(identify(e.path));
    for (const Entry& e : outputs_) out.push_back(identify(e.path));
    for (size_t o = 0; o < outputs_.size(); ++o) {
        for (size_t i = 0; i < inputs_.size(); ++i)
            if (same_file(out[o], in[i]))
                throw UsageError(named(outputs_[o].flag, outputs_[o].path) + " is the same file as " +
                                 named(inputs_[i].flag, inputs_[i].path) +
                                 ": an output would overwrite an input; choose another path");
        for (size_t p = 0; p < o; ++p)
            if (same_file(out[o], out[p]))
                throw UsageError(named(outputs_[p].flag, outputs_[p].path) + " and " +
                                 named(outputs_[o].flag, outputs_[o].path) +
                                 " name the same file: give each output its own path");
    }
    for (const Entry& e : outputs_) check_writable(e.flag, e.path, false);
    for (const Entry& e : output_dirs_) check_writable(e.flag, e.path, true);
}

void PathGuard::create_output_dirs() const {
    for (const Entry& e : outputs_) {
        const fs::path parent = fs::path(e.path).parent_path();
        std::error_code ec;
        if (!parent.empty()) fs::create_directories(parent, ec);
        if (ec) throw std::runtime_error(named(e.flag, e.path) + ": cannot create " + parent.string() + ": " + ec.message());
    }
}

void add_hw_paths(PathGuard& paths, const HwConfig& hw, const std::string& vcd_flag) {
    paths.input("--hw", hw.source);
    paths.input("hw config energy.table", hw.energy_table);
    paths.output(vcd_flag, hw.vcd_file);
}

}  // namespace qrsim::app
