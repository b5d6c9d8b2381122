// Energy split into static and dynamic, and the step-time check, as `qrsim run` and
// `qrsim run --learn` print them and write them to their reports. One definition for both
// commands (docs/energy.md has what each figure means).
#pragma once

#include "hw_models/energy.hpp"
#include "hw_models/step_timing.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

namespace qrsim::app {

// The energy of a stretch of the run, per sample (scale = 1 / samples): pJ by action, then
// "dynamic" (their sum), "static" (static power x simulated time) and "total".
nlohmann::json energy_json(const EnergyModel& costs, const ActionCounters& counts, double sim_seconds,
                           int64_t memory_bits, double scale);
// The static power behind it: watts, the memory that leaks, the table's basis.
nlohmann::json static_power_json(const EnergyModel& costs, int64_t memory_bits);
// Step times against the period: steps, overruns, fits, worst (its sample, step and parts),
// mean (by part) and the log-binned histogram.
nlohmann::json step_timing_json(const StepTimeStats& stats);

// "  static  ...  dynamic  ...  total" and the three largest dynamic actions.
void print_energy_split(std::FILE* out, const char* what, const nlohmann::json& energy);
// "step time (...): worst 14.6 ms (sample 3, step 12: tile 2.1 us + mesh 0 + learning 14.6 ms)
//  of the 1 ms step, 40 of 61 steps over; mean 0.3 ms"
void print_step_timing(std::FILE* out, const char* what, const nlohmann::json& timing);

}  // namespace qrsim::app
