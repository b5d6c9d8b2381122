// Data layer: IDX reader, Fashion-MNIST encoders, cue-accumulation generator.
// Expected numbers are computed by hand (synthetic files) or independently with
// python3 + gzip + numpy (real dataset), never by the code under test.
#include "common/idx.hpp"
#include "common/task.hpp"

#include <unistd.h>
#include <zlib.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

using namespace qrsim;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kFmnistDir = "/usr/share/datasets/fashion-mnist";

// A fresh directory, removed with everything in it at scope exit.
struct TempDir {
    fs::path path;
    TempDir() {
        static std::atomic<int> counter{0};
        path = fs::temp_directory_path() /
               ("qrsim_test_data_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

using Bytes = std::vector<uint8_t>;

void append_be32(Bytes& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

Bytes idx_images(uint32_t n, uint32_t rows, uint32_t cols, const Bytes& pixels, uint32_t magic = 0x803) {
    Bytes out;
    append_be32(out, magic);
    append_be32(out, n);
    append_be32(out, rows);
    append_be32(out, cols);
    out.insert(out.end(), pixels.begin(), pixels.end());
    return out;
}

Bytes idx_labels(uint32_t n, const Bytes& labels, uint32_t magic = 0x801) {
    Bytes out;
    append_be32(out, magic);
    append_be32(out, n);
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
}

void write_gz(const std::string& path, const Bytes& bytes) {
    gzFile file = gzopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(file) == Z_OK);
}

void write_plain(const std::string& path, const Bytes& bytes) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// The spikes of a sample as one sorted channel list per step.
std::vector<std::vector<int>> steps_of(const SpikeSample& sample) {
    std::vector<std::vector<int>> steps(sample.n_steps());
    for (int t = 0; t < sample.n_steps(); ++t)
        for (int e = sample.step_begin[t]; e < sample.step_begin[t + 1]; ++e) steps[t].push_back(sample.channels[e]);
    return steps;
}

// A tiny Fashion-MNIST-shaped directory: train has two 3x2 images, test one.
// With 2 levels the thresholds are 0.25 and 0.75 of 255 (63.75 and 191.25), so the
// pixels below sit on both sides of each threshold: levels reached, row by row,
//   row 0: 200 -> 2,   0 -> 0
//   row 1:  64 -> 1, 191 -> 1
//   row 2:  63 -> 0, 192 -> 2
struct TinyDataset {
    TempDir dir;
    TinyDataset() {
        const Bytes image0 = {200, 0, 64, 191, 63, 192};
        Bytes train_pixels = image0;
        train_pixels.insert(train_pixels.end(), {255, 255, 0, 0, 0, 0});
        write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_images(2, 3, 2, train_pixels));
        write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_labels(2, {7, 3}));
        write_gz(dir.file("t10k-images-idx3-ubyte.gz"), idx_images(1, 3, 2, image0));
        write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_labels(1, {9}));
    }
    TaskOptions options(const std::string& name) const {
        TaskOptions o;
        o.name = name;
        o.data_dir = dir.path.string();
        return o;
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------
// IDX reader

TEST_CASE("idx: synthetic gzip files read back exactly", "[data][idx]") {
    TempDir dir;
    const Bytes pixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255, 9, 8, 7, 6, 5, 4};
    write_gz(dir.file("img.gz"), idx_images(3, 2, 3, pixels));
    write_gz(dir.file("lab.gz"), idx_labels(3, {4, 0, 9}));

    const IdxImages all = read_idx_images(dir.file("img.gz"));
    CHECK(all.n == 3);
    CHECK(all.n_in_file == 3);
    CHECK(all.rows == 2);
    CHECK(all.cols == 3);
    CHECK(all.pixels == pixels);
    CHECK(all.image(1)[0] == 250);
    CHECK(all.image(2)[5] == 4);

    const IdxImages first_two = read_idx_images(dir.file("img.gz"), 2);
    CHECK(first_two.n == 2);
    CHECK(first_two.n_in_file == 3);
    CHECK(first_two.pixels == Bytes(pixels.begin(), pixels.begin() + 12));
    CHECK(read_idx_images(dir.file("img.gz"), 10).n == 3);

    CHECK(read_idx_labels(dir.file("lab.gz")) == Bytes{4, 0, 9});
    CHECK(read_idx_labels(dir.file("lab.gz"), 1) == Bytes{4});

    const IdxLabelledSet set = read_idx_set(dir.file("img.gz"), dir.file("lab.gz"), 2, 10);
    CHECK(set.images.n == 2);
    CHECK(set.labels == Bytes{4, 0});
}

TEST_CASE("idx: uncompressed files are read too", "[data][idx]") {
    TempDir dir;
    write_plain(dir.file("lab"), idx_labels(2, {1, 2}));
    CHECK(read_idx_labels(dir.file("lab")) == Bytes{1, 2});
}

TEST_CASE("idx: missing file names the file and the fix", "[data][idx]") {
    TempDir dir;
    const std::string path = dir.file("nothing-here.gz");
    REQUIRE_THROWS_WITH(read_idx_images(path), Contains(path) && Contains("missing") && Contains("--data"));
    REQUIRE_THROWS_WITH(read_idx_labels(path), Contains(path) && Contains("missing"));
    REQUIRE_THROWS_WITH(read_idx_labels(dir.path.string()), Contains("directory"));
}

TEST_CASE("idx: truncated pixel data reports expected and actual byte counts", "[data][idx]") {
    TempDir dir;
    const std::string path = dir.file("img.gz");
    write_gz(path, idx_images(3, 2, 3, Bytes(10, 7)));  // header says 18 bytes
    REQUIRE_THROWS_WITH(read_idx_images(path), Contains(path) &&
                                                   Contains("truncated (expected 18 bytes of pixels, got 10)") &&
                                                   Contains("reinstall dataset-fashion-mnist"));
    // The first image (6 bytes) is complete, so a limited read succeeds.
    CHECK(read_idx_images(path, 1).pixels == Bytes(6, 7));
}

TEST_CASE("idx: truncated gzip stream and truncated header are errors", "[data][idx]") {
    TempDir dir;
    const std::string full = dir.file("full.gz");
    Bytes pixels(28 * 28 * 20);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7919 % 251);
    write_gz(full, idx_images(20, 28, 28, pixels));
    std::ifstream in(full, std::ios::binary);
    const std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string cut = dir.file("cut.gz");
    std::ofstream(cut, std::ios::binary).write(gz.data(), gz.size() / 2);
    REQUIRE_THROWS_WITH(read_idx_images(cut), Contains(cut) && Contains("truncated"));

