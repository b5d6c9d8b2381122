#include "apps/learning_curve.hpp"

#include <cmath>

namespace qrsim::app {

void LearningCurve::add(const Progress& p) {
    if (p.epoch != epoch_) {
        epoch_ = p.epoch;
        last_done_ = 0;
        last_correct_ = last_loss_ = 0;
    }
    const int window = std::max(1, p.samples_total / points_per_epoch_);
    const bool last = p.samples_done >= p.samples_total;
    if (p.samples_done - last_done_ < window && !last) return;
    if (p.samples_done <= last_done_) return;
    // The running figures are means since the epoch began: a window's figure is the
    // difference of two running sums.
    const double correct = p.running_accuracy * p.samples_done;
    const double loss = std::isfinite(p.running_loss) ? p.running_loss * p.samples_done : NAN;
    const double n = p.samples_done - last_done_;
    nlohmann::json point = {{"epoch", p.epoch},
                            {"samples", epoch_start_ + p.samples_done},
                            {"window", static_cast<int>(n)},
                            {"train_accuracy", (correct - last_correct_) / n}};
    point["train_loss"] = std::isfinite(loss) ? nlohmann::json((loss - last_loss_) / n) : nlohmann::json();
    points_.push_back(std::move(point));
    last_done_ = p.samples_done;
    last_correct_ = correct;
    last_loss_ = loss;
}

void LearningCurve::end_epoch(int samples) {
    epoch_start_ += samples;
    last_done_ = 0;
    epoch_ = 0;
}

}  // namespace qrsim::app
