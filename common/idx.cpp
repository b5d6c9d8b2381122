#include "common/idx.hpp"

#include "common/bounded_input.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

namespace qrsim {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
// Largest image side accepted; anything bigger is a corrupt header, not a dataset.
constexpr uint32_t kMaxSide = 4096;
// Largest decompressed file (Fashion-MNIST's training images: 47 MB): bounds a gzip bomb.
constexpr size_t kMaxIdxBytes = size_t{2} << 30;
constexpr const char* kFix = "reinstall dataset-fashion-mnist or pass --data DIR";

[[noreturn]] void fail(const std::string& path, const std::string& problem, const char* fix = kFix) {
    throw std::runtime_error("dataset: " + path + " " + problem + "; " + fix);
}

std::string hex32(uint32_t value) {
    std::ostringstream s;
    s << "0x" << std::hex;
    s.width(8);
    s.fill('0');
    s << value;
    return s.str();
}

struct GzCloser {
    void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

GzFile open_gz(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) fail(path, "is missing", "install dataset-fashion-mnist or pass --data DIR");
    // Regular files of bounded size only (gzopen would open a directory, block on a FIFO
    // and read /dev/zero forever).
    int fd = -1;
    try {
        fd = open_input_file(path, kMaxDatasetBytes, "dataset file", InputKind::data);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("dataset: ") + e.what() + "; " + kFix);
    }
    GzFile file(gzdopen(fd, "rb"));
    if (!file) {
        ::close(fd);
        fail(path, "cannot be opened (out of memory)");
    }
    gzbuffer(file.get(), 1 << 17);
    return file;
}

