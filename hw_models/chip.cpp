#include "hw_models/chip.hpp"

#include "common/atomic_file.hpp"
#include "hw_models/mismatch.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace qrsim {

namespace {
// The network as this chip's circuits realise it: its own mismatch drawn unless the caller
// drew it already.
TileNetwork as_built(const HwConfig& hw, const TileNetwork& net) {
    TileNetwork built = net;
    if (hw.mismatch.any() && built.neuron_luts.empty()) apply_mismatch(built, hw.mismatch, hw);
    return built;
}
}  // namespace

Chip::Chip(const HwConfig& hw, const TileNetwork& nominal, const std::string& name)
    : hw_(hw),
      costs_(EnergyTable::load(hw.energy_table), hw),
      step_stats_(static_cast<double>(hw.step_ns) * 1e-9),
      n_out_(nominal.n_out),
      n_rec_(nominal.n_rec),
      n_addresses_(nominal.n_addresses()) {
    const TileNetwork net = as_built(hw, nominal);
    check_capacity(hw);
    check_fits(net, hw);
    const StepLatencies latencies = step_latencies(costs_, hw);
    router_ = std::make_unique<MeshRouter>((name + "_router").c_str(), hw);
    router_->set_latencies(latencies);
    input_ = std::make_unique<AerInput>((name + "_aer_input").c_str(), hw);
    input_->out.bind(*router_->in[router_->input_port()]);
    const int npt = hw.neurons_per_tile();
    for (int t = 0; t < hw.tiles(); ++t) {
        const std::string tile_name = name + "_tile" + std::to_string(t);
        tiles_.push_back(std::make_unique<Tile>(tile_name.c_str(), hw, t));
        Tile& tile = *tiles_.back();
        tile.set_latencies(latencies);
        tile.aer_out.bind(*router_->in[t]);
        router_->out[t]->bind(tile.aer_in);
        for (int g = 0; g < net.n_luts(); ++g) tile.set_lut(g, net.lut(g));
        tile.set_address_space(net.n_in, net.n_addresses());
    }
    std::vector<std::vector<uint16_t>> routes(net.n_addresses());
    for (int j = 0; j < net.n_neurons(); ++j) {
        Tile& tile = *tiles_[j / npt];
        const int slot = j % npt;
        tile.place(slot, j, net.is_readout(j) ? NeuronRole::readout : NeuronRole::hidden, net.config_of(j),
                   net.bias[j], net.lut_group(j));
        if (!net.neuron_luts.empty()) tile.set_neuron_lut(slot, net.neuron_luts[j]);
        for (const EntryCode& e : net.fanin[j]) {
            tile.fanin().append(slot, e.pre, e.code);
            auto& r = routes[e.pre];
            if (std::find(r.begin(), r.end(), tile.index()) == r.end()) r.push_back(static_cast<uint16_t>(tile.index()));
        }
    }
    for (auto& r : routes) std::sort(r.begin(), r.end());
    router_->set_routes(std::move(routes));
    if (!hw.vcd_file.empty()) {
        // Written like a report: to VCD.tmp.<pid>.vcd (SystemC appends .vcd to the name it
        // is given), renamed over the VCD by close_trace, so a killed or failed run leaves
        // no truncated trace under the final name.
        remove_stale_temps(hw.vcd_file, ".vcd");
        vcd_temp_ = temp_path_for(hw.vcd_file, ".vcd");
        // SystemC opens the file only at the first sc_start and cannot report a failure
        // cleanly then (its destructor divides by zero while the error unwinds: SIGFPE):
        // the file is created here first, so an unusable path is one error now.
        const int fd = ::open(vcd_temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) {
            const int err = errno;
            vcd_temp_.clear();
            throw std::runtime_error("cannot write VCD " + hw.vcd_file + ": " + std::strerror(err));
        }
        ::close(fd);
        // The kernel's note that it set the time unit is noise on a user's terminal.
        sc_core::sc_report_handler::set_actions("tracing timescale unit set", sc_core::SC_DO_NOTHING);
        vcd_ = sc_core::sc_create_vcd_trace_file(vcd_temp_.substr(0, vcd_temp_.size() - 4).c_str());
        vcd_->set_time_unit(1, sc_core::SC_US);
        for (auto& t : tiles_) t->trace(vcd_, hw.vcd_neurons);
    }
}

Chip::~Chip() {
    // Not closed by close_trace: the run did not finish, its trace is not kept.
    if (vcd_) sc_core::sc_close_vcd_trace_file(vcd_);
    if (!vcd_temp_.empty()) ::unlink(vcd_temp_.c_str());
}

