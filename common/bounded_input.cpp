#include "common/bounded_input.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qrsim {

namespace {

[[noreturn]] void refuse(InputKind kind, const std::string& what, const std::string& path, const std::string& problem) {
    const std::string message = "cannot read " + what + " " + path + ": " + problem;
    if (kind == InputKind::config) throw ConfigError(message);
    throw std::runtime_error(message);
}

std::string size_text(size_t bytes) {
    if (bytes < (size_t{1} << 20)) return std::to_string(bytes) + " bytes";
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    return text;
}

const char* file_type(mode_t mode) {
    if (S_ISDIR(mode)) return "is a directory, not a file";
    if (S_ISFIFO(mode)) return "is a FIFO, not a regular file";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a regular file";
    if (S_ISSOCK(mode)) return "is a socket, not a regular file";
    return "is not a regular file";
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

int open_input_file(const std::string& path, size_t max_bytes, const std::string& what, InputKind kind) {
    if (path.empty()) refuse(kind, what, "\"\"", "empty path");
    // O_NONBLOCK: opening a FIFO with no writer would otherwise hang here before fstat can
    // tell what it is. It is cleared again for the reads of a regular file.
    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (f.fd < 0) refuse(kind, what, path, std::string("cannot open it (") + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) refuse(kind, what, path, std::strerror(errno));
    if (!S_ISREG(st.st_mode)) refuse(kind, what, path, file_type(st.st_mode));
    if (static_cast<unsigned long long>(st.st_size) > max_bytes)
        refuse(kind, what, path,
               "is " + size_text(static_cast<size_t>(st.st_size)) + ", more than the " + size_text(max_bytes) +
                   " such a file may have");
    const int flags = ::fcntl(f.fd, F_GETFL);
    if (flags < 0 || ::fcntl(f.fd, F_SETFL, flags & ~O_NONBLOCK) != 0) refuse(kind, what, path, std::strerror(errno));
    const int fd = f.fd;
    f.fd = -1;
    return fd;
}

std::string read_input_file(const std::string& path, size_t max_bytes, const std::string& what, InputKind kind) {
    Fd f;
    f.fd = open_input_file(path, max_bytes, what, kind);
    std::string text;
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(f.fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            refuse(kind, what, path, std::strerror(errno));
        }
        if (n == 0) break;
        // The size was checked on open; a file still growing is cut off here, not read on.
        if (text.size() + static_cast<size_t>(n) > max_bytes)
            refuse(kind, what, path, "grew beyond the " + size_text(max_bytes) + " such a file may have");
        text.append(buffer, static_cast<size_t>(n));
    }
    return text;
}

namespace {
struct TooDeep {};
}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& origin, int max_depth) {
    using nlohmann::json;
    // The parser itself keeps its stack on the heap, but everything that walks the value
    // afterwards (dump, comparison, our own readers) recurses: refuse deep nesting early.
    const json::parser_callback_t limit = [max_depth](int depth, json::parse_event_t, json&) {
        if (depth > max_depth) throw TooDeep{};
        return true;
    };
    try {
        return json::parse(text, limit);
    } catch (const TooDeep&) {
        throw std::runtime_error(origin + ": nested deeper than " + std::to_string(max_depth) + " levels");
    } catch (const json::parse_error& e) {
        throw std::runtime_error(origin + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
    } catch (const json::out_of_range&) {
        // nlohmann refuses numbers beyond a double's range (out_of_range.406).
        throw std::runtime_error(origin + ": holds a number too large for a double");
    } catch (const json::exception&) {
        throw std::runtime_error(origin + ": not valid JSON");
    }
}

}  // namespace qrsim
