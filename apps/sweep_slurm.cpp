#include "apps/sweep_slurm.hpp"

#include "apps/sweep_process.hpp"
#include "common/atomic_file.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

namespace qrsim::app {

namespace fs = std::filesystem;

namespace {

constexpr int kPollMs = 2000;
constexpr int kSqueueRetries = 3;  // consecutive failures before the job counts as gone

std::string tool(const std::string& name) {
    const std::string path = find_on_path(name);
    if (path.empty())
        throw std::runtime_error("--slurm needs Slurm's " + name + " on PATH (Debian: apt-get install slurm-client)");
    return path;
}

std::string write_job_script(const SweepDir& dir) {
    const fs::path root = fs::absolute(dir.root());
    const fs::path script = root / "slurm" / "job.sh";
    const std::string text =
        "#!/bin/sh\n"
        "# Written by qrsim sweep --slurm: array task i runs point i of the spec copy in the sweep directory.\n"
        "exec " + shell_quote(self_exe()) + " sweep " + shell_quote((root / "spec.toml").string()) + " --out " +
        shell_quote(root.string()) + " --point \"$SLURM_ARRAY_TASK_ID\"\n";
    write_file_atomically(script.string(), text);
    ::chmod(script.c_str(), 0755);
    return script.string();
}

std::string submit(const SweepDir& dir, const std::vector<int>& pending, int threads, const SlurmOptions& o) {
    std::string array = "--array=" + array_ranges(pending);
    if (o.max_running > 0) array += "%" + std::to_string(o.max_running);
    std::vector<std::string> argv = {tool("sbatch"),
                                     "--parsable",
                                     array,
                                     "--job-name=" + o.job_name,
                                     "--output=" + (fs::absolute(dir.slurm_dir()) / "task_%a.out").string(),
                                     "--chdir=" + fs::current_path().string(),  // relative paths in the spec
                                     "--cpus-per-task=" + std::to_string(threads)};
    argv.insert(argv.end(), o.sbatch_options.begin(), o.sbatch_options.end());
    argv.push_back(write_job_script(dir));
    const Captured r = run_captured(argv);
    std::string id = r.out.substr(0, r.out.find_first_of(";\n"));  // "ID" or "ID;cluster"
    if (!r.ok() || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error("sbatch failed (" + describe_status(r.wait_status) + "), it printed: " + r.out);
    write_file_atomically((dir.slurm_dir() / "job_id").string(), id + "\n");
    return id;
}

struct QueueState {
    bool gone = false;
    int running = 0;
};

QueueState poll(const std::string& squeue, const std::string& id, int& failures) {
    // -r: one line per array task; a finished job has no lines (or is unknown: exit 1).
    const Captured r = run_captured({squeue, "-h", "-r", "-j", id, "-o", "%T"}, /*quiet=*/true);
    QueueState s;
    if (!r.ok()) {
        s.gone = ++failures >= kSqueueRetries;
        return s;
    }
    failures = 0;
    std::istringstream lines(r.out);
    int active = 0;
    for (std::string state; lines >> state;) {
        ++active;
        s.running += state == "RUNNING" || state == "COMPLETING";
    }
    s.gone = active == 0;
    return s;
}

}  // namespace

std::string array_ranges(const std::vector<int>& indices) {
    std::string out;
    for (size_t i = 0; i < indices.size();) {
        size_t j = i;
        while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
        out += (out.empty() ? "" : ",") + std::to_string(indices[i]);
        if (j > i) out += "-" + std::to_string(indices[j]);
        i = j + 1;
    }
    return out;
}

int run_slurm(const SweepDir& dir, const std::vector<SweepPoint>& points, const SlurmOptions& options) {
    std::vector<const SweepPoint*> pending;
    std::vector<int> indices;
    int threads = 1;
    for (const SweepPoint& p : points)
        if (!point_done(dir, p)) {
            pending.push_back(&p);
            indices.push_back(p.index);
            threads = std::max(threads, p.threads);
        }
    const int done_before = static_cast<int>(points.size() - pending.size());
    if (pending.empty()) {
        std::fprintf(stderr, "sweep: all %zu points in %s are already done\n", points.size(), dir.root().c_str());
        return 0;
    }
    const std::string squeue = tool("squeue");
    fs::create_directories(dir.slurm_dir());
    const std::string id = submit(dir, indices, threads, options);
    std::fprintf(stderr, "sweep: submitted Slurm job %s: %zu of %zu points (%d already done), task outputs in %s\n",
                 id.c_str(), pending.size(), points.size(), done_before, dir.slurm_dir().c_str());
    if (!options.wait) {
        std::printf("%s\n", id.c_str());
        std::fprintf(stderr, "sweep: not waiting; when job %s is finished, run `qrsim report %s`\n", id.c_str(),
                     dir.root().c_str());
        return 0;
    }

    StopSignals stop;
    SweepProgress progress(dir, static_cast<int>(points.size()), done_before);
    std::vector<bool> seen(points.size(), false);
    int failures = 0;
    for (bool gone = false; !gone;) {
        for (int waited = 0; waited < kPollMs && !stop.requested(); waited += 100) ::usleep(100 * 1000);
        if (stop.requested()) {
            progress.close();
            run_captured({tool("scancel"), id});
            std::fprintf(stderr, "sweep: interrupted: cancelled Slurm job %s; %d of %zu points done\n", id.c_str(),
                         progress.done(), points.size());
            return 130;
        }
        const QueueState q = poll(squeue, id, failures);
        gone = q.gone;  // reports written before the job left the queue are all on disk now
        for (const SweepPoint* p : pending)
            if (!seen[p->index] && point_done(dir, *p)) {
                seen[p->index] = true;
                progress.started();
                progress.finished(*p, true, -1, "");
            }
        progress.set_running(q.running);
        progress.tick();
    }
    progress.set_running(0);
    std::vector<const SweepPoint*> missing;
    for (const SweepPoint* p : pending)
        if (!seen[p->index]) missing.push_back(p);
    progress.close();
    if (!missing.empty()) {
        std::fprintf(stderr, "sweep: Slurm job %s ended with %zu of %zu points not done (point log, task output):\n",
                     id.c_str(), missing.size(), points.size());
        for (const SweepPoint* p : missing)
            std::fprintf(stderr, "  %s  %s\n", dir.log(*p).c_str(),
                         (dir.slurm_dir() / ("task_" + std::to_string(p->index) + ".out")).c_str());
        return 1;
    }
    std::fprintf(stderr, "sweep: all %zu points done in %s (Slurm job %s)\n", points.size(), dir.root().c_str(), id.c_str());
    return 0;
}

}  // namespace qrsim::app
