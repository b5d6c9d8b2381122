#include "common/readout_loss.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qrsim {

ReadoutLoss::ReadoutLoss(const TaskInfo& info, int label)
    : begin_(info.readout_begin), end_(info.n_steps), label_(label) {
    if (begin_ < 0 || begin_ >= end_) throw std::invalid_argument("task: empty readout window");
    weight_ = 1.0 / (end_ - begin_);
    y_sum_.setZero(info.n_classes);
}

bool ReadoutLoss::step(int t, const Vector& y, Vector& error) {
    if (t < begin_ || t >= end_) return false;
    const double m = y.maxCoeff();
    error = (y.array() - m).exp();
    const double sum = error.sum();
    error /= sum;
    loss_ -= weight_ * std::log(std::max(error[label_], 1e-300));
    error[label_] -= 1.0;
    error *= weight_;
    y_sum_ += y;
    return true;
}

int ReadoutLoss::prediction() const {
    Eigen::Index k = 0;
    y_sum_.maxCoeff(&k);
    return static_cast<int>(k);
}

}  // namespace qrsim
