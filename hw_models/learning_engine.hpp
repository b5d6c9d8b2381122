// The tile's learning engine: the learning core and its memories. It runs an on-chip rule
// (firmware/learning.hpp) at step and sample boundaries, in one of two ways (learn.core):
//   iss     the firmware image (an rv32imc ELF) on the tile's instruction-set simulator
//           (hw_models/rv32_core.hpp): hooks go through the mailbox, the HAL is the core's
//           address space (firmware/core_map.hpp), and instructions retired by class become
//           cycles (hw_models/core_timing.hpp), time and energy;
//   native  the same firmware sources compiled for the host and called directly: the fast
//           path and the bit-exact twin (no instructions, so no compute energy or cycles).
// Either way every word the firmware reads or writes in a tile or learning memory goes
// through read_words / write_words: bounds-checked, counted in bits (sram_read_bits /
// sram_write_bits) and, on writes, checked against the width the config declares. Fan-in
// writes go through the tile's checked FaninTable; a refused write is counted, reported and
// visible to the firmware. Learning energy is counted apart from inference energy.
// A firmware error (a value too wide, an index outside a memory, a core fault) stops the run
// with one line naming the hook.
//
// Plain C++ (no SystemC): the SystemC tile drives the engine through TileAccess and turns
// the core's busy time into SystemC time.
#pragma once

#include "common/rsnn.hpp"
#include "common/task.hpp"
#include "firmware/learning.hpp"
#include "firmware/rule.hpp"
#include "hw_models/core_timing.hpp"
#include "hw_models/elf_image.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/fanin_table.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/network.hpp"
#include "hw_models/rv32_core.hpp"

#include <array>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
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

// The weight of code 1 of a group, in float weight units: one hidden-parameter LSB weighs
// this x 2^-hidden_frac.
double unit_weight(const GroupLut& g, const HwConfig& hw);

// The float feedback matrix (n_rec x n_out) equal, up to one positive factor, to the
// firmware's random B (fw::feedback_weight): for the float reference on the same B.
Matrix firmware_feedback_matrix(const fw::LearnParams& p);

// The hooks a rule implements, in the order of core_map::Hook.
enum class LearnHook : uint8_t { init, begin_sample, trace_step, signal_step, end_sample, finish, set_rates, count_ };
inline constexpr int kLearnHookCount = static_cast<int>(LearnHook::count_);
const char* learn_hook_name(LearnHook h);

struct HookStats {
    uint64_t calls = 0;
    InstrCounts instructions;
    uint64_t cycles = 0;
    uint64_t max_cycles = 0;  // the longest call
};

// The core's time at step boundaries against the step period.
struct StepTiming {
    uint64_t steps = 0;           // step boundaries with learning
    uint64_t over = 0;            // of them, how many did not fit in the step period
    uint64_t worst_cycles = 0;    // the longest step's learning
    uint64_t excess_cycles = 0;   // summed over the steps that did not fit
    uint64_t busy_cycles = 0;     // all step-boundary learning
};

class LearningEngine final : public CoreBus {
public:
    // Throws if the rule is unknown, the learning memories exceed learn.sram_bits, or (iss)
    // the firmware image is missing, malformed or does not fit learn.rom_bytes / ram_bytes.
    // The rule is the one choose_rule picks (hw_models/rule_catalog.hpp) from the built-in
    // rules (native) or the image's (iss).
    LearningEngine(const HwConfig& hw, const fw::LearnParams& params, TileAccess& tile);
    ~LearningEngine() override;
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

    // The tile closes every step boundary with this: the core's cycles of this boundary's
    // hooks, checked against the step period (learn.realtime = "error": an overrun is a
    // firmware error). Returns the busy time in ps.
    uint64_t end_step();
    // Cycles of the hooks run since the last call outside step boundaries (begin / end of
    // a sample), for the chip to advance time by; 0 for the native core.
    uint64_t take_sample_cycles();
    // The first firmware error ("" while none): the tile stops calling hooks after one.
    const std::string& error() const { return error_; }

    const ActionCounters& counters() const { return counters_; }
    uint64_t refused() const { return refused_; }
    const std::string& first_refusal() const { return first_refusal_; }
    uint32_t updates() const;
    const fw::LearnParams& params() const { return params_; }
    const fw::RuleInfo& rule() const { return info_; }
    bool on_iss() const { return core_ != nullptr; }
    const HookStats& hook_stats(LearnHook h) const { return hooks_[static_cast<int>(h)]; }
    const StepTiming& step_timing() const { return steps_; }
    const CoreTiming& timing() const { return timing_; }
    const ElfImage* image() const { return image_.get(); }
    const Rv32Core* core() const { return core_.get(); }
    double clock_hz() const { return hw_.learn.clock_hz; }
    // Learning memory by component, bits: the rule's own account of its learning memories and
    // of its working buffers (learn.scratch, in the core's RAM), the rest of the core's RAM
    // (stack, data, spare) and its ROM.
    std::map<std::string, int64_t> memory_bits() const;

