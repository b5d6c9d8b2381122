#include "apps/progress.hpp"

#include <cmath>
#include <string>

#include <unistd.h>

namespace qrsim::app {

std::string clock_text(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const long s = std::lround(seconds);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    return buf;
}

ProgressDisplay::ProgressDisplay(std::FILE* out) : out_(out), tty_(::isatty(::fileno(out)) != 0) {}

void ProgressDisplay::update(const Progress& p) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (p.samples_total <= 0) return;
    const bool epoch_done = p.samples_done >= p.samples_total;
    if (p.epoch != last_epoch_) {
        last_epoch_ = p.epoch;
        last_decile_ = -1;
    }
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
        // Redrawing costs a write per call; 10 per second is smooth enough.
        if (!epoch_done && now - last_draw_ < std::chrono::milliseconds(100)) return;
    } else {
        const int decile = static_cast<int>(10LL * p.samples_done / p.samples_total);
        if (decile == last_decile_) return;
        last_decile_ = decile;
    }
    last_draw_ = now;

    const double left = (p.samples_total - p.samples_done) +
                        static_cast<double>(p.epochs - p.epoch) * p.samples_total;
    const double eta = p.samples_per_s > 0 ? left / p.samples_per_s : NAN;
    char loss[32] = "";
    if (std::isfinite(p.running_loss)) std::snprintf(loss, sizeof loss, "  loss %.4f", p.running_loss);
    std::fprintf(out_, "%sepoch %d/%d  %d/%d samples  %.0f samples/s  acc %.1f %%%s  ETA %s%s",
                 tty_ ? "\r\033[K" : "", p.epoch, p.epochs, p.samples_done, p.samples_total,
                 p.samples_per_s, 100.0 * p.running_accuracy, loss, clock_text(eta).c_str(), tty_ ? "" : "\n");
    line_open_ = tty_;
    std::fflush(out_);
}

void ProgressDisplay::finish_line() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (line_open_) std::fputc('\n', out_);
    line_open_ = false;
    std::fflush(out_);
}

}  // namespace qrsim::app
