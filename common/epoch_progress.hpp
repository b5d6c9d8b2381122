// Progress of a running training epoch, reported by the float trainer and by on-chip
// training alike and shown by the CLI's progress line (apps/progress.hpp).
#pragma once

#include <cmath>
#include <functional>

namespace qrsim {

struct Progress {
    int epoch = 0;          // 1-based
    int epochs = 0;
    int samples_done = 0;
    int samples_total = 0;
    double samples_per_s = 0;
    double running_accuracy = 0;  // over the samples of this epoch so far
    double running_loss = NAN;     // NAN: not measured
};
using ProgressCallback = std::function<void(const Progress&)>;

}  // namespace qrsim
