// One neuromorphic tile: neuron core (fixed-point LIF/ALIF and readout units from
// firmware/neuron_core.hpp), fan-in tables (CAM), per-group weight LUT, AER ports.
//
// Timing. The tile advances a whole timestep in ONE activation of its SC_THREAD, at
// sample_start + t dt + dt/2 for t = 0 .. T (T = n_steps; the last one is a drain step):
//  - the packet it integrates holds the inputs x_t (injected at t dt + dt/4) and the
//    recurrent spikes z_{t-1} (emitted by some tile at the previous activation), matched
//    against the CAMs through their inverted index;
//  - then the neurons run step t of the schedule in hw_models/step_schedule.hpp (hidden
//    neurons, the readout one step behind as a pipeline stage, the learning hooks);
//  - its spikes leave as one packet tagged t+1 through the router; a packet that would
//    arrive after the activation that needs it is a timing error (hop latency too long).
// The learning engine reaches the tile's memories only through TileAccess (its HAL counts
// every bit); the learning core's cycles advance SystemC time within the step period.
#pragma once

#include "hw_models/aer.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/fanin_table.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/learning_engine.hpp"
#include "hw_models/network.hpp"
#include "hw_models/step_schedule.hpp"
#include "hw_models/step_timing.hpp"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <memory>
#include <string>
#include <vector>

namespace qrsim {

class Tile : public sc_core::sc_module, public TileAccess {
public:
    tlm_utils::simple_target_socket<Tile> aer_in;
    tlm_utils::simple_initiator_socket<Tile> aer_out;

    SC_HAS_PROCESS(Tile);
    Tile(const sc_core::sc_module_name& name, const HwConfig& hw, int index);

    // ---- loading (host loader now, firmware HAL later); every write is checked ----
    // lut_group: the weight LUT the neuron's entries read (0 hidden, 1 readout, 2.. further
    // hidden layers; < synapse.lut_groups); -1: by role.
    void place(int slot, int global_neuron, NeuronRole role, const fw::NeuronConfig& config, int32_t bias,
               int lut_group = -1);
    void set_lut(int group, const GroupLut& lut);
    // Device mismatch: the weights this slot's synapse circuits add instead of its group's
    // (hw_models/mismatch.hpp). Call after place(); the learning core keeps reading the
    // nominal groups, which stay first in weight_lut().
    void set_neuron_lut(int slot, const GroupLut& lut);
    void set_address_space(int n_in, int n_addresses);
    FaninTable& fanin() { return fanin_; }
    const FaninTable& fanin() const { return fanin_; }

    // ---- between sc_start calls ----
    void begin_sample(int n_steps, int readout_begin);  // zero state, empty inboxes
    void record_spikes(bool on) { record_ = on; }
    const std::vector<SpikeEvent>& spikes() const { return spikes_; }
    void clear_spikes() { spikes_.clear(); }
    // Readout sums over the window, as (global neuron, sum) for the readout units here.
    std::vector<std::pair<int, int64_t>> readout_sums() const;
    // The readout values of every window step, as (global neuron, values) (for the loss).
    std::vector<std::pair<int, std::vector<int32_t>>> readout_window() const;
    const ActionCounters& counters() const { return counters_; }
    // Step timing: the table's latencies in, per activation of the last sample out (the
    // slowest core's busy time, the learning core's time at the boundary).
    void set_latencies(const StepLatencies& l) { latencies_ = l; }
    const std::vector<double>& step_compute_s() const { return step_compute_s_; }
    const std::vector<double>& step_learn_s() const { return step_learn_s_; }
    // A timing error, or the events this sample delivered outside the fan-in index.
    std::string error() const;
    int index() const { return index_; }
    int slots() const { return slots_; }
    int global_of(int slot) const { return global_[slot]; }
    // Registers membranes and spikes of these global neurons (those placed here) in a VCD.
    void trace(sc_core::sc_trace_file* tf, const std::vector<int>& global_neurons);

    // ---- learning: the engine runs at this tile's step boundaries (nullptr: none) ----
    void attach_learning(LearningEngine* engine) { learning_ = engine; }
    // TileAccess (the tile's side of the learning HAL)
    FaninTable& fanin_table() override { return fanin_; }
    const fw::NeuronState& neuron_state(int slot) const override { return neurons_.state(slot); }
    const std::vector<uint32_t>& step_events() const override { return events_; }
    const std::vector<int32_t>& weight_lut() const override { return lut_; }
    int32_t bias_of(int slot) const override { return neurons_.bias(slot); }
    void write_bias(int slot, int32_t value) override;

private:
    void run();
    void step();
    void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);
    void rebuild_counts();

    HwConfig hw_;
    int index_;
    int slots_;
    sc_core::sc_time dt_;
    FaninTable fanin_;
    std::vector<int32_t> lut_;
    int n_in_ = 0, n_addresses_ = 0;

    std::vector<int> global_;
    StepSchedule neurons_;
    std::vector<uint32_t> hidden_per_core_, readout_per_core_;

    // Per-step constants for bulk counting.
    uint64_t hidden_draws_ = 0, readout_draws_ = 0;
    uint64_t hidden_state_bits_ = 0, readout_state_bits_ = 0, readout_read_extra_ = 0, hidden_read_extra_ = 0;

    std::vector<uint32_t> inbox_[2];
    std::vector<uint32_t> events_;  // the packet integrated by the last step
    LearningEngine* learning_ = nullptr;
    sc_core::sc_time learn_busy_;  // the learning core's time at this step boundary
    AerPacket out_;
    tlm::tlm_generic_payload payload_;
    int step_ = 0, n_steps_ = -1;
    sc_core::sc_time sample_start_;
    bool record_ = false;
    std::vector<SpikeEvent> spikes_;
    ActionCounters counters_;
    StepLatencies latencies_;
    std::vector<CoreWork> work_;  // this step, per core
    std::vector<double> step_compute_s_, step_learn_s_;
    std::string error_;
    OutsideEvents outside_;

    // VCD mirrors: written once per step for the traced neurons.
    std::vector<int> traced_slots_;
    std::unique_ptr<int[]> trace_v_;   // stable addresses for sc_trace
    std::unique_ptr<bool[]> trace_z_;
};

}  // namespace qrsim