    const std::string header_only = dir.file("header.gz");
    write_gz(header_only, Bytes{0, 0, 8, 3, 0});
    REQUIRE_THROWS_WITH(read_idx_images(header_only),
                        Contains(header_only) && Contains("truncated (expected 16 bytes of header, got 5)"));
}

TEST_CASE("idx: wrong magic, bad dimensions and trailing bytes are errors", "[data][idx]") {
    TempDir dir;
    const std::string labels = dir.file("labels.gz");
    write_gz(labels, idx_labels(2, {1, 2}));
    REQUIRE_THROWS_WITH(read_idx_images(labels), Contains(labels) && Contains("magic 0x00000801, expected 0x00000803"));

    const std::string images = dir.file("images.gz");
    write_gz(images, idx_images(1, 1, 2, {5, 6}));
    REQUIRE_THROWS_WITH(read_idx_labels(images), Contains(images) && Contains("not an IDX label file"));

    const std::string text = dir.file("text.gz");
    write_plain(text, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'});
    REQUIRE_THROWS_WITH(read_idx_images(text), Contains(text) && Contains("magic 0x68656c6c"));

    const std::string flat = dir.file("flat.gz");
    write_gz(flat, idx_images(1, 0, 2, {}));
    REQUIRE_THROWS_WITH(read_idx_images(flat), Contains(flat) && Contains("dimensions 0x2"));

    const std::string longer = dir.file("longer.gz");
    write_gz(longer, idx_labels(2, {1, 2, 3}));
    REQUIRE_THROWS_WITH(read_idx_labels(longer), Contains(longer) && Contains("more data than its header"));
    CHECK(read_idx_labels(longer, 2) == Bytes{1, 2});
}

TEST_CASE("idx: image/label count mismatch and out-of-range labels are errors", "[data][idx]") {
    TempDir dir;
    write_gz(dir.file("img.gz"), idx_images(2, 1, 1, {10, 20}));
    write_gz(dir.file("lab3.gz"), idx_labels(3, {1, 2, 3}));
    write_gz(dir.file("bad.gz"), idx_labels(2, {1, 10}));
    REQUIRE_THROWS_WITH(read_idx_set(dir.file("img.gz"), dir.file("lab3.gz"), -1, 10),
                        Contains(dir.file("lab3.gz")) && Contains("declares 3 labels but") && Contains("has 2 images"));
    // Counts are compared from the headers, so a limited read catches it too.
    REQUIRE_THROWS_WITH(read_idx_set(dir.file("img.gz"), dir.file("lab3.gz"), 1, 10), Contains("declares 3 labels"));
    REQUIRE_THROWS_WITH(read_idx_set(dir.file("img.gz"), dir.file("bad.gz"), -1, 10),
                        Contains(dir.file("bad.gz")) && Contains("label 10 at index 1"));
}

// ---------------------------------------------------------------------------------------
// Real Fashion-MNIST (Debian dataset-fashion-mnist); values from python3 + gzip + numpy.

TEST_CASE("fashion-mnist: counts, first labels and pixel sums match the files", "[data][fmnist]") {
    const IdxLabelledSet train =
        read_idx_set(kFmnistDir + "/train-images-idx3-ubyte.gz", kFmnistDir + "/train-labels-idx1-ubyte.gz", 3, 10);
    CHECK(train.images.n_in_file == 60000);
    CHECK(train.images.rows == 28);
    CHECK(train.images.cols == 28);
    CHECK(train.labels == Bytes{9, 0, 0});
    auto pixel_sum = [](const IdxImages& images, int i) {
        return std::accumulate(images.image(i), images.image(i) + images.image_size(), 0L);
    };
    CHECK(pixel_sum(train.images, 0) == 76247);
    CHECK(pixel_sum(train.images, 1) == 84598);
    CHECK(pixel_sum(train.images, 2) == 28662);
    CHECK(train.images.image(0)[14 * 28 + 14] == 217);

    const IdxLabelledSet test =
        read_idx_set(kFmnistDir + "/t10k-images-idx3-ubyte.gz", kFmnistDir + "/t10k-labels-idx1-ubyte.gz", 3, 10);
    CHECK(test.images.n_in_file == 10000);
    CHECK(test.labels == Bytes{9, 2, 1});
    CHECK(pixel_sum(test.images, 0) == 33456);
    CHECK(pixel_sum(test.images, 1) == 100994);
    CHECK(pixel_sum(test.images, 2) == 51520);

    // Whole label files are small: every class appears 6000 / 1000 times.
    for (const auto& [file, per_class] :
         {std::pair{"/train-labels-idx1-ubyte.gz", 6000}, {"/t10k-labels-idx1-ubyte.gz", 1000}}) {
        const Bytes labels = read_idx_labels(kFmnistDir + file);
        std::vector<int> counts(10, 0);
        for (uint8_t l : labels) ++counts[l];
        CHECK(counts == std::vector<int>(10, per_class));
    }
}

TEST_CASE("fashion-mnist: tasks encode real images as computed independently", "[data][fmnist][tasks]") {
    TaskOptions o;
    o.train_samples = 2;
    o.test_samples = 1;
    o.name = "fmnist-rows";
    CHECK(make_task(o)->info().n_steps == 28 * 2 + 4);  // the default: two steps per row
    o.steps_per_row = 1;
    auto rows = make_task(o);
    CHECK(rows->info().n_inputs == 224);
    CHECK(rows->info().n_steps == 32);
    CHECK(rows->info().readout_begin == 28);
    CHECK(rows->info().n_classes == 10);
    CHECK(rows->size(Split::train) == 2);
    CHECK(rows->size(Split::test) == 1);
    CHECK(rows->label(Split::train, 0) == 9);
    CHECK(rows->label(Split::test, 0) == 9);

    SpikeSample s;
    rows->encode(Split::train, 0, s);
    CHECK(s.label == 9);
    const auto steps = steps_of(s);
    const int up =
        static_cast<int>(std::count_if(s.channels.begin(), s.channels.end(), [](int c) { return c % 2 == 0; }));
    CHECK(up == 159);
    CHECK(s.n_events() == 318);
    CHECK(steps[0].empty());
    CHECK(steps[3] == std::vector<int>{128});  // first non-zero row: column 16 reaches level 1

    rows->encode(Split::train, 1, s);
    CHECK(s.n_events() == 166 + 139);
    const std::vector<int> row0 = steps_of(s)[0];
    CHECK(std::vector<int>(row0.begin(), row0.begin() + 5) == std::vector<int>{80, 88, 90, 92, 96});

    o.rows_code = "level";
    make_task(o)->encode(Split::train, 0, s);
    CHECK(s.n_events() == 1169);

    o.name = "fmnist-seq";
    auto seq = make_task(o);
    CHECK(seq->info().n_inputs == 81);
    CHECK(seq->info().n_steps == 840);
    CHECK(seq->info().readout_begin == 784);
    seq->encode(Split::train, 0, s);
    CHECK(s.n_events() == 2200 + 56);
    const auto seq_steps = steps_of(s);
    for (int t = 0; t < 840; ++t) {
        const bool cue = std::count(seq_steps[t].begin(), seq_steps[t].end(), 80) == 1;
        if (cue != (t >= 784)) FAIL("cue channel wrong at step " << t);
        if (t >= 784) CHECK(seq_steps[t] == std::vector<int>{80});
    }
}

// ---------------------------------------------------------------------------------------
// Encoders on a hand-built image (TinyDataset)

TEST_CASE("fmnist-rows crossing code: hand-computed channels and steps", "[data][tasks]") {
    TinyDataset data;
    TaskOptions o = data.options("fmnist-rows");
    o.rows_levels = 2;
    o.steps_per_row = 2;
    o.rows_readout_steps = 3;
    auto task = make_task(o);
    CHECK(task->info().n_inputs == 8);  // 2 columns x 2 levels x up/down
    CHECK(task->info().n_steps == 9);
    CHECK(task->info().readout_begin == 6);

    SpikeSample s;
    task->encode(Split::train, 0, s);
    CHECK(s.label == 7);
    // channel (c*levels + l)*2 + (0 up | 1 down), at the first step of each row's group
    //   row 0: c0 0->2 up l0,l1 = 0,2          row 1: c0 2->1 down l1 = 3, c1 0->1 up l0 = 4
    //   row 2: c0 1->0 down l0 = 1, c1 1->2 up l1 = 6
    const std::vector<std::vector<int>> expected = {{0, 2}, {}, {3, 4}, {}, {1, 6}, {}, {}, {}, {}};
    CHECK(steps_of(s) == expected);

    // The same image in the test split encodes the same.
    SpikeSample t;
    task->encode(Split::test, 0, t);
    CHECK(t.label == 9);
    CHECK(t.channels == s.channels);
    CHECK(t.step_begin == s.step_begin);
}

TEST_CASE("fmnist-rows level code: hand-computed channels and steps", "[data][tasks]") {
    TinyDataset data;
    TaskOptions o = data.options("fmnist-rows");
    o.rows_code = "level";
    o.rows_levels = 2;
    o.steps_per_row = 2;
    o.rows_readout_steps = 3;
    auto task = make_task(o);
    CHECK(task->info().n_inputs == 4);
    CHECK(task->info().n_steps == 9);
    SpikeSample s;
    task->encode(Split::train, 0, s);
    // channel c*levels + l for every threshold reached, at every step of the row's group
    const std::vector<std::vector<int>> expected = {{0, 1}, {0, 1}, {0, 2}, {0, 2}, {2, 3}, {2, 3}, {}, {}, {}};
    CHECK(steps_of(s) == expected);
}

TEST_CASE("fmnist-seq: hand-computed crossings between consecutive pixels, then the cue", "[data][tasks]") {
    TinyDataset data;
    TaskOptions o = data.options("fmnist-seq");
    o.seq_thresholds = 2;
    o.seq_readout_steps = 2;
    auto task = make_task(o);
    CHECK(task->info().n_inputs == 5);
    CHECK(task->info().n_steps == 8);
    CHECK(task->info().readout_begin == 6);
    SpikeSample s;
    task->encode(Split::train, 0, s);
    // pixels 200,0,64,191,63,192 reach levels 2,0,1,1,0,2 (from 0): up l = 2l, down l = 2l+1
    const std::vector<std::vector<int>> expected = {{0, 2}, {1, 3}, {0}, {}, {1}, {0, 2}, {4}, {4}};
    CHECK(steps_of(s) == expected);

    task->encode(Split::train, 1, s);  // 255 255 0 0 0 0
    CHECK(steps_of(s) == std::vector<std::vector<int>>{{0, 2}, {}, {1, 3}, {}, {}, {}, {4}, {4}});
}

TEST_CASE("tasks: option and sample-count errors name the field", "[data][tasks]") {
    TinyDataset data;
    auto error_of = [&](auto change) {
        TaskOptions o = data.options("fmnist-rows");
        change(o);
        try {
            make_task(o);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(error_of([](TaskOptions& o) { o.name = "mnist"; }),
               Contains("unknown task 'mnist'") && Contains("fmnist-rows, fmnist-seq, cue-accumulation"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.rows_levels = 17; }),
               Contains("rows_levels = 17 is out of range (1..16)"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.steps_per_row = 0; }), Contains("steps_per_row = 0"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.rows_readout_steps = 201; }), Contains("rows_readout_steps = 201"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.rows_code = "rate"; }), Contains("rows_code = 'rate'"));
    CHECK_THAT(error_of([](TaskOptions& o) {
                   o.name = "fmnist-seq";
                   o.seq_thresholds = 128;
               }),
               Contains("seq_thresholds = 128"));
    CHECK_THAT(error_of([](TaskOptions& o) {
                   o.name = "fmnist-seq";
                   o.seq_readout_steps = 0;
               }),
               Contains("seq_readout_steps = 0"));
    CHECK_THAT(error_of([](TaskOptions& o) {
                   o.name = "cue-accumulation";
                   o.cue_count = 6;
               }),
               Contains("cue_count = 6 must be odd"));
    CHECK_THAT(error_of([](TaskOptions& o) {
                   o.name = "cue-accumulation";
                   o.cue_count = -1;
               }),
               Contains("cue_count = -1"));
    CHECK_THAT(error_of([](TaskOptions& o) {
                   o.name = "cue-accumulation";
                   o.cue_rate_hz = 2000;
               }),
               Contains("cue_rate_hz"));
    CHECK_THAT(error_of([](TaskOptions& o) {
                   o.name = "cue-accumulation";
                   o.cue_spacing = 50;
               }),
               Contains("cue_spacing = 50"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.train_samples = 0; }), Contains("train_samples = 0 is invalid"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.test_samples = 2; }),
               Contains("test_samples = 2 exceeds the 1 samples of") && Contains("t10k-images-idx3-ubyte.gz"));
    CHECK_THAT(error_of([](TaskOptions& o) { o.data_dir = "/nonexistent/dir"; }),
               Contains("/nonexistent/dir/train-images-idx3-ubyte.gz is missing"));
    CHECK(error_of([](TaskOptions& o) { o.train_samples = 1; }) == "no error");

    auto task = make_task(data.options("fmnist-seq"));
    SpikeSample s;
    CHECK_THROWS_AS(task->encode(Split::test, 1, s), std::out_of_range);
    CHECK_THROWS_AS(task->label(Split::train, -1), std::out_of_range);
    const std::vector<std::string> names = task_names();
    for (const char* name : {"fmnist-rows", "fmnist-seq", "cue-accumulation"})
        CHECK(std::find(names.begin(), names.end(), name) != names.end());
}

