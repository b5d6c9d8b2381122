// The tile's learning engine: runs an on-chip rule (firmware/learning.hpp) at step and
// sample boundaries and is the firmware's ONLY way into tile memories: it implements the
// Hal, counting every access in bits (sram_read_bits / sram_write_bits), every trace
// update, firmware op and LFSR draw, in its own ActionCounters, so learning energy is
// reported apart from inference energy. Fan-in writes go through the tile's checked
// FaninTable; a refused write is counted and reported (it must never happen).
//
// Plain C++ (no SystemC): the SystemC tile and the standalone host loop
// (hw_models/standalone_learner.hpp) drive the same engine through TileAccess, so the
// firmware in the tile and the firmware on the host run the same code on the same data.
// Learning memories (traces, hidden parameters, accumulators) live here, sized from the
// rule's memory_bits; the firmware's working buffers (fw::LearnScratch) too.
#pragma once

#include "firmware/learning.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/fanin_table.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/network.hpp"
#include "learning_rules/rsnn.hpp"
#include "learning_rules/task.hpp"

#include <array>
#include <functional>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qrsim {

// What the engine needs from a tile (the tile's side of the HAL).
class TileAccess {
public:
    virtual ~TileAccess() = default;
    virtual FaninTable& fanin_table() = 0;
    virtual const fw::NeuronState& neuron_state(int slot) const = 0;
    virtual const std::vector<uint32_t>& step_events() const = 0;  // this step's packet
    virtual const std::vector<int32_t>& weight_lut() const = 0;
    virtual int32_t bias_of(int slot) const = 0;
    virtual void write_bias(int slot, int32_t value) = 0;  // checked: throws if out of range
};

// The firmware's parameters for a network on a tile: shapes, formats, and the learning
// rates converted from weight units (the float trainer's) into hidden-parameter LSBs, times
// lr_scale. Throws one line naming the [learn] / [traces] key when the combination cannot work.
fw::LearnParams make_learn_params(const HwConfig& hw, const TileNetwork& net, const RsnnParams& params,
                                  const TaskInfo& info, double lr_scale = 1.0);

// The float feedback matrix (n_rec x n_out) equal, up to one positive factor, to the
// firmware's random B (fw::feedback_weight): for the float reference on the same B.
Matrix firmware_feedback_matrix(const fw::LearnParams& p);

class LearningEngine {
public:
    // Throws if the rule is unknown or the learning memories exceed learn.sram_bits.
    LearningEngine(const HwConfig& hw, const fw::LearnParams& params, TileAccess& tile);
    LearningEngine(const LearningEngine&) = delete;
    LearningEngine& operator=(const LearningEngine&) = delete;

    void init();                      // once, after the network is loaded
    void begin_sample(int label);
    void trace_step(int t);
    void signal_step(int t);
    void end_sample();
    void finish();                    // before inference: the rule commits its weights
    // The host rewrites the firmware's rate registers (per-epoch decay): only the rates of
    // `from` are taken.
    void set_learning_rates(const fw::LearnParams& from);

    const ActionCounters& counters() const { return counters_; }
    uint64_t refused() const { return refused_; }
    const std::string& first_refusal() const { return first_refusal_; }
    uint32_t updates() const { return ctx_.updates; }
    const fw::LearnParams& params() const { return params_; }
    const fw::RuleOps& rule() const { return *rule_; }
    // Learning memory by component, bits (the rule's own account).
    std::map<std::string, int64_t> memory_bits() const;

    // Testbench views of the learning memories (not a firmware path: nothing is counted),
    // and an observer called after every trace_step (inside the tile's process: record,
    // never assert there).
    const std::vector<int32_t>& memory(fw::LearnMem m) const { return mem_[m]; }
    void set_step_observer(std::function<void(int t)> observer) { observer_ = std::move(observer); }

private:
    static void hal_read(void* ctx, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst);
    static void hal_write(void* ctx, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src);
    static int hal_write_entry(void* ctx, uint32_t slot, uint32_t entry, int32_t address, int32_t code);
    static int hal_clear_entry(void* ctx, uint32_t slot, uint32_t entry);
    static uint32_t hal_event_count(void* ctx);
    static void hal_count(void* ctx, uint8_t action, uint32_t n);
    uint64_t bits_of(uint8_t mem, uint32_t index, uint32_t count) const;
    void refuse(const std::string& what);

    HwConfig hw_;
    fw::LearnParams params_;
    TileAccess& tile_;
    const fw::RuleOps* rule_;
    fw::Hal hal_;
    fw::LearnContext ctx_;
    std::vector<int32_t> scratch_;
    std::array<std::vector<int32_t>, fw::lmem_count_> mem_;
    int label_ = 0;
    std::function<void(int)> observer_;
    ActionCounters counters_;
    uint64_t refused_ = 0;
    std::string first_refusal_;
};

}  // namespace qrsim
