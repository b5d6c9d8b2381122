// Child processes for sweeps: point runs with their output in a log file, and short
// commands (sbatch, squeue, scancel) whose output we read. POSIX / Linux only.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace qrsim::app {

// The running qrsim binary (/proc/self/exe), so every point runs the same build.
std::string self_exe();

// Full path of `name` on $PATH, or "" if it is not there.
std::string find_on_path(const std::string& name);

// Starts argv with stdin from /dev/null and stdout + stderr appended to `log`. The child
// gets its own process group (a terminal's Ctrl-C reaches only the sweep, which then
// stops the children itself) and is killed by the kernel if the sweep dies (SIGKILL
// included), so no orphan finishes a point behind a resumed sweep's back.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log);

// How a reaped child ended, as shown to users: "exit code 1", "killed by signal 9".
std::string describe_status(int wait_status);

struct Captured {
    int wait_status = 0;
    std::string out;  // stdout; stderr passes through to ours
    bool ok() const;  // exited with code 0
};

// Runs argv to completion (argv[0] is looked up on $PATH); `quiet` drops its stderr.
Captured run_captured(const std::vector<std::string>& argv, bool quiet = false);

// Single-quoted for a POSIX shell script.
std::string shell_quote(const std::string& word);

}  // namespace qrsim::app
