#include "apps/progress.hpp"
#include "apps/sweep_runner.hpp"

#include "apps/sweep_process.hpp"
#include "common/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace qrsim::app {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t g_stop = 0;
struct sigaction g_old_int, g_old_term;

void on_stop(int) { g_stop = 1; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string toml_value(const RawValue& v) {
    if (std::holds_alternative<std::string>(v)) return nlohmann::json(std::get<std::string>(v)).dump();  // JSON escapes are TOML's
    return value_text(v);
}

nlohmann::json json_value(const RawValue& v) {
    return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
    return text;
}

// The command line of a point; "{dir}" in a flag value is the point's directory.
std::vector<std::string> point_argv(const SweepDir& dir, const SweepPoint& p, const std::string& exe) {
    std::vector<std::string> argv{exe};
    argv.insert(argv.end(), p.command.begin(), p.command.end());
    if (!p.config.empty()) argv.insert(argv.end(), {"--config", dir.config(p).string()});
    for (const auto& [flag, value] : p.flags) {
        if (std::holds_alternative<bool>(value)) {
            if (std::get<bool>(value)) argv.push_back(flag);
            continue;
        }
        argv.insert(argv.end(), {flag, replace_all(value_text(value), "{dir}", dir.point_dir(p).string())});
    }
    argv.insert(argv.end(), {"--report", dir.report(p).string()});
    return argv;
}

// Temporary files of a killed attempt (write_file_atomically names them FILE.tmp.PID).
void remove_partial(const SweepDir& dir, const SweepPoint& p) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.point_dir(p), ec))
        if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path(), ec);
}

// Cleans up after a killed attempt, writes the attempt's header into the log, starts it.
pid_t start_point(const SweepDir& dir, const SweepPoint& p, const std::string& exe) {
    write_point_files(dir, p);
    remove_partial(dir, p);
    const std::vector<std::string> argv = point_argv(dir, p, exe);
    std::string line = "=== qrsim sweep: attempt at ";
    char when[64];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
    line += std::string(when) + ", point " + std::to_string(p.index) + " " + p.name + ":";
    for (const std::string& a : argv) line += " " + a;
    std::ofstream(dir.log(p), std::ios::app) << line << "\n";
    return spawn_logged(argv, dir.log(p).string());
}

// Why a reaped point does not count as done ("" if it does).
std::string failure(const SweepDir& dir, const SweepPoint& p, int status) {
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return describe_status(status);
    if (!point_done(dir, p)) return "exited 0 but wrote no report";
    return "";
}

}  // namespace

SweepLock::SweepLock(const SweepDir& dir) {
    const fs::path path = dir.root() / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        throw std::runtime_error("another qrsim sweep is running in " + dir.root().string() + " (it holds " +
                                 path.string() + ")");
    }
}

SweepLock::~SweepLock() { ::close(fd_); }

StopSignals::StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a sleep or wait returns early, so we react at once
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignals::~StopSignals() {
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
}

bool StopSignals::requested() const { return g_stop != 0; }

std::string describe(const SweepPoint& p) {
    std::string text;
    for (const auto& [key, value] : p.swept) text += (text.empty() ? "" : " ") + key + "=" + value_text(value);
    return text.empty() ? "(fixed settings only)" : text;
}

bool point_done(const SweepDir& dir, const SweepPoint& p) {
    std::ifstream in(dir.report(p));
    if (!in) return false;
    const nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    return report.is_object();
}

void write_point_files(const SweepDir& dir, const SweepPoint& p) {
    fs::create_directories(dir.point_dir(p));
    if (!p.config.empty()) {
        std::string toml = "# Config of sweep point " + p.name + ", written by qrsim sweep (read with --config).\n";
        std::string table;
        for (const auto& [key, value] : p.config) {  // sorted, so each table's keys are together
            const size_t dot = key.find('.');
            if (key.compare(0, dot, table) != 0 || table.empty()) {
                table = key.substr(0, dot);
                toml += "\n[" + table + "]\n";
            }
            toml += key.substr(dot + 1) + " = " + toml_value(value) + "\n";
        }
        write_file_atomically(dir.config(p).string(), toml);
    }
    nlohmann::json info = {{"name", p.name}, {"index", p.index}, {"command", p.command}};
    info["argv"] = point_argv(dir, p, self_exe());
    for (const auto& [key, value] : p.swept) info["swept"][key] = json_value(value);
    for (const auto& [key, value] : p.config) info["config"][key] = json_value(value);
    for (const auto& [key, value] : p.flags) info["flags"][key] = json_value(value);
    write_file_atomically(dir.info(p).string(), info.dump(2) + "\n");
}

SweepProgress::SweepProgress(const SweepDir& dir, int total, int done_before)
    : dir_(dir), total_(total), done_(done_before), done_before_(done_before),
      tty_(::isatty(::fileno(stderr)) != 0), start_(Clock::now()) {}

std::string SweepProgress::status() const {
    const int finished_here = done_ - done_before_ + failed_;
    const int remaining = total_ - done_ - failed_;
    const double elapsed = seconds_since(start_);
    const double eta = finished_here > 0 ? elapsed * remaining / finished_here : NAN;
    char buf[200];
    std::snprintf(buf, sizeof buf, "sweep: %d/%d done, %d running, %d failed, elapsed %s, ETA %s", done_, total_,
                  running_, failed_, clock_text(elapsed).c_str(), remaining == 0 ? "0:00:00" : clock_text(eta).c_str());
    return buf;
}

