// How long a step takes on the chip, from the energy table's per-action latencies and what
// each core did in it. A core works through its step serially: one CAM search per event it
// receives (lookup = "cam"), one synaptic operation per matched entry, one update per
// neuron, one AER encoding per spike it emits; the cores of a tile and the tiles run in
// parallel. The events a step integrates first cross the mesh (XY routing, hop latencies),
// and after the step's activation the learning core runs the step's hooks. docs/energy.md.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace qrsim {

class EnergyModel;
struct HwConfig;

struct StepLatencies {
    double cam_search_s = 0, sop_s = 0, neuron_update_s = 0, spike_out_s = 0, hop_ew_s = 0, hop_ns_s = 0;
    bool cam = true;  // lookup = "cam": every event costs a search in each core it reaches
};

// The table's latencies; mesh.hop_latency_ns, when set, replaces both hop latencies.
StepLatencies step_latencies(const EnergyModel& costs, const HwConfig& hw);

// What one core did in one step.
struct CoreWork {
    uint32_t events = 0, sops = 0, updates = 0, spikes = 0;
};

double core_busy_s(const CoreWork& w, const StepLatencies& l);
// An event's way through dx east-west and dy north-south links.
double route_s(int dx, int dy, const StepLatencies& l);

struct StepTime {
    double compute_s = 0;  // the slowest core of the slowest tile
    double route_s = 0;    // the latest of the step's incoming AER packets
    double learn_s = 0;    // the learning core's hooks at the step's boundary
    double total_s() const { return compute_s + route_s + learn_s; }
};

// Every step of a run against the step period: count, overruns, the worst step, means and
// a histogram of step times in log bins (kBinsPerDecade per decade from kMinS; a step
// shorter than kMinS counts in bin 0, one longer than the last bin in the last).
class StepTimeStats {
public:
    static constexpr double kMinS = 1e-9;
    static constexpr int kBinsPerDecade = 10, kDecades = 10, kBins = kBinsPerDecade * kDecades;

    explicit StepTimeStats(double period_s = 1e-3) : period_s_(period_s) {}
    void add(const StepTime& t, uint64_t sample, int step);
    // Another stretch of the same run (same period): counts add up, the worst is the worse.
    void merge(const StepTimeStats& other);

    double period_s() const { return period_s_; }
    uint64_t steps() const { return steps_; }
    uint64_t over_period() const { return over_; }
    const StepTime& worst() const { return worst_; }
    uint64_t worst_sample() const { return worst_sample_; }
    int worst_step() const { return worst_step_; }
    StepTime mean() const;
    const std::array<uint64_t, kBins>& histogram() const { return bins_; }
    static double bin_lower_s(int bin);

private:
    double period_s_;
    uint64_t steps_ = 0, over_ = 0, worst_sample_ = 0;
    int worst_step_ = -1;
    StepTime worst_, sum_;
    std::array<uint64_t, kBins> bins_{};
};

}  // namespace qrsim