    // Testbench views of the learning memories (not a firmware path: nothing is counted),
    // and an observer called after every trace_step (inside the tile's process: record,
    // never assert there).
    const std::vector<int32_t>& memory(fw::LearnMem m) const { return mem_[m]; }
    // Every entry's hidden parameter h and address (slot * K + entry), wherever the update
    // mode keeps them (learning memory, or the CAM and h's fraction).
    void hidden_parameters(std::vector<int32_t>& h, std::vector<int32_t>& address) const;
    void set_step_observer(std::function<void(int t)> observer) { observer_ = std::move(observer); }

    // CoreBus: the core's view of the mailbox, the CAM port, the info registers and the
    // memory regions.
    bool load(uint32_t address, uint32_t& value, std::string& error) override;
    bool store(uint32_t address, uint32_t value, std::string& error) override;

private:
    void run_hook(LearnHook h, uint32_t arg);
    // iss: the rule's memory bits and working words from the image itself (not a hook of the
    // chip's schedule: neither counted nor timed).
    void describe_on_core();
    void throw_if_error() const;
    void fail(const std::string& what);
    uint32_t region_size(uint8_t mem) const;
    // "store to pre_traces[9000], outside its 832 words": every refused access says this.
    std::string outside_message(bool store, uint32_t mem, uint32_t index) const;
    // The one path of every firmware access to a tile or learning memory (both cores).
    bool read_words(uint8_t mem, uint32_t index, uint32_t count, int32_t* dst, std::string& error);
    bool write_words(uint8_t mem, uint32_t index, uint32_t count, const int32_t* src, std::string& error);
    int cam_write(uint32_t slot, uint32_t entry, int32_t address, int32_t code, bool clear);
    uint64_t bits_of(uint8_t mem, uint32_t index, uint32_t count) const;
    void refuse(const std::string& what);

    static void hal_read(void* ctx, uint8_t mem, uint32_t index, uint32_t count, int32_t* dst);
    static void hal_write(void* ctx, uint8_t mem, uint32_t index, uint32_t count, const int32_t* src);
    static int hal_write_entry(void* ctx, uint32_t slot, uint32_t entry, int32_t address, int32_t code);
    static int hal_clear_entry(void* ctx, uint32_t slot, uint32_t entry, int32_t address);
    static uint32_t hal_event_count(void* ctx);

    // A learning memory holds up to two planes of different formats (e.g. hidden parameters,
    // then their addresses); words from `boundary` on are the upper plane.
    struct PlaneFormat {
        uint32_t boundary = UINT32_MAX;
        uint8_t lower_bits = 32, upper_bits = 32;
        bool upper_unsigned = false;
        uint32_t bits(uint32_t index) const { return index < boundary ? lower_bits : upper_bits; }
        // The values a word at `index` may hold.
        void range(uint32_t index, int64_t& lo, int64_t& hi) const {
            const int b = static_cast<int>(bits(index));
            const bool u = index >= boundary && upper_unsigned;
            lo = u ? 0 : fw::min_signed(b);
            hi = u ? (b >= 31 ? INT32_MAX : (int64_t{1} << b) - 1) : fw::max_signed(b);
        }
        bool fits(uint32_t index, int32_t v) const {
            int64_t lo, hi;
            range(index, lo, hi);
            return v >= lo && v <= hi;
        }
        // The first word of src[0, count) (stored at index ..) that does not fit; count if all do.
        uint32_t first_misfit(uint32_t index, uint32_t count, const int32_t* src) const {
            uint32_t i = 0;
            while (i < count) {
                // One plane at a time: a bound pair per run, not per word (the hot path).
                const uint32_t end = index + i < boundary ? std::min<uint64_t>(count, uint64_t{boundary} - index) : count;
                int64_t lo, hi;
                range(index + i, lo, hi);
                bool ok = true;
                for (uint32_t k = i; k < end; ++k) ok &= src[k] >= lo && src[k] <= hi;
                if (!ok)
                    for (uint32_t k = i; k < end; ++k)
                        if (src[k] < lo || src[k] > hi) return k;
                i = end;
            }
            return count;
        }
    };

    HwConfig hw_;
    fw::LearnParams params_;
    TileAccess& tile_;
    fw::RuleInfo info_{};
    const fw::RuleOps* rule_ = nullptr;  // native: the built-in rule
    std::array<uint64_t, fw::lmem_count_> rule_bits_{};
    uint32_t scratch_words_ = 0;
    std::array<std::vector<int32_t>, fw::lmem_count_> mem_;
    std::array<PlaneFormat, fw::lmem_count_> planes_{};
    int label_ = 0;
    std::function<void(int)> observer_;
    ActionCounters counters_;
    uint64_t refused_ = 0;
    std::string first_refusal_, error_;

    // native core
    fw::Hal hal_;
    fw::LearnContext ctx_;
    std::vector<int32_t> scratch_;

    // instruction-set simulator
    std::unique_ptr<ElfImage> image_;
    std::unique_ptr<Rv32Core> core_;
    CoreTiming timing_;
    uint32_t hook_entry_ = 0, idle_ = 0;
    std::vector<uint32_t> mailbox_;
    std::array<uint32_t, 6> cam_regs_{};
    uint64_t ram_accesses_seen_ = 0;

    std::array<HookStats, kLearnHookCount> hooks_{};
    StepTiming steps_;
    uint64_t step_cycles_ = 0, sample_cycles_ = 0;
};

}  // namespace qrsim