// ---------------------------------------------------------------------------------------
// cue-accumulation

namespace {

TaskOptions cue_options() {
    TaskOptions o;
    o.name = "cue-accumulation";
    return o;
}

bool same_spikes(const SpikeSample& a, const SpikeSample& b) {
    return a.step_begin == b.step_begin && a.channels == b.channels;
}

}  // namespace

TEST_CASE("cue-accumulation: shape and determinism", "[data][cue]") {
    TaskOptions o = cue_options();
    auto task = make_task(o);
    const TaskInfo& info = task->info();
    CHECK(info.n_inputs == 40);
    CHECK(info.n_classes == 2);
    CHECK(info.n_steps == 6 * 150 + 100 + 1050 + 150);
    CHECK(info.readout_begin == 6 * 150 + 100 + 1050);
    CHECK(task->size(Split::train) == 6400);
    CHECK(task->size(Split::test) == 1000);

    SpikeSample a, b;
    task->encode(Split::train, 5, a);
    task->encode(Split::train, 5, b);
    CHECK(same_spikes(a, b));
    CHECK(a.n_steps() == info.n_steps);
    make_task(o)->encode(Split::train, 5, b);  // a second task object: same spikes
    CHECK(same_spikes(a, b));
    task->encode(Split::train, 6, b);
    CHECK_FALSE(same_spikes(a, b));
    task->encode(Split::test, 5, b);
    CHECK_FALSE(same_spikes(a, b));
    o.seed = 2;
    make_task(o)->encode(Split::train, 5, b);
    CHECK_FALSE(same_spikes(a, b));

    o.train_samples = 10;
    o.test_samples = 3;
    auto small = make_task(o);
    CHECK(small->size(Split::train) == 10);
    CHECK(small->size(Split::test) == 3);
}