// zlib's message without the "<fd:N>: " it prefixes for a file opened with gzdopen.
std::string zlib_message(gzFile file, int& code) {
    std::string message = gzerror(file, &code);
    if (message.rfind("<fd:", 0) == 0)
        if (const size_t colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
    return message;
}

// Reads up to `count` bytes; returns how many it got. A gzip stream that stops early
// counts as a short read (the caller reports the truncation with the numbers); any
// other decompression error is fatal.
size_t read_some(gzFile file, const std::string& path, uint8_t* dst, size_t count) {
    size_t got = 0;
    while (got < count) {
        const unsigned chunk = static_cast<unsigned>(std::min<size_t>(count - got, 1u << 24));
        const int n = gzread(file, dst + got, chunk);
        if (n < 0) {
            int code = Z_OK;
            const std::string message = zlib_message(file, code);
            if (code == Z_BUF_ERROR) break;  // "unexpected end of file": truncated gzip
            fail(path, "is not a valid gzip/IDX file (" + message + ")");
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    return got;
}

// Reads exactly `count` bytes into a buffer grown as data arrives, so a corrupt header
// declaring terabytes fails as "truncated" instead of attempting the allocation.
std::vector<uint8_t> read_exact(gzFile file, const std::string& path, size_t count, const char* what) {
    constexpr size_t kStep = size_t{1} << 24;
    std::vector<uint8_t> bytes;
    bytes.reserve(std::min(count, 4 * kStep));
    size_t got = 0;
    while (got < count) {
        const size_t want = std::min(count - got, kStep);
        bytes.resize(got + want);
        const size_t n = read_some(file, path, bytes.data() + got, want);
        got += n;
        if (n < want) {
            fail(path, "is truncated (expected " + std::to_string(count) + " bytes of " + what + ", got " +
                           std::to_string(got) + ")");
        }
    }
    return bytes;
}

void reject_trailing_bytes(gzFile file, const std::string& path, size_t expected, const char* what) {
    uint8_t extra = 0;
    if (read_some(file, path, &extra, 1) != 0) {
        fail(path, "has more data than its header declares (" + std::to_string(expected) + " bytes of " + what + ")");
    }
}

// gzip checks its CRC only at the end of the stream: a subset read from the start would
// accept a file whose first bytes are corrupt. Decompressing the rest (discarded) makes
// zlib check it; Fashion-MNIST's largest file takes about 0.2 s.
void verify_rest(gzFile file, const std::string& path, size_t read_so_far) {
    std::vector<uint8_t> sink(1 << 17);
    size_t total = read_so_far;
    for (;;) {
        const int n = gzread(file, sink.data(), static_cast<unsigned>(sink.size()));
        if (n == 0) return;
        if (n < 0) {
            int code = Z_OK;
            const std::string message = zlib_message(file, code);
            if (code == Z_BUF_ERROR) fail(path, "is truncated (the gzip stream ends early)");
            fail(path, "is corrupt (" + message + ")");
        }
        total += static_cast<size_t>(n);
        if (total > kMaxIdxBytes) fail(path, "decompresses to more than " + std::to_string(kMaxIdxBytes >> 20) + " MiB");
    }
}

struct Header {
    uint32_t magic = 0;
    std::vector<uint32_t> dims;
};

// Reads the magic and one 32-bit big-endian size per dimension (the magic's low byte).
// The magic is checked before the length, so a wrong kind of file is reported as such.
Header read_header(gzFile file, const std::string& path, uint32_t expected_magic, const char* kind) {
    const size_t header_bytes = 4 * (1 + (expected_magic & 0xff));
    std::array<uint8_t, 4 * 256> raw{};
    const size_t got = read_some(file, path, raw.data(), header_bytes);
    auto word = [&](size_t i) {
        return uint32_t{raw[4 * i]} << 24 | uint32_t{raw[4 * i + 1]} << 16 | uint32_t{raw[4 * i + 2]} << 8 |
               uint32_t{raw[4 * i + 3]};
    };
    Header header;
    header.magic = word(0);
    if (got >= 4 && header.magic != expected_magic) {
        fail(path, std::string("is not an IDX ") + kind + " file (magic " + hex32(header.magic) + ", expected " +
                       hex32(expected_magic) + ")");
    }
    if (got < header_bytes) {
        fail(path, "is truncated (expected " + std::to_string(header_bytes) + " bytes of header, got " +
                       std::to_string(got) + ")");
    }
    for (size_t i = 1; i < header_bytes / 4; ++i) header.dims.push_back(word(i));
    if (header.dims[0] > static_cast<uint32_t>(INT_MAX))
        fail(path, "declares " + std::to_string(header.dims[0]) + " items, more than this reader supports");
    return header;
}

int items_to_read(const Header& header, int limit) {
    const int in_file = static_cast<int>(header.dims[0]);
    return limit < 0 ? in_file : std::min(limit, in_file);
}

std::vector<uint8_t> read_labels(const std::string& path, int limit, int& n_in_file) {
    GzFile file = open_gz(path);
    const Header header = read_header(file.get(), path, kLabelsMagic, "label");
    n_in_file = static_cast<int>(header.dims[0]);
    const size_t count = static_cast<size_t>(items_to_read(header, limit));
    std::vector<uint8_t> labels = read_exact(file.get(), path, count, "labels");
    if (limit < 0) reject_trailing_bytes(file.get(), path, count, "labels");
    verify_rest(file.get(), path, count);
    return labels;
}

}  // namespace

IdxImages read_idx_images(const std::string& path, int limit) {
    GzFile file = open_gz(path);
    const Header header = read_header(file.get(), path, kImagesMagic, "image");
    const uint32_t rows = header.dims[1];
    const uint32_t cols = header.dims[2];
    if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
        fail(path, "has implausible image dimensions " + std::to_string(rows) + "x" + std::to_string(cols) + " (1.." +
                       std::to_string(kMaxSide) + " each)");
    }
    IdxImages images;
    images.n_in_file = static_cast<int>(header.dims[0]);
    images.n = items_to_read(header, limit);
    images.rows = static_cast<int>(rows);
    images.cols = static_cast<int>(cols);
    const size_t count = static_cast<size_t>(images.n) * rows * cols;
    if (count > kMaxIdxBytes)
        fail(path, "declares " + std::to_string(count) + " bytes of pixels, more than this reader's " +
                       std::to_string(kMaxIdxBytes >> 20) + " MiB");
    images.pixels = read_exact(file.get(), path, count, "pixels");
    if (limit < 0) reject_trailing_bytes(file.get(), path, count, "pixels");
    verify_rest(file.get(), path, count);
    return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path, int limit) {
    int n_in_file = 0;
    return read_labels(path, limit, n_in_file);
}

IdxLabelledSet read_idx_set(const std::string& images_path, const std::string& labels_path, int limit, int n_classes) {
    IdxLabelledSet set;
    set.images = read_idx_images(images_path, limit);
    int labels_in_file = 0;
    set.labels = read_labels(labels_path, limit, labels_in_file);
    if (labels_in_file != set.images.n_in_file) {
        fail(labels_path, "declares " + std::to_string(labels_in_file) + " labels but " + images_path + " has " +
                              std::to_string(set.images.n_in_file) + " images (files from different sets?)");
    }
    for (size_t i = 0; i < set.labels.size(); ++i) {
        if (set.labels[i] >= n_classes) {
            fail(labels_path, "has label " + std::to_string(set.labels[i]) + " at index " + std::to_string(i) +
                                  " (expected 0.." + std::to_string(n_classes - 1) + ")");
        }
    }
    return set;
}

}  // namespace qrsim
