// `qrsim run --learn`: on-chip training (apps/cmd_learn.cpp), started from cmd_run.cpp's
// sc_main so the SystemC kernel elaborates once.
#pragma once

#include "apps/config.hpp"
#include "apps/path_guard.hpp"

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
    PathGuard paths;                // the command's config and dataset files (inputs)
};

void run_learning(const LearnRunOptions& options);

// Traced neurons (VCD) must exist: recurrent 0..n_rec-1, then readout units; `source`
// names where the list came from. Throws UsageError.
void check_traced_neurons(const std::vector<int>& neurons, int n_neurons, const std::string& source);

}  // namespace qrsim::app
