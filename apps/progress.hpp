// The training progress display on stderr: one line redrawn in place on a terminal,
// otherwise (logs, CI) a line every ~10 % of an epoch so logs stay short.
#pragma once

#include "learning_rules/trainer.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace qrsim::app {

// "h:mm:ss" for an ETA or elapsed time; "?" when unknown.
std::string clock_text(double seconds);

class ProgressDisplay {
public:
    explicit ProgressDisplay(std::FILE* out);
    ~ProgressDisplay() { finish_line(); }  // an error message must not land on the progress line
    ProgressDisplay(const ProgressDisplay&) = delete;
    ProgressDisplay& operator=(const ProgressDisplay&) = delete;

    void update(const Progress& p);
    // Ends the redrawn line so the next message starts on a fresh one.
    void finish_line();

private:
    std::FILE* out_;
    bool tty_;
    bool line_open_ = false;
    int last_decile_ = -1;
    int last_epoch_ = 0;
    std::chrono::steady_clock::time_point last_draw_{};
    std::mutex mutex_;  // the trainer may report from a worker thread
};

}  // namespace qrsim::app
