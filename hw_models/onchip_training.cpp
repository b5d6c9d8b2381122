#include "hw_models/onchip_training.hpp"

#include "common/readout_loss.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace qrsim {

double readout_loss(const SampleResult& r, const TaskInfo& info, int label, int membrane_frac_bits) {
    ReadoutLoss loss(info, label);
    Vector y(info.n_classes), err;
    const double lsb = std::ldexp(1.0, -membrane_frac_bits);
    for (size_t w = 0; w < r.readout_window.size(); ++w) {
        for (int k = 0; k < info.n_classes; ++k) y[k] = lsb * r.readout_window[w][k];
        loss.step(info.readout_begin + static_cast<int>(w), y, err);
    }
    return loss.loss();
}

OnChipEpoch train_on_chip_epoch(Chip& chip, const Task& task, int epoch, uint64_t seed,
                                const ProgressCallback& progress) {
    const int n = task.size(Split::train);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    chip.set_learning(true);
    SpikeSample sample;
    int correct = 0;
    double loss = 0;
    const auto t0 = std::chrono::steady_clock::now();
    Progress p;
    p.epoch = epoch;
    p.samples_total = n;
    for (int i = 0; i < n; ++i) {
        task.encode(Split::train, order[i], sample);
        const SampleResult out = chip.run_sample(sample, task.info().readout_begin);
        correct += out.prediction == sample.label;
        loss += readout_loss(out, task.info(), sample.label, chip.hw().membrane_frac_bits);
        if (progress && ((i + 1) % 64 == 0 || i + 1 == n)) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            p.samples_done = i + 1;
            p.samples_per_s = s > 0 ? (i + 1) / s : 0;
            p.running_accuracy = double(correct) / (i + 1);
            p.running_loss = loss / (i + 1);
            progress(p);
        }
    }
    OnChipEpoch r;
    r.epoch = epoch;
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.train_accuracy = n > 0 ? double(correct) / n : 0;
    r.train_loss = n > 0 ? loss / n : 0;
    r.samples_per_s = r.wall_s > 0 ? n / r.wall_s : 0;
    return r;
}

OnChipEval evaluate_on_chip(Chip& chip, const Task& task, Split split, int max_samples) {
    const int n = max_samples < 0 ? task.size(split) : std::min(max_samples, task.size(split));
    chip.set_learning(false);
    SpikeSample sample;
    OnChipEval r;
    r.samples = n;
    int correct = 0;
    for (int i = 0; i < n; ++i) {
        task.encode(split, i, sample);
        const SampleResult out = chip.run_sample(sample, task.info().readout_begin);
        correct += out.prediction == sample.label;
        r.loss += readout_loss(out, task.info(), sample.label, chip.hw().membrane_frac_bits);
    }
    chip.set_learning(true);
    r.accuracy = n > 0 ? double(correct) / n : 0;
    r.loss = n > 0 ? r.loss / n : 0;
    return r;
}

}  // namespace qrsim
