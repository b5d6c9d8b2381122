// The readout loss of one sample, the one definition the float trainer and the tile's
// on-chip training (hw_models/onchip_training.hpp readout_loss) both report: mean
// cross-entropy of softmax(y_t) over the task's readout window.
#pragma once

#include "common/rsnn.hpp"
#include "common/task.hpp"

namespace qrsim {

// `error` receives dLoss/dy_t for this step (zero outside the window).
class ReadoutLoss {
public:
    ReadoutLoss(const TaskInfo& info, int label);
    // Returns true when step t is in the readout window (error is then written).
    bool step(int t, const Vector& y, Vector& error);
    double loss() const { return loss_; }
    int prediction() const;  // argmax of the readout summed over the window

private:
    int begin_, end_, label_;
    double weight_;
    double loss_ = 0;
    Vector y_sum_;
};

}  // namespace qrsim
