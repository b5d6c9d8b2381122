// Tasks: a labelled dataset plus the spike encoder that turns each sample into input
// events. Every layer (float trainer, tile, firmware) consumes the same SpikeSample, so
// the tile receives exactly the spikes the float reference saw.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qrsim {

// Input events of one sample, per time step, in compressed-row form: the channels that
// spike at step t are channels[step_begin[t] .. step_begin[t+1]).
struct SpikeSample {
    int label = -1;
    std::vector<int32_t> step_begin{0};
    std::vector<uint16_t> channels;

    int n_steps() const { return static_cast<int>(step_begin.size()) - 1; }
    int n_events() const { return static_cast<int>(channels.size()); }
    void clear() { step_begin.assign(1, 0); channels.clear(); label = -1; }
    void begin_step() { step_begin.push_back(step_begin.back()); }  // appends an empty step
    void add_spike(int channel) { channels.push_back(static_cast<uint16_t>(channel)); ++step_begin.back(); }
};

// Shape of a task: the loss (and accuracy) is taken over steps [readout_begin, n_steps).
struct TaskInfo {
    std::string name;
    int n_inputs = 0;
    int n_steps = 0;
    int n_classes = 0;
    int readout_begin = 0;
};

enum class Split { train, test };

// Options of every task; each task reads the fields that concern it.
struct TaskOptions {
    std::string name = "fmnist-rows";
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    int train_samples = -1;  // -1: the whole split
    int test_samples = -1;
    uint64_t seed = 1;
    // fmnist-rows
    std::string rows_code = "crossing";  // "crossing" (up/down threshold crossings) or "level"
    int rows_levels = 4;                 // thresholds per pixel
    int steps_per_row = 2;
    int rows_readout_steps = 4;          // input-free steps at the end, where the loss is taken
    // fmnist-seq
    int seq_thresholds = 40;
    int seq_readout_steps = 56;
    // cue-accumulation (Bellec et al. 2020, Fig. 3)
    int cue_count = 7;
    int cue_duration = 100;   // ms of spikes per cue
    int cue_spacing = 150;    // ms from one cue's start to the next
    int cue_delay = 1050;     // ms between the last cue's end and the recall window
    int cue_recall = 150;     // ms of recall window (the loss window)
    int cue_channels_per_group = 10;  // 4 groups: left, right, recall, background noise
    double cue_rate_hz = 40.0;
    double cue_noise_hz = 10.0;
};

class Task {
public:
    virtual ~Task() = default;
    virtual const TaskInfo& info() const = 0;
    virtual int size(Split split) const = 0;
    virtual int label(Split split, int index) const = 0;
    // Deterministic: the same (split, index) gives the same spikes on every call.
    virtual void encode(Split split, int index, SpikeSample& out) const = 0;
};

// Builds a task by name ("fmnist-rows", "fmnist-seq", "cue-accumulation").
// Throws std::runtime_error with one line naming the bad field or file.
std::unique_ptr<Task> make_task(const TaskOptions& options);

// Names accepted by make_task, for --help texts and error messages.
std::vector<std::string> task_names();

}  // namespace qrsim
