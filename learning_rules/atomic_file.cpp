#include "learning_rules/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace qrsim {

namespace {

[[noreturn]] void fail(const std::string& path, const char* what, int err) {
    throw std::runtime_error("cannot write " + path + ": " + what + ": " + std::strerror(err));
}

// Owns the temporary file until it has been renamed into place.
class TempFile {
public:
    explicit TempFile(std::string path) : path_(std::move(path)) {}
    ~TempFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }
    int fd() const { return fd_; }
    void open(const std::string& target) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd_ < 0) fail(target, "open", errno);
    }
    void close(const std::string& target) {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) fail(target, "close", errno);
    }
    void commit() { committed_ = true; }

private:
    std::string path_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace

void write_file_atomically(const std::string& path, const std::string& contents) {
    // The pid keeps concurrent runs (e.g. a sweep) from clobbering each other's temp file.
    TempFile tmp(path + ".tmp." + std::to_string(::getpid()));
    tmp.open(path);
    const char* data = contents.data();
    size_t left = contents.size();
    while (left > 0) {
        const ssize_t n = ::write(tmp.fd(), data, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(path, "write", errno);
        }
        data += n;
        left -= static_cast<size_t>(n);
    }
    // Without fsync a crash after the rename can leave an empty file under the final name.
    if (::fsync(tmp.fd()) != 0) fail(path, "fsync", errno);
    tmp.close(path);
    if (std::rename(tmp.path().c_str(), path.c_str()) != 0) fail(path, "rename", errno);
    tmp.commit();
}

}  // namespace qrsim
