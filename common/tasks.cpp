// The three tasks of task.hpp. Datasets are kept as uint8 images; spikes are made on
// demand in encode(), from integer arithmetic only, so every layer that encodes the same
// (split, index) sees bit-identical input on any platform.
#include "common/idx.hpp"
#include "common/task.hpp"
#include "common/task_rate.hpp"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace qrsim {
namespace {

constexpr int kFmnistClasses = 10;
constexpr int kCueClasses = 2;
constexpr double kDtSeconds = 1e-3;
constexpr int kCueDefaultTrain = 6400;
constexpr int kCueDefaultTest = 1000;

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error("task: " + message); }

void require_range(const char* field, int value, int lo, int hi) {
    if (value < lo || value > hi) {
        fail(std::string(field) + " = " + std::to_string(value) + " is out of range (" + std::to_string(lo) + ".." +
             std::to_string(hi) + ")");
    }
}

void require_rate(const char* field, double hz) {
    // Bernoulli per 1 ms step: a rate above 1000 Hz cannot be represented.
    if (!(hz >= 0.0 && hz <= 1.0 / kDtSeconds))
        fail(std::string(field) + " = " + std::to_string(hz) + " Hz is out of range (0..1000)");
}

void require_sample_count(const char* field, int value) {
    if (value == 0 || value < -1)
        fail(std::string(field) + " = " + std::to_string(value) + " is invalid (-1 for all, or >= 1)");
}

// Encoders may assume a valid index; the check lives here once.
int checked_index(const Task& task, Split split, int index) {
    if (index < 0 || index >= task.size(split))
        throw std::out_of_range("task: sample index " + std::to_string(index) + " is out of range (0.." +
                                std::to_string(task.size(split) - 1) + ")");
    return index;
}

// Number of thresholds (l + 0.5) / levels, l = 0..levels-1, that intensity pixel/255
// reaches. Integer form of pixel/255 >= (l+0.5)/levels, i.e. 2*levels*pixel >= (2l+1)*255;
// the two sides never tie (even vs odd), so this equals the float comparison exactly.
int thresholds_reached(int pixel, int levels) { return (2 * levels * pixel + 255) / 510; }

// Threshold-crossing code: threshold l of the channel block starting at pair index
// `first_pair` has an "up" channel 2*(first_pair+l) and a "down" channel one above.
// Emits every threshold between the previous and the current level, in channel order.
void add_crossings(SpikeSample& out, int first_pair, int previous_level, int level) {
    for (int l = previous_level; l < level; ++l) out.add_spike(2 * (first_pair + l));
    for (int l = level; l < previous_level; ++l) out.add_spike(2 * (first_pair + l) + 1);
}

// ---------------------------------------------------------------------------------------
// Fashion-MNIST: data shared by the row and the sequential encoders.

class FmnistTask : public Task {
public:
    const TaskInfo& info() const override { return info_; }
    int size(Split split) const override { return data(split).images.n; }
    int label(Split split, int index) const override { return data(split).labels[checked(split, index)]; }

protected:
    explicit FmnistTask(const TaskOptions& options)
        : train_(load(options, "train", "train_samples", options.train_samples)),
          test_(load(options, "t10k", "test_samples", options.test_samples)) {
        if (train_.images.rows != test_.images.rows || train_.images.cols != test_.images.cols)
            fail("train and test images of " + options.data_dir + " differ in size");
        info_.name = options.name;
        info_.n_classes = kFmnistClasses;
    }

    int rows() const { return train_.images.rows; }
    int cols() const { return train_.images.cols; }

    // Starts `out` for sample (split, index) and returns its pixels.
    const uint8_t* begin_sample(Split split, int index, SpikeSample& out) const {
        const IdxLabelledSet& set = data(split);
        const int i = checked(split, index);
        out.clear();
        out.step_begin.reserve(static_cast<size_t>(info_.n_steps) + 1);
        out.label = set.labels[i];
        return set.images.image(i);
    }

    TaskInfo info_;

private:
    static IdxLabelledSet load(const TaskOptions& options, const std::string& prefix, const char* field,
                               int requested) {
        const std::string dir = options.data_dir + "/";
        const std::string images_path = dir + prefix + "-images-idx3-ubyte.gz";
        IdxLabelledSet set =
            read_idx_set(images_path, dir + prefix + "-labels-idx1-ubyte.gz", requested, kFmnistClasses);
        if (requested > set.images.n_in_file) {
            fail(std::string(field) + " = " + std::to_string(requested) + " exceeds the " +
                 std::to_string(set.images.n_in_file) + " samples of " + images_path);
        }
        return set;
    }

    const IdxLabelledSet& data(Split split) const { return split == Split::train ? train_ : test_; }

    int checked(Split split, int index) const { return checked_index(*this, split, index); }

    IdxLabelledSet train_;
    IdxLabelledSet test_;
};

