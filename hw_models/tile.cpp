#include "hw_models/tile.hpp"

#include "hw_models/memory_report.hpp"

#include <algorithm>
#include <stdexcept>

namespace qrsim {

using sc_core::sc_time;
using sc_core::SC_NS;

Tile::Tile(const sc_core::sc_module_name& name, const HwConfig& hw, int index)
    : sc_module(name),
      aer_in("aer_in"),
      aer_out("aer_out"),
      hw_(hw),
      index_(index),
      slots_(hw.neurons_per_tile()),
      dt_(static_cast<double>(hw.step_ns), SC_NS),
      fanin_(hw.entry_layout(), hw.neurons_per_tile(), hw.fanin, hw.neurons_per_core, index * hw.neurons_per_tile()),
      global_(slots_, -1),
      neurons_(slots_, hw.neurons_per_core, hw.seed, index * hw.cores),
      hidden_per_core_(hw.cores, 0),
      readout_per_core_(hw.cores, 0),
      work_(hw.cores) {
    aer_in.register_b_transport(this, &Tile::b_transport);
    payload_.set_command(tlm::TLM_WRITE_COMMAND);
    payload_.set_data_ptr(reinterpret_cast<unsigned char*>(&out_));
    payload_.set_data_length(sizeof(AerPacket));
    SC_THREAD(run);
}

void Tile::place(int slot, int global_neuron, NeuronRole role, const fw::NeuronConfig& config, int32_t bias,
                 int lut_group) {
    if (slot < 0 || slot >= slots_)
        throw std::runtime_error("tile " + std::to_string(index_) + ": slot " + std::to_string(slot) + " outside [0, " +
                                 std::to_string(slots_ - 1) + "]");
    if (config.v_bits != hw_.membrane_bits || (config.adaptive && config.a_bits != hw_.adaptation_bits))
        throw std::runtime_error("tile " + std::to_string(index_) + ": neuron " + std::to_string(global_neuron) +
                                 " config widths differ from the tile's neuron.membrane_bits / adaptation_bits");
    if (!fw::fits_signed(bias, hw_.membrane_bits))
        throw std::runtime_error("tile " + std::to_string(index_) + ": neuron " + std::to_string(global_neuron) +
                                 " bias " + std::to_string(bias) + " does not fit neuron.membrane_bits = " +
                                 std::to_string(hw_.membrane_bits));
    if (lut_group < 0) lut_group = role == NeuronRole::readout ? 1 : 0;
    if (lut_group >= hw_.lut_groups)
        throw std::runtime_error("tile " + std::to_string(index_) + ": neuron " + std::to_string(global_neuron) +
                                 " reads weight LUT " + std::to_string(lut_group) + ", synapse.lut_groups = " +
                                 std::to_string(hw_.lut_groups));
    global_[slot] = global_neuron;
    neurons_.place(slot, role, config, bias);
    fanin_.set_group(slot, lut_group);
    rebuild_counts();
}

void Tile::set_lut(int group, const GroupLut& lut) {
    if (group < 0 || group >= hw_.lut_groups)
        throw std::runtime_error("tile: LUT group " + std::to_string(group) + " outside [0, synapse.lut_groups = " +
                                 std::to_string(hw_.lut_groups) + ")");
    if (lut.kind != static_cast<fw::CodeKind>(hw_.kind))
        throw std::runtime_error("tile: LUT kind differs from synapse.kind");
    for (int32_t v : lut.stored)
        if (!fw::fits_signed(v, hw_.lut_bits))
            throw std::runtime_error("tile: weight LUT value " + std::to_string(v) + " does not fit synapse.lut_bits = " +
                                     std::to_string(hw_.lut_bits));
    // The expanded table holds the groups back to back; the index stores absolute offsets.
    const int size = fw::lut_size(lut.kind, lut.weight_bits);
    if (lut_.empty()) lut_.assign(static_cast<size_t>(hw_.lut_groups) * size, 0);
    std::copy(lut.table.begin(), lut.table.end(), lut_.begin() + static_cast<size_t>(group) * size);
    fanin_.set_lut_stride(size);
}

void Tile::set_neuron_lut(int slot, const GroupLut& lut) {
    const int size = fw::lut_size(lut.kind, lut.weight_bits);
    if (lut_.empty() || static_cast<int>(lut.table.size()) != size)
        throw std::runtime_error("tile: a neuron's own LUT needs the groups' LUTs set first, of the same size");
    const size_t group = static_cast<size_t>(hw_.lut_groups) + slot;
    if ((group + 1) * size > 65536)
        throw std::runtime_error("tile " + std::to_string(index_) + ": mismatch needs a LUT per neuron, " +
                                 std::to_string(hw_.lut_groups + slots_) + " x " + std::to_string(size) +
                                 " values, more than the model's 65,536 (fewer tile.neurons_per_core or synapse.weight_bits)");
    if (lut_.size() < (group + 1) * size) lut_.resize((static_cast<size_t>(hw_.lut_groups) + slots_) * size, 0);
    std::copy(lut.table.begin(), lut.table.end(), lut_.begin() + group * size);
    fanin_.set_group(slot, static_cast<int>(group));
}

void Tile::write_bias(int slot, int32_t value) {
    if (slot < 0 || slot >= slots_ || neurons_.role(slot) != NeuronRole::readout)
        throw std::runtime_error("tile " + std::to_string(index_) + ": bias write to slot " + std::to_string(slot) +
                                 ", which is not a readout unit");
    if (!fw::fits_signed(value, hw_.membrane_bits))
        throw std::runtime_error("tile " + std::to_string(index_) + ": bias " + std::to_string(value) +
                                 " does not fit neuron.membrane_bits = " + std::to_string(hw_.membrane_bits));
    neurons_.set_bias(slot, value);
}

void Tile::set_address_space(int n_in, int n_addresses) {
    n_in_ = n_in;
    n_addresses_ = n_addresses;
}

void Tile::rebuild_counts() {
    hidden_per_core_.assign(hw_.cores, 0);
    readout_per_core_.assign(hw_.cores, 0);
    hidden_draws_ = readout_draws_ = 0;
    hidden_state_bits_ = readout_state_bits_ = readout_read_extra_ = hidden_read_extra_ = 0;
    for (int s : neurons_.hidden_slots()) {
        const fw::NeuronConfig& c = neurons_.config(s);
        ++hidden_per_core_[s / hw_.neurons_per_core];
        hidden_draws_ += fw::draws_per_step(c);
        // v, (a), refractory counter and the spike bit are read and written each step.
        hidden_state_bits_ += c.v_bits + (c.adaptive ? c.a_bits : 0) + refractory_bits(c.refractory) + 1;
        if (neurons_.bias(s) != 0) hidden_read_extra_ += c.v_bits;  // a used bias register
    }
    for (int s : neurons_.readout_slots()) {
        const fw::NeuronConfig& c = neurons_.config(s);
        ++readout_per_core_[s / hw_.neurons_per_core];
        readout_draws_ += fw::readout_draws_per_step(c);
        readout_state_bits_ += c.v_bits;
        readout_read_extra_ += c.v_bits;  // the bias register
    }
}

void Tile::begin_sample(int n_steps, int readout_begin) {
    neurons_.begin_sample(n_steps, readout_begin);
    inbox_[0].clear();
    inbox_[1].clear();
    outside_.clear();
    step_ = 0;
    n_steps_ = n_steps;
    sample_start_ = sc_core::sc_time_stamp();
    step_compute_s_.clear();
    step_learn_s_.clear();
    if (fanin_.dirty()) fanin_.build_index(n_addresses_);
}

std::vector<std::pair<int, int64_t>> Tile::readout_sums() const {
    std::vector<std::pair<int, int64_t>> out;
    for (int s : neurons_.readout_slots()) out.emplace_back(global_[s], neurons_.readout_sum(s));
    return out;
}

std::vector<std::pair<int, std::vector<int32_t>>> Tile::readout_window() const {
    std::vector<std::pair<int, std::vector<int32_t>>> out;
    for (int s : neurons_.readout_slots()) out.emplace_back(global_[s], neurons_.readout_window(s));
    return out;
}

void Tile::trace(sc_core::sc_trace_file* tf, const std::vector<int>& global_neurons) {
    for (int g : global_neurons)
        for (int s = 0; s < slots_; ++s)
            if (global_[s] == g) traced_slots_.push_back(s);
    trace_v_.reset(new int[traced_slots_.size()]());
    trace_z_.reset(new bool[traced_slots_.size()]());
    for (size_t i = 0; i < traced_slots_.size(); ++i) {
        const std::string n = "neuron" + std::to_string(global_[traced_slots_[i]]);
        sc_core::sc_trace(tf, trace_v_[i], n + "_v");
        if (neurons_.role(traced_slots_[i]) == NeuronRole::hidden) sc_core::sc_trace(tf, trace_z_[i], n + "_z");
    }
}

std::string Tile::error() const {
    if (!error_.empty()) return error_;
    return outside_.message("tile " + std::to_string(index_) + " fan-in index", fanin_.n_addresses());
}

void Tile::b_transport(tlm::tlm_generic_payload& payload, sc_time& delay) {
    const AerPacket& p = *reinterpret_cast<const AerPacket*>(payload.get_data_ptr());
    // Loosely timed: the packet is taken now; the annotated delay says when it would land,
    // and it must land before the activation that integrates it.
    const sc_time due = sample_start_ + dt_ * static_cast<double>(p.step) + dt_ / 2;
    if (sc_core::sc_time_stamp() + delay > due && error_.empty())
        error_ = "tile " + std::to_string(index_) + ": AER packet for step " + std::to_string(p.step) + " arrives at " +
                 (sc_core::sc_time_stamp() + delay).to_string() + ", after its step starts at " + due.to_string() +
                 " (the hop latencies, mesh.hop_latency_ns or the energy table's, too long for mesh.step_ns)";
    std::vector<uint32_t>& box = inbox_[p.step & 1];
    box.insert(box.end(), p.addresses.begin(), p.addresses.end());
    payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Tile::run() {
    wait(dt_ / 2);
    for (;;) {
        learn_busy_ = sc_core::SC_ZERO_TIME;
        if (step_ <= n_steps_) step();
        // The learning core works through the start of the step period; an overrun is
        // counted by the engine, and the step grid does not move (the AER schedule holds).
        const sc_time busy = learn_busy_ < dt_ ? learn_busy_ : dt_;
        if (busy > sc_core::SC_ZERO_TIME) wait(busy);
        wait(dt_ - busy);
    }
}

void Tile::step() {
    const int t = step_++;
    std::vector<uint32_t>& in = inbox_[t & 1];
    if (fanin_.dirty()) fanin_.build_index(n_addresses_);

    // Synaptic input: every event is matched against the CAMs (inverted index), the
    // matched entries' weights come from the LUT and add into 32-bit accumulators.
    int32_t* acc = neurons_.clear_input();
    std::fill(work_.begin(), work_.end(), CoreWork{});
    const uint32_t* off = fanin_.offsets();
    const IndexTarget* tg = fanin_.targets();
    const uint32_t* cam = fanin_.cam_cost();
    const uint32_t* core_sops = fanin_.core_sops();
    const int cores = hw_.cores;
    const int32_t* lut = lut_.data();
    const uint32_t n_addr = static_cast<uint32_t>(fanin_.n_addresses());
    uint64_t sops = 0, cams = 0;
    for (uint32_t a : in) {
        if (a >= n_addr) {
            outside_.add(a, t);
            continue;
        }
        const uint32_t b = off[a], e = off[a + 1];
        sops += e - b;
        cams += cam[a];
        for (uint32_t i = b; i < e; ++i) acc[tg[i].slot] += lut[tg[i].lut];
        const uint32_t* per_core = core_sops + static_cast<size_t>(a) * cores;
        for (int c = 0; c < cores; ++c)
            if (per_core[c]) {
                ++work_[c].events;
                work_[c].sops += per_core[c];
            }
    }
    events_.swap(in);  // kept for the learning engine's presynaptic traces
    in.clear();
    if (hw_.lookup == SynapseLookup::cam) counters_[Action::cam_search] += cams;
    counters_[Action::sop] += sops;

    out_.addresses.clear();
    out_.step = t + 1;
    const StepSchedule::Phases ran = neurons_.step(
        t,
        [&](int s) {
            out_.addresses.push_back(static_cast<uint32_t>(n_in_ + global_[s]));
            ++work_[s / hw_.neurons_per_core].spikes;
            if (record_) spikes_.push_back(SpikeEvent{t, global_[s]});
        },
        learning_);
    if (ran.hidden) {
        for (int c = 0; c < cores; ++c) work_[c].updates += hidden_per_core_[c];
        counters_[Action::neuron_update] += neurons_.hidden_slots().size();
        counters_[Action::lfsr_draw] += hidden_draws_;
        counters_[Action::state_read_bits] += hidden_state_bits_ + hidden_read_extra_;
        counters_[Action::state_write_bits] += hidden_state_bits_;
        counters_[Action::spike_out] += out_.addresses.size();
    }
    if (ran.readout) {
        for (int c = 0; c < cores; ++c) work_[c].updates += readout_per_core_[c];
        counters_[Action::neuron_update] += neurons_.readout_slots().size();
        counters_[Action::lfsr_draw] += readout_draws_;
        counters_[Action::state_read_bits] += readout_state_bits_ + readout_read_extra_;
        counters_[Action::state_write_bits] += readout_state_bits_;
    }
    double busy = 0;
    for (const CoreWork& w : work_) busy = std::max(busy, core_busy_s(w, latencies_));
    step_compute_s_.push_back(busy);
    if (learning_) learn_busy_ = sc_time(static_cast<double>(learning_->end_step()), sc_core::SC_PS);
    step_learn_s_.push_back(learn_busy_.to_seconds());
    for (size_t i = 0; i < traced_slots_.size(); ++i) {
        trace_v_[i] = neurons_.state(traced_slots_[i]).v;
        trace_z_[i] = neurons_.state(traced_slots_[i]).z != 0;
    }
    if (!out_.addresses.empty()) {
        sc_time delay = sc_core::SC_ZERO_TIME;
        aer_out->b_transport(payload_, delay);
    }
}

}  // namespace qrsim