void Chip::close_trace() {
    if (!vcd_) return;
    sc_core::sc_close_vcd_trace_file(vcd_);
    vcd_ = nullptr;
    const std::string temp = std::move(vcd_temp_);
    vcd_temp_.clear();
    if (std::rename(temp.c_str(), hw_.vcd_file.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        throw std::runtime_error("cannot write VCD " + hw_.vcd_file + ": rename: " + std::strerror(err));
    }
}

void Chip::set_learning(bool on) {
    if (!on && learn_on_ && learning_) {
        learning_->finish();
        idle_for_learning();
    }
    learn_on_ = on;
}

LearningEngine& Chip::enable_learning(const fw::LearnParams& params) {
    if (tiles_.size() != 1) throw std::runtime_error("on-chip learning needs the network on one tile");
    std::vector<std::vector<uint16_t>> routes(n_addresses_, std::vector<uint16_t>{0});
    router_->set_routes(std::move(routes));
    learning_ = std::make_unique<LearningEngine>(hw_, params, *tiles_[0]);
    tiles_[0]->attach_learning(learning_.get());
    learning_->init();
    learn_on_ = true;
    return *learning_;
}

void Chip::idle_for_learning() {
    // Work of the learning core between samples (begin / end of a sample) holds the input
    // back for whole steps, so the tiles' step grid and the AER schedule stay aligned.
    const uint64_t cycles = learning_ ? learning_->take_sample_cycles() : 0;
    if (cycles == 0) return;
    const double step_s = static_cast<double>(hw_.step_ns) * 1e-9;
    const double steps = std::ceil(static_cast<double>(cycles) / learning_->clock_hz() / step_s);
    sc_core::sc_start(sc_core::sc_time(static_cast<double>(hw_.step_ns), sc_core::SC_NS) * steps);
}

SampleResult Chip::run_sample(const SpikeSample& sample, int readout_begin) {
    const int T = sample.n_steps();
    const bool learn = learning_ && learn_on_;
    tiles_[0]->attach_learning(learn ? learning_.get() : nullptr);
    if (learn) {
        learning_->begin_sample(sample.label);
        idle_for_learning();
    }
    for (auto& t : tiles_) t->begin_sample(T, readout_begin);
    router_->begin_sample();
    input_->begin_sample(&sample);
    sc_core::sc_start(sc_core::sc_time(static_cast<double>(hw_.step_ns), sc_core::SC_NS) * static_cast<double>(T + 1));
    if (const std::string e = router_->outside().message("mesh router", router_->table_size()); !e.empty())
        throw std::runtime_error(e);
    for (auto& t : tiles_)
        if (const std::string e = t->error(); !e.empty()) throw std::runtime_error(e);
    if (learn && !learning_->error().empty()) throw std::runtime_error(learning_->error());
    record_step_times(T + 1);
    SampleResult r;
    r.readout.assign(n_out_, 0);
    for (auto& t : tiles_)
        for (const auto& [g, sum] : t->readout_sums()) r.readout[g - n_rec_] = sum;
    for (auto& t : tiles_)
        for (const auto& [g, ys] : t->readout_window()) {
            if (r.readout_window.size() < ys.size()) r.readout_window.resize(ys.size(), std::vector<int32_t>(n_out_, 0));
            for (size_t w = 0; w < ys.size(); ++w) r.readout_window[w][g - n_rec_] = ys[w];
        }
    r.prediction = static_cast<int>(std::max_element(r.readout.begin(), r.readout.end()) - r.readout.begin());
    input_->begin_sample(nullptr);
    if (learn) {
        learning_->end_sample();
        idle_for_learning();
    }
    return r;
}

void Chip::record_step_times(int n_activations) {
    for (int t = 0; t < n_activations; ++t) {
        StepTime st;
        st.route_s = router_->route_s(t);
        for (const auto& tile : tiles_) {
            const size_t i = static_cast<size_t>(t);
            if (i < tile->step_compute_s().size()) st.compute_s = std::max(st.compute_s, tile->step_compute_s()[i]);
            if (i < tile->step_learn_s().size()) st.learn_s = std::max(st.learn_s, tile->step_learn_s()[i]);
        }
        step_stats_.add(st, samples_run_, t);
    }
    ++samples_run_;
}

void Chip::record_spikes(bool on) {
    for (auto& t : tiles_) t->record_spikes(on);
}

std::vector<SpikeEvent> Chip::take_spikes() {
    std::vector<SpikeEvent> all;
    for (auto& t : tiles_) {
        all.insert(all.end(), t->spikes().begin(), t->spikes().end());
        t->clear_spikes();
    }
    std::sort(all.begin(), all.end());
    return all;
}

ActionCounters Chip::counters() const {
    ActionCounters c = router_->counters();
    for (const auto& t : tiles_) c += t->counters();
    return c;
}

MemoryMap Chip::memory() const {
    MemoryMap one = tile_memory_map(hw_), all;
    for (const auto& [name, b] : one.bits) all.bits[name] = b * hw_.tiles();
    all.cam_total = one.cam_total * hw_.tiles();
    all.sram_total = one.sram_total * hw_.tiles();
    return all;
}

double Chip::sim_time_s() const { return sc_core::sc_time_stamp().to_seconds(); }

}  // namespace qrsim
