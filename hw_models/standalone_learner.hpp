// The learning firmware run standalone on the host: no SystemC, no router, no TLM. A plain
// loop that follows the tile's activation schedule step for step (inputs x_t and spikes
// z_{t-1} integrated together, readout one step behind, then the engine's
// signal_step(t-1) and trace_step(t)), with the same firmware arithmetic, the same LFSR
// layout and the same checked FaninTable. The SystemC tile must end every sample with
// exactly the same fan-in entries, hidden parameters and biases (testbench 4).
#pragma once

#include "hw_models/learning_engine.hpp"

#include <memory>
#include <vector>

namespace qrsim {

class StandaloneLearner : public TileAccess {
public:
    StandaloneLearner(const HwConfig& hw, const TileNetwork& net, const fw::LearnParams& params);

    // Runs and learns one sample; returns the prediction (argmax of the window sums).
    int run_sample(const SpikeSample& sample, int readout_begin, bool learn = true);

    LearningEngine& engine() { return *engine_; }
    const FaninTable& fanin() const { return fanin_; }

    FaninTable& fanin_table() override { return fanin_; }
    const fw::NeuronState& neuron_state(int slot) const override { return state_[slot]; }
    const std::vector<uint32_t>& step_events() const override { return events_; }
    const std::vector<int32_t>& weight_lut() const override { return lut_; }
    int32_t bias_of(int slot) const override { return bias_[slot]; }
    void write_bias(int slot, int32_t value) override;

private:
    HwConfig hw_;
    TileNetwork net_;
    FaninTable fanin_;
    std::vector<int32_t> lut_, bias_, acc_;
    std::vector<int64_t> y_sum_;
    std::vector<fw::NeuronState> state_;
    std::vector<fw::Lfsr32> lfsr_hidden_, lfsr_readout_;
    std::vector<uint32_t> events_, spikes_;
    std::unique_ptr<LearningEngine> engine_;
};

}  // namespace qrsim
