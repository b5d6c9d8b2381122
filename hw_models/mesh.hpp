// The 2-D mesh: a router with XY routing and per-hop latencies (east-west and north-south,
// hw_models/step_timing.hpp), and the AER input port through which the dataset encoder's
// events enter (attached at tile (0, 0), the chip's host link). Both are loosely timed
// TLM-2.0: a packet is one b_transport call whose annotated delay grows by the latency of
// each link it crosses; no process runs per spike.
#pragma once

#include "common/task.hpp"
#include "hw_models/aer.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/step_timing.hpp"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <memory>
#include <vector>

namespace qrsim {

class MeshRouter : public sc_core::sc_module {
public:
    // Ports 0 .. tiles-1 come from the tiles, port `tiles` from the input port.
    std::vector<std::unique_ptr<tlm_utils::simple_target_socket_tagged<MeshRouter>>> in;
    std::vector<std::unique_ptr<tlm_utils::simple_initiator_socket_tagged<MeshRouter>>> out;

    MeshRouter(const sc_core::sc_module_name& name, const HwConfig& hw);

    // Multicast table: for every address, the tiles whose CAMs hold it.
    void set_routes(std::vector<std::vector<uint16_t>> destinations) { routes_ = std::move(destinations); }
    const ActionCounters& counters() const { return counters_; }
    int input_port() const { return tiles_; }
    void set_latencies(const StepLatencies& l) { latencies_ = l; }
    // Events of the current sample with an address the table has no row for.
    void begin_sample() {
        outside_.clear();
        route_s_.clear();
    }
    // Per step of the current sample: the longest route of a packet the step integrates.
    double route_s(int step) const { return step < static_cast<int>(route_s_.size()) ? route_s_[step] : 0.0; }
    const OutsideEvents& outside() const { return outside_; }
    size_t table_size() const { return routes_.size(); }

private:
    void b_transport(int port, tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);

    int tiles_, width_;
    StepLatencies latencies_;
    std::vector<double> route_s_;
    std::vector<std::vector<uint16_t>> routes_;
    std::vector<AerPacket> staged_;  // one per destination tile, reused
    tlm::tlm_generic_payload payload_;
    ActionCounters counters_;
    OutsideEvents outside_;
};

class AerInput : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<AerInput> out;

    SC_HAS_PROCESS(AerInput);
    AerInput(const sc_core::sc_module_name& name, const HwConfig& hw);

    // The sample must outlive the run; events of step t are sent at t dt + dt/4.
    void begin_sample(const SpikeSample* sample) { sample_ = sample; step_ = 0; }

private:
    void run();

    sc_core::sc_time dt_;
    const SpikeSample* sample_ = nullptr;
    int step_ = 0;
    AerPacket packet_;
    tlm::tlm_generic_payload payload_;
};

}  // namespace qrsim
