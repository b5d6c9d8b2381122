#include "apps/energy_report.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace qrsim::app {

nlohmann::json energy_json(const EnergyModel& costs, const ActionCounters& counts, double sim_seconds,
                           int64_t memory_bits, double scale) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, pj] : costs.energy_pj(counts)) j[name] = pj * scale;
    const EnergySplit s = energy_split(costs, counts, sim_seconds, memory_bits);
    j["static"] = s.static_pj * scale;
    j["total"] = s.total_pj() * scale;
    return j;
}

nlohmann::json static_power_json(const EnergyModel& costs, int64_t memory_bits) {
    return {{"watts", costs.static_w(memory_bits)},
            {"memory_bits", memory_bits},
            {"formula", costs.table().static_power().text()},
            {"basis", costs.table().static_basis()}};
}

nlohmann::json step_timing_json(const StepTimeStats& s) {
    const auto parts = [](const StepTime& t) {
        return nlohmann::json{{"total_s", t.total_s()}, {"compute_s", t.compute_s}, {"route_s", t.route_s}, {"learn_s", t.learn_s}};
    };
    nlohmann::json worst = parts(s.worst());
    worst["sample"] = s.worst_sample();
    worst["step"] = s.worst_step();
    nlohmann::json counts = nlohmann::json::array();
    for (uint64_t c : s.histogram()) counts.push_back(c);
    return {{"period_s", s.period_s()},
            {"steps", s.steps()},
            {"over_period", s.over_period()},
            {"fits", s.steps() > 0 && s.over_period() == 0},
            {"worst", worst},
            {"mean", parts(s.mean())},
            {"histogram",
             {{"min_s", StepTimeStats::kMinS}, {"bins_per_decade", StepTimeStats::kBinsPerDecade}, {"counts", counts}}}};
}

namespace {

std::string duration(double s) {
    char buf[32];
    if (s == 0) return "0";
    if (s < 1e-6) std::snprintf(buf, sizeof buf, "%.1f ns", s * 1e9);
    else if (s < 1e-3) std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
    else if (s < 1) std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
    else std::snprintf(buf, sizeof buf, "%.2f s", s);
    return buf;
}

}  // namespace

void print_energy_split(std::FILE* out, const char* what, const nlohmann::json& e) {
    const double total = e["total"].get<double>(), stat = e["static"].get<double>(), dyn = e["dynamic"].get<double>();
    const double pct = total > 0 ? 100.0 / total : 0.0;
    std::vector<std::pair<double, std::string>> actions;
    for (const auto& [k, v] : e.items())
        if (k != "total" && k != "static" && k != "dynamic" && v.get<double>() > 0) actions.emplace_back(v.get<double>(), k);
    std::sort(actions.rbegin(), actions.rend());
    std::string top;
    for (size_t i = 0; i < actions.size() && i < 3; ++i) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s%s %.1f %%", i ? ", " : "", actions[i].second.c_str(), actions[i].first * pct);
        top += buf;
    }
    std::fprintf(out, "%s: %.3f uJ = static %.3f uJ (%.1f %%) + dynamic %.3f uJ (%.1f %%; %s)\n", what, total * 1e-6,
                 stat * 1e-6, stat * pct, dyn * 1e-6, dyn * pct, top.empty() ? "none" : top.c_str());
}

void print_step_timing(std::FILE* out, const char* what, const nlohmann::json& t) {
    const auto& w = t["worst"];
    const auto& m = t["mean"];
    std::fprintf(out, "%s: worst %s (sample %llu, step %d: tile %s + mesh %s + learning %s) of the %s step, %s; "
                      "%llu of %llu steps over; mean %s\n",
                 what, duration(w["total_s"].get<double>()).c_str(), static_cast<unsigned long long>(w["sample"].get<uint64_t>()),
                 w["step"].get<int>(), duration(w["compute_s"].get<double>()).c_str(), duration(w["route_s"].get<double>()).c_str(),
                 duration(w["learn_s"].get<double>()).c_str(), duration(t["period_s"].get<double>()).c_str(),
                 t["fits"].get<bool>() ? "every step fits" : "does not fit",
                 static_cast<unsigned long long>(t["over_period"].get<uint64_t>()),
                 static_cast<unsigned long long>(t["steps"].get<uint64_t>()), duration(m["total_s"].get<double>()).c_str());
}

}  // namespace qrsim::app
