// Sweeps on a Slurm cluster: one `sbatch --array` job whose task i runs point i
// (`qrsim sweep DIR/spec.toml --out DIR --point i`), so the outputs are those of a local run.
#pragma once

#include "apps/sweep_runner.hpp"

#include <string>
#include <vector>

namespace qrsim::app {

struct SlurmOptions {
    bool wait = true;       // poll squeue until the job has left the queue
    int max_running = 0;    // > 0: array throttle (sbatch --array=...%N), from --jobs
    std::string job_name;   // sbatch --job-name
    std::vector<std::string> sbatch_options;  // from the spec's [slurm] options
};

// Submits the points that are not done (the array lists their indices) and, unless
// !wait, waits for them. Returns 0 when every point is done, 1 if some are not, 130 if
// interrupted (the job is cancelled with scancel).
int run_slurm(const SweepDir& dir, const std::vector<SweepPoint>& points, const SlurmOptions& options);

// "0-3,5,7-9" from sorted indices, as sbatch --array takes them.
std::string array_ranges(const std::vector<int>& indices);

}  // namespace qrsim::app