// fmnist-rows: one image row per group of steps_per_row steps, then an input-free tail
// where the loss is taken.
class FmnistRowsTask final : public FmnistTask {
public:
    explicit FmnistRowsTask(const TaskOptions& options)
        : FmnistTask(options),
          crossing_(options.rows_code == "crossing"),
          levels_(options.rows_levels),
          steps_per_row_(options.steps_per_row) {
        const int channels_per_level = crossing_ ? 2 : 1;
        info_.n_inputs = cols() * levels_ * channels_per_level;
        // SpikeSample stores channels as uint16.
        if (info_.n_inputs > 65536)
            fail("images of " + options.data_dir + " are " + std::to_string(cols()) +
                 " pixels wide: " + std::to_string(info_.n_inputs) + " input channels exceed 65536; lower rows_levels");
        info_.readout_begin = rows() * steps_per_row_;
        info_.n_steps = info_.readout_begin + options.rows_readout_steps;
    }

    static void validate(const TaskOptions& options) {
        if (options.rows_code != "crossing" && options.rows_code != "level")
            fail("rows_code = '" + options.rows_code + "' is unknown (known: crossing, level)");
        require_range("rows_levels", options.rows_levels, 1, 16);
        require_range("steps_per_row", options.steps_per_row, 1, 20);
        require_range("rows_readout_steps", options.rows_readout_steps, 1, 200);
    }

    void encode(Split split, int index, SpikeSample& out) const override {
        const uint8_t* image = begin_sample(split, index, out);
        for (int r = 0; r < rows(); ++r) {
            const uint8_t* row = image + r * cols();
            const uint8_t* previous_row = r > 0 ? row - cols() : nullptr;  // row -1 is all zero
            for (int s = 0; s < steps_per_row_; ++s) {
                out.begin_step();
                if (crossing_ && s == 0) add_row_crossings(out, previous_row, row);
                if (!crossing_) add_row_levels(out, row);
            }
        }
        while (out.n_steps() < info_.n_steps) out.begin_step();
    }

private:
    void add_row_crossings(SpikeSample& out, const uint8_t* previous_row, const uint8_t* row) const {
        for (int c = 0; c < cols(); ++c) {
            const int previous = previous_row ? thresholds_reached(previous_row[c], levels_) : 0;
            add_crossings(out, c * levels_, previous, thresholds_reached(row[c], levels_));
        }
    }

    void add_row_levels(SpikeSample& out, const uint8_t* row) const {
        for (int c = 0; c < cols(); ++c) {
            const int reached = thresholds_reached(row[c], levels_);
            for (int l = 0; l < reached; ++l) out.add_spike(c * levels_ + l);
        }
    }

    bool crossing_;
    int levels_;
    int steps_per_row_;
};

// fmnist-seq: one pixel per step (row-major), threshold crossings between consecutive
// pixels, then a readout window announced by the cue channel.
class FmnistSeqTask final : public FmnistTask {
public:
    explicit FmnistSeqTask(const TaskOptions& options) : FmnistTask(options), thresholds_(options.seq_thresholds) {
        info_.n_inputs = 2 * thresholds_ + 1;
        info_.readout_begin = rows() * cols();
        info_.n_steps = info_.readout_begin + options.seq_readout_steps;
    }

    static void validate(const TaskOptions& options) {
        require_range("seq_thresholds", options.seq_thresholds, 1, 127);
        require_range("seq_readout_steps", options.seq_readout_steps, 1, 200);
    }

    void encode(Split split, int index, SpikeSample& out) const override {
        const uint8_t* image = begin_sample(split, index, out);
        int previous = 0;  // the pixel before the first is 0
        for (int i = 0; i < info_.readout_begin; ++i) {
            const int level = thresholds_reached(image[i], thresholds_);
            out.begin_step();
            add_crossings(out, 0, previous, level);
            previous = level;
        }
        const int cue_channel = 2 * thresholds_;
        while (out.n_steps() < info_.n_steps) {
            out.begin_step();
            out.add_spike(cue_channel);
        }
    }

private:
    int thresholds_;
};

// ---------------------------------------------------------------------------------------
// cue-accumulation (Bellec et al. 2020, Fig. 3): synthetic, every sample drawn from a
// generator keyed by (seed, split, index), so nothing is stored.

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Small, fast and platform-independent (std:: distributions are not).
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() { return splitmix64(state_); }

private:
    uint64_t state_;
};

// Probability of a spike in one step, as a threshold on a uniform 64-bit draw.
uint64_t spike_threshold(double rate_hz) {
    const double p = rate_hz * kDtSeconds;
    return p >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(p, 64));
}

class CueAccumulationTask final : public Task {
public:
    explicit CueAccumulationTask(const TaskOptions& o)
        : o_(o),
          train_size_(o.train_samples < 0 ? kCueDefaultTrain : o.train_samples),
          test_size_(o.test_samples < 0 ? kCueDefaultTest : o.test_samples),
          cue_threshold_(spike_threshold(o.cue_rate_hz)),
          noise_threshold_(spike_threshold(o.cue_noise_hz)) {
        info_.name = o.name;
        info_.n_inputs = 4 * o.cue_channels_per_group;
        info_.n_classes = kCueClasses;
        info_.readout_begin = (o.cue_count - 1) * o.cue_spacing + o.cue_duration + o.cue_delay;
        info_.n_steps = info_.readout_begin + o.cue_recall;
    }

