#include "common/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace qrsim {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
    throw std::runtime_error("cannot write " + path + ": " + what + ": " + std::strerror(err));
}

// Writes, fsyncs and closes `tmp`; removes it and throws on any failure.
void write_temp(const std::string& tmp, const std::string& target, const std::string& contents) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) fail(target, "open", errno);
    const char* data = contents.data();
    size_t left = contents.size();
    const char* failed = nullptr;
    int err = 0;
    while (left > 0 && !failed) {
        const ssize_t n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            failed = "write", err = errno;
            break;
        }
        data += n;
        left -= static_cast<size_t>(n);
    }
    // Without fsync a crash after the rename can leave an empty file under the final name.
    if (!failed && ::fsync(fd) != 0) failed = "fsync", err = errno;
    if (::close(fd) != 0 && !failed) failed = "close", err = errno;
    if (failed) {
        ::unlink(tmp.c_str());
        fail(target, failed, err);
    }
}

}  // namespace

std::string temp_path_for(const std::string& path, const std::string& suffix) {
    // The pid keeps concurrent runs (e.g. a sweep) from clobbering each other's temp file.
    return path + ".tmp." + std::to_string(::getpid()) + suffix;
}

void remove_stale_temps(const std::string& path, const std::string& suffix) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    const std::string prefix = target.filename().string() + ".tmp.";
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string pid_text = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
        if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
        // Only temporaries of dead processes: a live one may be another run writing now.
        if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
            std::error_code ignored;
            fs::remove(it->path(), ignored);
        }
    }
}

StagedFile::StagedFile(const std::string& path, const std::string& contents)
    : path_(path), tmp_(temp_path_for(path)) {
    remove_stale_temps(path);
    write_temp(tmp_, path_, contents);
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : path_(std::move(other.path_)), tmp_(std::move(other.tmp_)), committed_(other.committed_) {
    other.committed_ = true;  // the moved-from object owns nothing
}

StagedFile::~StagedFile() {
    if (!committed_) ::unlink(tmp_.c_str());
}

void StagedFile::commit() {
    if (committed_) return;
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_, "rename", errno);
    committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& contents) {
    StagedFile(path, contents).commit();
}

}  // namespace qrsim