void SweepProgress::print_event(const std::string& line) {
    if (line_open_) std::fputs("\r\033[K", stderr);
    line_open_ = false;
    std::fprintf(stderr, "%s\n", line.c_str());
    if (!tty_) std::fprintf(stderr, "%s\n", status().c_str());
    tick();
}

void SweepProgress::finished(const SweepPoint& p, bool ok, double seconds, const std::string& why) {
    --running_;
    ++(ok ? done_ : failed_);
    char took[32] = "";
    if (seconds >= 0) std::snprintf(took, sizeof took, " %.1f s", seconds);  // < 0: unknown (Slurm)
    if (ok) print_event("sweep: done   " + p.name + " [" + describe(p) + "]" + took);
    else print_event("sweep: FAILED " + p.name + " [" + describe(p) + "] " + why + ", see " + dir_.log(p).string());
}

void SweepProgress::tick() {
    if (!tty_ || (line_open_ && seconds_since(last_draw_) < 1.0)) return;
    std::fprintf(stderr, "\r\033[K%s", status().c_str());
    std::fflush(stderr);
    line_open_ = true;
    last_draw_ = Clock::now();
}

void SweepProgress::close() {
    if (line_open_) std::fputs("\n", stderr);
    line_open_ = false;
}

int default_jobs(const std::vector<SweepPoint>& points) {
    cpu_set_t set;
    const int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    int threads = 1;
    for (const SweepPoint& p : points) threads = std::max(threads, p.threads);
    return std::max(1, cores / threads);
}

int run_local(const SweepDir& dir, const std::vector<SweepPoint>& points, int jobs) {
    const std::string exe = self_exe();
    std::vector<const SweepPoint*> todo;
    for (const SweepPoint& p : points)
        if (!point_done(dir, p)) todo.push_back(&p);
    const int done_before = static_cast<int>(points.size() - todo.size());
    std::fprintf(stderr, "sweep: %zu points in %s: %d already done, %zu to run, %d at a time\n", points.size(),
                 dir.root().c_str(), done_before, todo.size(), jobs);
    if (todo.empty()) return 0;

    StopSignals stop;
    SweepProgress progress(dir, static_cast<int>(points.size()), done_before);
    struct Running {
        const SweepPoint* point;
        Clock::time_point start;
    };
    std::map<pid_t, Running> running;
    std::vector<const SweepPoint*> failed;
    size_t next = 0;
    bool terminating = false;
    Clock::time_point kill_deadline;
    while ((next < todo.size() && !stop.requested()) || !running.empty()) {
        while (!stop.requested() && next < todo.size() && static_cast<int>(running.size()) < jobs) {
            const SweepPoint& p = *todo[next++];
            running[start_point(dir, p, exe)] = {&p, Clock::now()};
            progress.started();
        }
        if (stop.requested() && !terminating) {
            // Children die without writing a report (qrsim writes it only at the end, atomically).
            for (const auto& [pid, r] : running) ::kill(pid, SIGTERM);
            terminating = true;
            kill_deadline = Clock::now() + std::chrono::seconds(5);
        }
        if (terminating && Clock::now() > kill_deadline)
            for (const auto& [pid, r] : running) ::kill(pid, SIGKILL);

        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0 && running.count(pid)) {
            const Running r = running.at(pid);
            running.erase(pid);
            const std::string why = failure(dir, *r.point, status);
            if (terminating && !why.empty()) {
                progress.interrupted();
                continue;
            }
            progress.finished(*r.point, why.empty(), seconds_since(r.start), why);
            if (!why.empty()) failed.push_back(r.point);
            continue;
        }
        progress.tick();
        ::usleep(100 * 1000);  // a signal cuts it short
    }
    progress.close();
    if (stop.requested()) {
        std::fprintf(stderr, "sweep: interrupted: %d of %zu points done; run the same command again to resume\n",
                     progress.done(), points.size());
        return 130;
    }
    if (!failed.empty()) {
        std::fprintf(stderr, "sweep: %zu of %zu points failed (logs):\n", failed.size(), points.size());
        for (const SweepPoint* p : failed) std::fprintf(stderr, "  %s\n", dir.log(*p).c_str());
        return 1;
    }
    std::fprintf(stderr, "sweep: all %zu points done in %s\n", points.size(), dir.root().c_str());
    return 0;
}

int run_one(const SweepDir& dir, const SweepPoint& p) {
    if (point_done(dir, p)) {
        std::printf("point %d (%s) is already done: %s\n", p.index, p.name.c_str(), dir.report(p).c_str());
        return 0;
    }
    StopSignals stop;  // Slurm's scancel sends SIGTERM: pass it on, so no point runs on unobserved
    const auto start = Clock::now();
    const pid_t pid = start_point(dir, p, self_exe());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
        if (stop.requested()) ::kill(pid, SIGTERM);
    }
    const std::string why = failure(dir, p, status);
    std::printf("point %d (%s) [%s]: %s after %.1f s, log %s\n", p.index, p.name.c_str(), describe(p).c_str(),
                why.empty() ? "done" : why.c_str(), seconds_since(start), dir.log(p).c_str());
    return why.empty() ? 0 : 1;
}

}  // namespace qrsim::app
