#include "hw_models/mesh.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace qrsim {

using sc_core::sc_time;
using sc_core::SC_NS;

MeshRouter::MeshRouter(const sc_core::sc_module_name& name, const HwConfig& hw)
    : sc_module(name),
      tiles_(hw.tiles()),
      width_(hw.mesh_width),
      staged_(hw.tiles()) {
    for (int p = 0; p <= tiles_; ++p) {
        const std::string n = "in" + std::to_string(p);
        in.emplace_back(new tlm_utils::simple_target_socket_tagged<MeshRouter>(n.c_str()));
        in.back()->register_b_transport(this, &MeshRouter::b_transport, p);
    }
    for (int t = 0; t < tiles_; ++t) {
        const std::string n = "out" + std::to_string(t);
        out.emplace_back(new tlm_utils::simple_initiator_socket_tagged<MeshRouter>(n.c_str()));
    }
    payload_.set_command(tlm::TLM_WRITE_COMMAND);
}

void MeshRouter::b_transport(int port, tlm::tlm_generic_payload& payload, sc_time& delay) {
    const AerPacket& p = *reinterpret_cast<const AerPacket*>(payload.get_data_ptr());
    for (AerPacket& s : staged_) {
        s.addresses.clear();
        s.step = p.step;
    }
    for (uint32_t a : p.addresses) {
        if (a >= routes_.size()) {
            outside_.add(a, p.step);
            continue;
        }
        for (uint16_t d : routes_[a]) staged_[d].addresses.push_back(a);  // no row entries: no subscriber
    }
    // The input port sits at tile (0, 0)'s router.
    const int src = port == tiles_ ? 0 : port;
    const int sx = src % width_, sy = src / width_;
    for (int d = 0; d < tiles_; ++d) {
        AerPacket& s = staged_[d];
        if (s.addresses.empty()) continue;
        // XY routing: all X links first, then Y; every event crosses each link once.
        const int dx = std::abs(d % width_ - sx), dy = std::abs(d / width_ - sy);
        counters_[Action::hop_ew] += static_cast<uint64_t>(dx) * s.addresses.size();
        counters_[Action::hop_ns] += static_cast<uint64_t>(dy) * s.addresses.size();
        const double route = qrsim::route_s(dx, dy, latencies_);
        const size_t step = static_cast<size_t>(p.step);
        if (step >= route_s_.size()) route_s_.resize(step + 1, 0.0);
        route_s_[step] = std::max(route_s_[step], route);
        sc_time d_delay = delay + sc_time(route, sc_core::SC_SEC);
        payload_.set_data_ptr(reinterpret_cast<unsigned char*>(&s));
        payload_.set_data_length(sizeof(AerPacket));
        (*out[d])->b_transport(payload_, d_delay);
    }
    payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

AerInput::AerInput(const sc_core::sc_module_name& name, const HwConfig& hw)
    : sc_module(name), out("out"), dt_(static_cast<double>(hw.step_ns), SC_NS) {
    payload_.set_command(tlm::TLM_WRITE_COMMAND);
    payload_.set_data_ptr(reinterpret_cast<unsigned char*>(&packet_));
    payload_.set_data_length(sizeof(AerPacket));
    SC_THREAD(run);
}

void AerInput::run() {
    wait(dt_ / 4);
    for (;;) {
        if (sample_ && step_ < sample_->n_steps()) {
            const int t = step_++;
            packet_.step = t;
            packet_.addresses.assign(sample_->channels.begin() + sample_->step_begin[t],
                                     sample_->channels.begin() + sample_->step_begin[t + 1]);
            if (!packet_.addresses.empty()) {
                sc_time delay = sc_core::SC_ZERO_TIME;
                out->b_transport(payload_, delay);
            }
        }
        wait(dt_);
    }
}

}  // namespace qrsim
