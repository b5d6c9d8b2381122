// Reader for IDX files (the MNIST / Fashion-MNIST container), gzip'd or plain.
//
// Format (big-endian): 32-bit magic 0x00000803 (uint8 images, 3 dims) or 0x00000801
// (uint8 labels, 1 dim), one 32-bit size per dimension, then the bytes row-major.
// Every way a file can be wrong (missing, not gzip, wrong magic, odd dimensions,
// truncated, trailing bytes, image/label count mismatch, label out of range) throws
// std::runtime_error with one line naming the file and the fix; nothing is returned
// half-read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qrsim {

struct IdxImages {
    int n = 0;          // images read (at most the limit)
    int n_in_file = 0;  // images the header declares
    int rows = 0;
    int cols = 0;
    std::vector<uint8_t> pixels;  // n * rows * cols, image-major then row-major

    int image_size() const { return rows * cols; }
    const uint8_t* image(int index) const { return pixels.data() + static_cast<size_t>(index) * image_size(); }
};

// limit < 0 reads every image and also rejects trailing bytes; limit >= 0 reads the
// first min(limit, n_in_file) images and checks only the bytes it reads, so a small
// subset of a large file loads fast.
IdxImages read_idx_images(const std::string& path, int limit = -1);

// Same limit rule as read_idx_images.
std::vector<uint8_t> read_idx_labels(const std::string& path, int limit = -1);

struct IdxLabelledSet {
    IdxImages images;
    std::vector<uint8_t> labels;  // images.n of them
};

// Reads the first `limit` (< 0: all) images and labels of a pair of files and checks
// that both headers declare the same count and that every label read is < n_classes.
IdxLabelledSet read_idx_set(const std::string& images_path, const std::string& labels_path, int limit, int n_classes);

}  // namespace qrsim
