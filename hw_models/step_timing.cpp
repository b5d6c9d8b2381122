#include "hw_models/step_timing.hpp"

#include "hw_models/energy.hpp"
#include "hw_models/hw_config.hpp"

#include <algorithm>
#include <cmath>

namespace qrsim {

StepLatencies step_latencies(const EnergyModel& costs, const HwConfig& hw) {
    StepLatencies l;
    l.cam_search_s = costs.latency_s(Action::cam_search);
    l.sop_s = costs.latency_s(Action::sop);
    l.neuron_update_s = costs.latency_s(Action::neuron_update);
    l.spike_out_s = costs.latency_s(Action::spike_out);
    l.hop_ew_s = costs.latency_s(Action::hop_ew);
    l.hop_ns_s = costs.latency_s(Action::hop_ns);
    if (hw.hop_latency_ns >= 0) l.hop_ew_s = l.hop_ns_s = static_cast<double>(hw.hop_latency_ns) * 1e-9;
    l.cam = hw.lookup == SynapseLookup::cam;
    return l;
}

double core_busy_s(const CoreWork& w, const StepLatencies& l) {
    return (l.cam ? w.events * l.cam_search_s : 0.0) + w.sops * l.sop_s + w.updates * l.neuron_update_s +
           w.spikes * l.spike_out_s;
}

double route_s(int dx, int dy, const StepLatencies& l) { return dx * l.hop_ew_s + dy * l.hop_ns_s; }

void StepTimeStats::add(const StepTime& t, uint64_t sample, int step) {
    const double total = t.total_s();
    ++steps_;
    if (total > period_s_) ++over_;
    if (worst_step_ < 0 || total > worst_.total_s()) {
        worst_ = t;
        worst_sample_ = sample;
        worst_step_ = step;
    }
    sum_.compute_s += t.compute_s;
    sum_.route_s += t.route_s;
    sum_.learn_s += t.learn_s;
    const int bin = total < kMinS ? 0 : static_cast<int>(std::floor(std::log10(total / kMinS) * kBinsPerDecade));
    ++bins_[std::clamp(bin, 0, kBins - 1)];
}

void StepTimeStats::merge(const StepTimeStats& o) {
    if (o.steps_ == 0) return;
    if (worst_step_ < 0 || o.worst_.total_s() > worst_.total_s()) {
        worst_ = o.worst_;
        worst_sample_ = o.worst_sample_;
        worst_step_ = o.worst_step_;
    }
    steps_ += o.steps_;
    over_ += o.over_;
    sum_.compute_s += o.sum_.compute_s;
    sum_.route_s += o.sum_.route_s;
    sum_.learn_s += o.sum_.learn_s;
    for (int i = 0; i < kBins; ++i) bins_[i] += o.bins_[i];
}

StepTime StepTimeStats::mean() const {
    if (steps_ == 0) return {};
    const double n = static_cast<double>(steps_);
    return {sum_.compute_s / n, sum_.route_s / n, sum_.learn_s / n};
}

double StepTimeStats::bin_lower_s(int bin) { return kMinS * std::pow(10.0, static_cast<double>(bin) / kBinsPerDecade); }

}  // namespace qrsim
