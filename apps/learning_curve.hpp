// The learning curve inside epochs, for `train` and `run --learn` alike: accuracy and loss of
// the predictions made while learning, over consecutive windows of about a twentieth of an
// epoch, taken from the running (since the epoch began) figures a trainer's progress reports.
// Reports keep it as `train_curve`; scripts/plot_learning_curves.py draws it.
#pragma once

#include "common/epoch_progress.hpp"

#include <nlohmann/json.hpp>

namespace qrsim::app {

class LearningCurve {
public:
    explicit LearningCurve(int points_per_epoch = 20) : points_per_epoch_(points_per_epoch) {}

    // Every progress report of an epoch, in order (p.samples_done counts from the epoch's start).
    void add(const Progress& p);
    // Closes an epoch of `samples` training samples: the next report starts a new one.
    void end_epoch(int samples);
    const nlohmann::json& points() const { return points_; }

private:
    int points_per_epoch_;
    int epoch_ = 0, epoch_start_ = 0;  // samples seen before this epoch
    int last_done_ = 0;
    double last_correct_ = 0, last_loss_ = 0;
    nlohmann::json points_ = nlohmann::json::array();
};

}  // namespace qrsim::app