    static void validate(const TaskOptions& o) {
        // Odd so that one side always has the majority; <= 63 so the sides fit one word.
        require_range("cue_count", o.cue_count, 1, 63);
        if (o.cue_count % 2 == 0) fail("cue_count = " + std::to_string(o.cue_count) + " must be odd");
        require_range("cue_duration", o.cue_duration, 1, 10000);
        require_range("cue_spacing", o.cue_spacing, o.cue_duration, 10000);  // cues must not overlap
        require_range("cue_delay", o.cue_delay, 0, 100000);
        require_range("cue_recall", o.cue_recall, 1, 10000);
        require_range("cue_channels_per_group", o.cue_channels_per_group, 1, 1000);
        require_rate("cue_rate_hz", o.cue_rate_hz);
        require_rate("cue_noise_hz", o.cue_noise_hz);
    }

    const TaskInfo& info() const override { return info_; }
    int size(Split split) const override { return split == Split::train ? train_size_ : test_size_; }

    int label(Split split, int index) const override { return majority(cue_sides(split, index)); }

    void encode(Split split, int index, SpikeSample& out) const override {
        const uint64_t sides = cue_sides(split, index);
        out.clear();
        out.step_begin.reserve(static_cast<size_t>(info_.n_steps) + 1);
        out.label = majority(sides);
        Rng rng(sample_key(split, index, kSpikeStream));
        for (int t = 0; t < info_.n_steps; ++t) {
            out.begin_step();
            const int cue = cue_at(t);
            if (cue >= 0) fire_group(out, rng, (sides >> cue & 1) ? kRight : kLeft, cue_threshold_);
            if (t >= info_.readout_begin) fire_group(out, rng, kRecallGroup, cue_threshold_);
            fire_group(out, rng, kNoiseGroup, noise_threshold_);
        }
    }

private:
    // Channel groups in channel order; the left and right groups double as the labels.
    enum { kLeft = 0, kRight = 1, kRecallGroup = 2, kNoiseGroup = 3 };
    static constexpr uint64_t kSideStream = 1;
    static constexpr uint64_t kSpikeStream = 2;

    uint64_t sample_key(Split split, int index, uint64_t stream) const {
        checked_index(*this, split, index);
        uint64_t state = o_.seed;
        for (uint64_t word :
             {uint64_t(split == Split::train ? 0x747261696eULL : 0x74657374ULL), uint64_t(index), stream}) {
            state = splitmix64(state) ^ word;
        }
        return splitmix64(state);
    }

    // Bit k set: cue k is on the right.
    uint64_t cue_sides(Split split, int index) const {
        Rng rng(sample_key(split, index, kSideStream));
        return rng.next() & ((uint64_t{1} << o_.cue_count) - 1);
    }

    int majority(uint64_t sides) const { return __builtin_popcountll(sides) > o_.cue_count / 2 ? kRight : kLeft; }

    // The cue shown at step t, or -1 between and after cues.
    int cue_at(int t) const {
        const int k = t / o_.cue_spacing;
        return k < o_.cue_count && t - k * o_.cue_spacing < o_.cue_duration ? k : -1;
    }

    void fire_group(SpikeSample& out, Rng& rng, int group, uint64_t threshold) const {
        const int first = group * o_.cue_channels_per_group;
        for (int c = 0; c < o_.cue_channels_per_group; ++c)
            if (rng.next() < threshold) out.add_spike(first + c);
    }

    TaskOptions o_;
    TaskInfo info_;
    int train_size_;
    int test_size_;
    uint64_t cue_threshold_;
    uint64_t noise_threshold_;
};

std::string joined_task_names() {
    std::string all;
    for (const std::string& name : task_names()) all += (all.empty() ? "" : ", ") + name;
    return all;
}

}  // namespace

std::vector<std::string> task_names() { return {"fmnist-rows", "fmnist-seq", "cue-accumulation", "fmnist-rate"}; }

std::unique_ptr<Task> make_task(const TaskOptions& options) {
    // Options are checked before any file is read, so a typo fails fast.
    require_sample_count("train_samples", options.train_samples);
    require_sample_count("test_samples", options.test_samples);
    if (options.name == "fmnist-rows") {
        FmnistRowsTask::validate(options);
        return std::make_unique<FmnistRowsTask>(options);
    }
    if (options.name == "fmnist-seq") {
        FmnistSeqTask::validate(options);
        return std::make_unique<FmnistSeqTask>(options);
    }
    if (options.name == "cue-accumulation") {
        CueAccumulationTask::validate(options);
        return std::make_unique<CueAccumulationTask>(options);
    }
    if (options.name == "fmnist-rate") return make_rate_task(options);
    fail("unknown task '" + options.name + "' (known: " + joined_task_names() + ")");
}

}  // namespace qrsim