TEST_CASE("cue-accumulation: label is the majority side and rates match the options", "[data][cue]") {
    const TaskOptions o = cue_options();
    auto task = make_task(o);
    const TaskInfo& info = task->info();
    const int group = o.cue_channels_per_group;
    auto group_of = [&](int channel) { return channel / group; };  // 0 left, 1 right, 2 recall, 3 noise

    constexpr int kSamples = 200;
    long cue_spikes = 0, recall_spikes = 0, noise_spikes = 0, misplaced = 0;
    int right_labels = 0;
    SpikeSample s;
    for (int i = 0; i < kSamples; ++i) {
        task->encode(Split::train, i, s);
        REQUIRE(s.label == task->label(Split::train, i));
        std::vector<int> left(o.cue_count, 0), right(o.cue_count, 0);
        for (int t = 0; t < s.n_steps(); ++t) {
            const int k = t / o.cue_spacing;
            const bool in_cue = k < o.cue_count && t % o.cue_spacing < o.cue_duration;
            for (int e = s.step_begin[t]; e < s.step_begin[t + 1]; ++e) {
                switch (group_of(s.channels[e])) {
                    case 0:
                        in_cue ? ++left[k] : ++misplaced;
                        break;
                    case 1:
                        in_cue ? ++right[k] : ++misplaced;
                        break;
                    case 2:
                        t >= info.readout_begin ? ++recall_spikes : ++misplaced;
                        break;
                    default:
                        ++noise_spikes;
                }
            }
        }
        // Each cue drives exactly one side (P(no spike in 10 x 100 steps at 4 %) ~ 1e-18).
        int right_cues = 0;
        for (int k = 0; k < o.cue_count; ++k) {
            REQUIRE((left[k] > 0) != (right[k] > 0));
            right_cues += right[k] > 0;
            cue_spikes += left[k] + right[k];
        }
        REQUIRE(s.label == (right_cues > o.cue_count / 2 ? 1 : 0));
        right_labels += s.label;
    }
    CHECK(misplaced == 0);
    // Binomial(200, 1/2): 3.5 sigma is 25.
    CHECK(right_labels > 75);
    CHECK(right_labels < 125);

    // Rates over about 56k / 12k / 44k expected spikes; 5 % is more than 5 sigma.
    auto rate_hz = [&](long spikes, long steps_per_sample) {
        return double(spikes) / (double(kSamples) * group * double(steps_per_sample) * 1e-3);
    };
    CHECK(rate_hz(cue_spikes, o.cue_count * o.cue_duration) == Approx(40.0).epsilon(0.05));
    CHECK(rate_hz(recall_spikes, o.cue_recall) == Approx(40.0).epsilon(0.05));
    CHECK(rate_hz(noise_spikes, info.n_steps) == Approx(10.0).epsilon(0.05));
}
