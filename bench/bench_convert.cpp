// Benchmark (not a test): seconds to convert the MLP 784-256-128-10 (uniform 4-bit, K=64,
// bounded least squares, 1500 sampled images) on 2 threads; the ANN is trained quickly
// first (2 epochs: conversion time does not depend on its accuracy). Aim: under 2 minutes.
//   bench_convert [DATA_DIR]
#include "learning_rules/layerwise_conversion.hpp"

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
    using namespace qrsim;
    try {
        const std::string dir = argc > 1 ? argv[1] : TaskOptions{}.data_dir;
        TaskOptions task_options;
        task_options.name = "fmnist-rate";
        task_options.data_dir = dir;
        const std::unique_ptr<Task> task = make_task(task_options);
        const ImageSet train = load_fmnist_images(dir, Split::train);
        Ann ann = ann_preset("mlp", train.rows, train.cols, 1);
        AnnTrainOptions t;
        t.epochs = 2;
        t.verbose = false;
        train_ann(ann, train, t);
        ConversionOptions o;
        o.spec.kind = WeightKind::uniform;
        o.spec.fanin = 64;
        o.spec.weight_bits = 4;
        o.threads = 2;
        const auto start = std::chrono::steady_clock::now();
        const ConversionResult r = convert_ann(ann, train, *task, o);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("bench_convert: MLP 784-256-128-10 -> SNN (uniform 4-bit, K=64, lsq, %d samples, 2 threads): %.1f s\n",
                    o.samples, s);
        return r.hidden_check.violations + r.readout_check.violations == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_convert: %s\n", e.what());
        return 1;
    }
}
