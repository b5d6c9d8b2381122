// `qrsim run --learn`: on-chip training (apps/cmd_learn.cpp), started from cmd_run.cpp's
// sc_main so the SystemC kernel elaborates once.
#pragma once

#include "apps/config.hpp"

#include <string>
#include <vector>

namespace qrsim::app {

struct LearnRunOptions {
    Config config;                  // task, network, seed
    std::string hw;                 // preset or file
    std::vector<std::string> hw_set;  // TABLE.KEY=VALUE overrides of the hw config ([learn], [traces])
    std::string net;                // optional checkpoint to start from ("" : from scratch)
    std::string report;
    int epochs = 1;
};

void run_learning(const LearnRunOptions& options);

}  // namespace qrsim::app
