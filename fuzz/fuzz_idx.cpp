// IDX datasets (gzip'd or plain; zlib reads both): the input is written to an in-memory
// file and read through the same path-based readers the tasks use. The first byte picks
// images or labels and the image limit (the subset reads check fewer bytes).
#include "common/idx.hpp"
#include "fuzz/fuzz_support.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace {

// One memfd for the whole run, rewritten for each input: /proc/self/fd/N is a regular
// file to the reader, as a dataset on disk is.
const std::string& memfd_path(int& fd) {
    static int file = memfd_create("qrsim_fuzz_idx", 0);
    static const std::string path = "/proc/self/fd/" + std::to_string(file);
    fd = file;
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    int fd = -1;
    const std::string& path = memfd_path(fd);
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != static_cast<ssize_t>(size - 1)) return 0;
    const int limits[] = {-1, 0, 1, 3, 16};
    const int limit = limits[(data[0] >> 1) % 5];
    return qrsim::fuzz::expect_clean_errors([&] {
        if (data[0] & 1) (void)qrsim::read_idx_labels(path, limit);
        else (void)qrsim::read_idx_images(path, limit);
    });
}
