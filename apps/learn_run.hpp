// `qrsim run --learn`: on-chip training (apps/cmd_learn.cpp), started from cmd_run.cpp's
// sc_main so the SystemC kernel elaborates once.
#pragma once

#include "apps/config.hpp"
#include "apps/path_guard.hpp"
#include "hw_models/hw_config.hpp"

#include <string>
#include <vector>

namespace qrsim::app {

// --vcd FILE and --vcd-neurons LIST over the hw config's vcd table, for inference and for
// on-chip training alike.
struct VcdFlags {
    std::string file;     // --vcd
    std::string neurons;  // --vcd-neurons, as typed
    // Parses the flags into hw (UsageError on a bad list) and returns where hw's traced
    // list came from, for check_traced_neurons.
    std::string apply(HwConfig& hw) const;
    // The name the output path is checked under.
    std::string output_name() const { return file.empty() ? "hw config vcd.file" : "--vcd"; }
};

struct LearnRunOptions {
    Config config;                  // task, network, seed
    std::string hw;                 // preset or file
    std::vector<std::string> hw_set;  // TABLE.KEY=VALUE overrides of the hw config ([learn], [traces])
    std::string net;                // optional checkpoint to start from ("" : from scratch)
    std::string report;
    int epochs = 1;
    bool eval_every_epoch = false;  // test after every epoch, not only after the last
    VcdFlags vcd;
    PathGuard paths;                // the command's config and dataset files (inputs)
};

void run_learning(const LearnRunOptions& options);

// Traced neurons (VCD) must exist: recurrent 0..n_rec-1, then readout units; `source`
// names where the list came from. Throws UsageError.
void check_traced_neurons(const std::vector<int>& neurons, int n_neurons, const std::string& source);

}  // namespace qrsim::app
