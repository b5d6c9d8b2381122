// Running sweep points: the sweep directory's layout, one point as a subprocess of the
// same qrsim binary, and the local worker pool with its progress display.
//
//   DIR/spec.toml                  copy of the spec (what Slurm array tasks read)
//   DIR/points/<name>/config.toml  the config keys the spec sets for the point (--config)
//   DIR/points/<name>/point.json   its command line and swept values (qrsim report reads it)
//   DIR/points/<name>/report.json  written atomically by qrsim itself: its presence (a
//                                  complete JSON object) is what "the point is done" means
//   DIR/points/<name>/log.txt      stdout + stderr of every attempt, each after a header line
//   DIR/slurm/                     job script, job id and task outputs of --slurm
#pragma once

#include "apps/sweep_spec.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace qrsim::app {

class SweepDir {
public:
    explicit SweepDir(std::filesystem::path root) : root_(std::move(root)) {}
    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path spec_copy() const { return root_ / "spec.toml"; }
    std::filesystem::path point_dir(const SweepPoint& p) const { return root_ / "points" / p.name; }
    std::filesystem::path report(const SweepPoint& p) const { return point_dir(p) / "report.json"; }
    std::filesystem::path log(const SweepPoint& p) const { return point_dir(p) / "log.txt"; }
    std::filesystem::path config(const SweepPoint& p) const { return point_dir(p) / "config.toml"; }
    std::filesystem::path info(const SweepPoint& p) const { return point_dir(p) / "point.json"; }
    std::filesystem::path slurm_dir() const { return root_ / "slurm"; }

private:
    std::filesystem::path root_;
};

// Holds an exclusive lock on DIR/.lock, so two sweeps never run the same directory at once;
// the kernel drops it when the process dies. Throws if another process holds it.
class SweepLock {
public:
    explicit SweepLock(const SweepDir& dir);
    ~SweepLock();
    SweepLock(const SweepLock&) = delete;
    SweepLock& operator=(const SweepLock&) = delete;

private:
    int fd_ = -1;
};

// SIGINT and SIGTERM set a flag instead of killing the sweep, so it can stop its children
// first; the previous handlers come back on destruction.
class StopSignals {
public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    bool requested() const;
};

// "constraint.fanin=8 constraint.method=qr"
std::string describe(const SweepPoint& p);

// The point's report exists and holds a complete JSON object.
bool point_done(const SweepDir& dir, const SweepPoint& p);

// Writes config.toml and point.json (atomically); reports and logs are left alone.
void write_point_files(const SweepDir& dir, const SweepPoint& p);

// Status line and event lines on stderr: redrawn in place on a terminal, plain lines in
// logs. ETA = elapsed x remaining / points finished in this session.
class SweepProgress {
public:
    SweepProgress(const SweepDir& dir, int total, int done_before);
    ~SweepProgress() { close(); }
    void started() { ++running_; }
    void finished(const SweepPoint& p, bool ok, double seconds, const std::string& why);  // seconds < 0: unknown
    void interrupted() { --running_; }
    void set_running(int running) { running_ = running; }  // Slurm: from squeue
    void tick();   // redraws the status line on a terminal (at most every second)
    void close();  // ends the status line
    int done() const { return done_; }
    int failed() const { return failed_; }

private:
    std::string status() const;
    void print_event(const std::string& line);

    const SweepDir& dir_;
    int total_, done_, done_before_, running_ = 0, failed_ = 0;
    bool tty_;
    bool line_open_ = false;
    std::chrono::steady_clock::time_point start_, last_draw_{};
};

// Default pool size: usable cores / the most threads any point uses.
int default_jobs(const std::vector<SweepPoint>& points);

// Runs the points not yet done, at most `jobs` at a time. Returns the exit code: 0 all
// done, 1 a point failed, 130 interrupted (children stopped, nothing partial kept).
int run_local(const SweepDir& dir, const std::vector<SweepPoint>& points, int jobs);

// Runs one point (a Slurm array task); 0 if its report is there afterwards.
int run_one(const SweepDir& dir, const SweepPoint& p);

}  // namespace qrsim::app
