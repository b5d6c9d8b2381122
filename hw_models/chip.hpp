// A whole chip: tiles on a mesh, the router and the AER input port, built from a hw config
// and loaded with a TileNetwork. Plain C++ (not a module): it owns the modules, places
// neurons, writes CAMs through their checked interface and runs samples with sc_start.
//
// Placement: global neuron j goes to tile j / (cores x neurons_per_core), slot j mod that;
// recurrent neurons first, then readout units.
#pragma once

#include "common/task.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/memory_report.hpp"
#include "hw_models/mesh.hpp"
#include "hw_models/network.hpp"
#include "hw_models/step_timing.hpp"
#include "hw_models/tile.hpp"

#include <memory>
#include <vector>

namespace qrsim {

struct SampleResult {
    int prediction = -1;            // argmax of the readout summed over the window
    std::vector<int64_t> readout;   // n_out sums (membrane LSBs)
    std::vector<std::vector<int32_t>> readout_window;  // [window step][k], membrane LSBs
};

class Chip {
public:
    // Builds and loads everything; must run before the first sc_start. Throws one line on
    // a config or network that does not fit (capacity, K, codes, addresses, LUT range).
    // `name` prefixes the module names, so several chips can share one elaboration.
    Chip(const HwConfig& hw, const TileNetwork& net, const std::string& name = "chip");
    ~Chip();
    Chip(const Chip&) = delete;
    Chip& operator=(const Chip&) = delete;

    // Runs one sample (n_steps + 1 timesteps of simulated time).
    SampleResult run_sample(const SpikeSample& sample, int readout_begin);
    const HwConfig& hw() const { return hw_; }

    // On-chip learning on tile 0 (single-tile networks): every address is routed to the
    // tile (the traces need all presynaptic spikes, not only those of active entries),
    // the engine is built, attached and initialised. run_sample then learns.
    LearningEngine& enable_learning(const fw::LearnParams& params);
    LearningEngine* learning() { return learning_.get(); }
    // Off: inference only (evaluation); the firmware first commits its weights (finish).
    void set_learning(bool on);

    void record_spikes(bool on);
    std::vector<SpikeEvent> take_spikes();  // recorded since the last call, sorted

    ActionCounters counters() const;  // tiles + router, since construction
    // The hw config's energy table, priced for this chip: energy, static power, latencies.
    const EnergyModel& costs() const { return costs_; }
    // Every step since construction (or the last clear) against the step period.
    const StepTimeStats& step_stats() const { return step_stats_; }
    void clear_step_stats() {
        step_stats_ = StepTimeStats(step_stats_.period_s());
        samples_run_ = 0;
    }
    MemoryMap memory() const;         // all tiles
    double sim_time_s() const;
    // Flushes and closes the VCD file (if any) and renames it into place; call it when the
    // run succeeded. A chip destroyed without it discards the trace.
    void close_trace();
    int tiles() const { return static_cast<int>(tiles_.size()); }
    Tile& tile(int i) { return *tiles_[i]; }

private:
    void idle_for_learning();

    void record_step_times(int n_activations);

    HwConfig hw_;
    EnergyModel costs_;
    StepTimeStats step_stats_;
    uint64_t samples_run_ = 0;
    int n_out_, n_rec_;
    std::unique_ptr<MeshRouter> router_;
    std::unique_ptr<AerInput> input_;
    std::vector<std::unique_ptr<Tile>> tiles_;
    sc_core::sc_trace_file* vcd_ = nullptr;
    std::string vcd_temp_;  // where the VCD is written until close_trace
    std::unique_ptr<LearningEngine> learning_;
    bool learn_on_ = false;
    int n_addresses_ = 0;
};

}  // namespace qrsim
