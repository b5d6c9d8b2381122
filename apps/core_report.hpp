// What the learning core did during on-chip training: instructions by class, cycles and
// time per sample and per hook, the step-period check, the image's sizes and (with
// learn.profile) the most expensive firmware functions. One definition for the report
// (JSON) and the terminal summary of `qrsim run --learn`.
#pragma once

#include "hw_models/learning_engine.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace qrsim::app {

struct CoreRun {
    const LearningEngine* engine = nullptr;
    uint64_t samples = 0;        // training samples the hooks ran for
    int steps_per_sample = 0;    // T + 1 activations of the tile
    double step_s = 0;           // the step period
    double sim_time_s = 0;       // simulated time of the training
};

nlohmann::json core_report(const CoreRun& run);
void print_core_summary(std::FILE* out, const nlohmann::json& core);

}  // namespace qrsim::app
