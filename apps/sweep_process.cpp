#include "apps/sweep_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace qrsim::app {

namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

// In a forked child before exec: the sweep's signal handlers and mask must not leak in.
void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}

[[noreturn]] void exec_or_die(const std::vector<std::string>& argv) {
    std::vector<char*> args = c_argv(argv);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "qrsim sweep: cannot run %s: %s\n", argv[0].c_str(), std::strerror(errno));
    ::_exit(127);
}

pid_t wait_child(pid_t pid, int* status) {
    pid_t r;
    while ((r = ::waitpid(pid, status, 0)) < 0 && errno == EINTR) {}
    return r;
}

}  // namespace

std::string self_exe() {
    std::error_code ec;
    const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot find the qrsim binary (/proc/self/exe): " + ec.message());
    return path.string();
}

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) throw std::runtime_error("cannot open log " + log + ": " + std::strerror(errno));
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fd);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(1);  // the sweep died before prctl took effect
        reset_signals();
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) ::dup2(null, 0);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        exec_or_die(argv);
    }
    ::close(fd);
    return pid;
}

std::string describe_status(int s) {
    if (WIFEXITED(s)) return "exit code " + std::to_string(WEXITSTATUS(s));
    if (WIFSIGNALED(s)) return "killed by signal " + std::to_string(WTERMSIG(s)) + " (" + strsignal(WTERMSIG(s)) + ")";
    return "status " + std::to_string(s);
}

bool Captured::ok() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

Captured run_captured(const std::vector<std::string>& argv, bool quiet) {
    int pipe_fd[2];
    if (::pipe2(pipe_fd, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        reset_signals();
        ::dup2(pipe_fd[1], 1);
        if (quiet) {
            const int null = ::open("/dev/null", O_WRONLY);
            if (null >= 0) ::dup2(null, 2);
        }
        exec_or_die(argv);
    }
    ::close(pipe_fd[1]);
    Captured result;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(pipe_fd[0], buf, sizeof buf);
        if (n > 0) result.out.append(buf, static_cast<size_t>(n));
        else if (n == 0 || errno != EINTR) break;
    }
    ::close(pipe_fd[0]);
    wait_child(pid, &result.wait_status);
    return result;
}

std::string shell_quote(const std::string& word) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace qrsim::app
