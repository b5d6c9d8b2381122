#include "common/task_rate.hpp"

#include "common/idx.hpp"

#include <stdexcept>
#include <string>

namespace qrsim {
namespace {

constexpr int kClasses = 10;

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error("task: " + message); }

class FmnistRateTask final : public Task {
public:
    FmnistRateTask(const TaskOptions& options, const RateCoding& coding)
        : train_(load(options, "train", "train_samples", options.train_samples)),
          test_(load(options, "t10k", "test_samples", options.test_samples)) {
        if (coding.steps < 1 || coding.steps > 100000) fail("rate steps = " + std::to_string(coding.steps) + " is out of range (1..100000)");
        if (coding.readout_begin < 0 || coding.readout_begin >= coding.steps)
            fail("rate readout_begin = " + std::to_string(coding.readout_begin) + " is out of range (0.." +
                 std::to_string(coding.steps - 1) + ")");
        pixels_ = train_.images.image_size();
        if (test_.images.image_size() != pixels_) fail("train and test images of " + options.data_dir + " differ in size");
        if (pixels_ + 1 > 65536) fail("images of " + options.data_dir + " have too many pixels for uint16 channels");
        info_.name = options.name;
        info_.n_inputs = pixels_ + 1;
        info_.n_classes = kClasses;
        info_.n_steps = coding.steps;
        info_.readout_begin = coding.readout_begin;
    }

    const TaskInfo& info() const override { return info_; }
    int size(Split split) const override { return data(split).images.n; }
    int label(Split split, int index) const override { return data(split).labels[checked(split, index)]; }

    void encode(Split split, int index, SpikeSample& out) const override {
        const IdxLabelledSet& set = data(split);
        const int i = checked(split, index);
        const uint8_t* image = set.images.image(i);
        out.clear();
        out.label = set.labels[i];
        out.step_begin.reserve(static_cast<size_t>(info_.n_steps) + 1);
        for (int t = 0; t < info_.n_steps; ++t) {
            out.begin_step();
            for (int c = 0; c < pixels_; ++c)
                if (rate_code_count(image[c], t + 1) > rate_code_count(image[c], t)) out.add_spike(c);
            out.add_spike(pixels_);  // the always-on bias channel
        }
    }

private:
    static IdxLabelledSet load(const TaskOptions& options, const std::string& prefix, const char* field, int requested) {
        const std::string dir = options.data_dir + "/";
        const std::string images = dir + prefix + "-images-idx3-ubyte.gz";
        IdxLabelledSet set = read_idx_set(images, dir + prefix + "-labels-idx1-ubyte.gz", requested, kClasses);
        if (requested > set.images.n_in_file)
            fail(std::string(field) + " = " + std::to_string(requested) + " exceeds the " +
                 std::to_string(set.images.n_in_file) + " samples of " + images);
        return set;
    }

    const IdxLabelledSet& data(Split split) const { return split == Split::train ? train_ : test_; }

    int checked(Split split, int index) const {
        if (index < 0 || index >= size(split))
            throw std::out_of_range("task: sample index " + std::to_string(index) + " is out of range (0.." +
                                    std::to_string(size(split) - 1) + ")");
        return index;
    }

    IdxLabelledSet train_, test_;
    TaskInfo info_;
    int pixels_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_rate_task(const TaskOptions& options, const RateCoding& coding) {
    return std::make_unique<FmnistRateTask>(options, coding);
}

}  // namespace qrsim
