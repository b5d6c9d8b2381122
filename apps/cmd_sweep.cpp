// qrsim sweep: many runs of one qrsim command over a grid / list of settings, locally on a
// worker pool or as a Slurm array job (configs/sweeps/README.md documents the spec).
//
//   qrsim sweep SPEC.toml [--out DIR] [--jobs N] [--dry-run]
//   qrsim sweep SPEC.toml --slurm [--no-wait] [--jobs N]
//   qrsim sweep SPEC.toml --point I      (one point: what a Slurm array task runs)
//
// The whole spec is expanded and validated before anything is written or started. Each
// point runs as a subprocess of this same binary; its report, written atomically by the
// subprocess, marks it done, so rerunning a killed sweep skips what finished.
#include "apps/cli.hpp"
#include "apps/sweep_runner.hpp"
#include "apps/sweep_slurm.hpp"
#include "apps/sweep_spec.hpp"
#include "common/atomic_file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace qrsim::app {

namespace {

namespace fs = std::filesystem;

struct SweepCommand {
    const CLI::App* root = nullptr;
    std::string spec;
    std::string out;
    int jobs = 0;
    int point = -1;
    bool slurm = false;
    bool no_wait = false;
    bool dry_run = false;
};

void print_plan(const SweepDir& dir, const std::vector<SweepPoint>& points) {
    int done = 0;
    for (const SweepPoint& p : points) done += point_done(dir, p);
    std::printf("%zu points (%d done) in %s, each runs: qrsim", points.size(), done, dir.root().c_str());
    for (const std::string& w : points.at(0).command) std::printf(" %s", w.c_str());
    std::printf("\n");
    for (const SweepPoint& p : points)
        std::printf("%5d  %s  %-7s  %s\n", p.index, p.name.c_str(), point_done(dir, p) ? "done" : "pending",
                    describe(p).c_str());
}

// The spec as run, next to the points: Slurm tasks read it, and it documents the directory.
void copy_spec(const std::string& spec, const SweepDir& dir) {
    std::error_code ec;
    if (fs::equivalent(spec, dir.spec_copy(), ec)) return;  // already running from the copy
    write_file_atomically(dir.spec_copy().string(), read_input_file(spec, kMaxConfigBytes, "sweep spec", InputKind::config));
}

void run_sweep(const SweepCommand& cmd) {
    const SweepSpec spec = read_sweep_spec(cmd.spec);
    const std::vector<SweepPoint> points = expand_sweep(spec, *cmd.root);  // validates everything
    const SweepDir dir(cmd.out.empty() ? fs::path("out") / "sweeps" / fs::path(cmd.spec).stem() : fs::path(cmd.out));

    if (cmd.dry_run) return print_plan(dir, points);
    if (cmd.point >= 0) {
        if (cmd.point >= static_cast<int>(points.size()))
            throw UsageError("--point " + std::to_string(cmd.point) + ": the spec has points 0.." +
                             std::to_string(points.size() - 1));
        const SweepPoint& p = points[static_cast<size_t>(cmd.point)];
        if (run_one(dir, p) != 0) throw std::runtime_error("point " + std::to_string(p.index) + " failed, see " + dir.log(p).string());
        return;
    }

    fs::create_directories(dir.root() / "points");
    const SweepLock lock(dir);
    copy_spec(cmd.spec, dir);
    for (const SweepPoint& p : points) write_point_files(dir, p);

    int code = 0;
    if (cmd.slurm) {
        SlurmOptions options;
        options.wait = !cmd.no_wait;
        options.max_running = cmd.jobs;
        options.job_name = "qrsim-sweep-" + fs::path(cmd.spec).stem().string();
        options.sbatch_options = spec.sbatch_options;
        code = run_slurm(dir, points, options);
    } else {
        code = run_local(dir, points, cmd.jobs > 0 ? cmd.jobs : default_jobs(points));
    }
    if (code == 130) throw std::runtime_error("sweep interrupted; rerun the same command to resume");
    if (code != 0) throw std::runtime_error("sweep incomplete: some points failed (their logs are listed above)");
    std::printf("sweep: %zu points done; collect them with: qrsim report %s\n", points.size(), dir.root().c_str());
}

}  // namespace

void register_sweep(CLI::App& app) {
    auto cmd = std::make_shared<SweepCommand>();
    cmd->root = &app;
    CLI::App* sub = app.add_subcommand("sweep", "Run a grid of train / run / convert points, locally or on Slurm");
    sub->add_option("spec", cmd->spec, "sweep spec (configs/sweeps/README.md)")->type_name("SPEC.toml")->required();
    sub->add_option("--out", cmd->out, "sweep directory [default out/sweeps/<spec name>]")->type_name("DIR");
    sub->add_option("--jobs", cmd->jobs, "points at once [default: cores / threads per point]; with --slurm: "
                                         "at most this many array tasks at once")
        ->type_name("N")
        ->check(CLI::Range(1, 4096));
    auto* slurm = sub->add_flag("--slurm", cmd->slurm, "submit the points as one Slurm array job (sbatch --array)");
    sub->add_flag("--no-wait", cmd->no_wait, "with --slurm: submit and return, do not wait for the job")->needs(slurm);
    auto* dry = sub->add_flag("--dry-run", cmd->dry_run, "list the points and whether they are done; run nothing");
    sub->add_option("--point", cmd->point, "run only point I (what each Slurm array task does)")
        ->type_name("I")
        ->check(CLI::NonNegativeNumber)
        ->excludes(slurm)
        ->excludes(dry);
    sub->callback([cmd] { run_sweep(*cmd); });
}

}  // namespace qrsim::app
