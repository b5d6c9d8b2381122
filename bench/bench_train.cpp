// Training throughput of the float reference on fmnist-rows (one thread): samples/s for
// BPTT and e-prop, printed for scripts/bench. Not a test: it only prints figures.
#include "learning_rules/trainer.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>

using namespace qrsim;

int main(int argc, char** argv) {
    try {
        TaskOptions to;
        to.name = "fmnist-rows";
        to.train_samples = argc > 1 ? std::atoi(argv[1]) : 4096;
        to.test_samples = 1;
        const auto task = make_task(to);
        RsnnParams p;
        p.n_in = task->info().n_inputs;
        p.n_rec = argc > 2 ? std::atoi(argv[2]) : 128;
        p.n_out = task->info().n_classes;
        std::printf("fmnist-rows: %d inputs, %d steps, %d recurrent LIF, batch 32, 1 thread, %d samples\n",
                    p.n_in, task->info().n_steps, p.n_rec, to.train_samples);
        for (const char* rule : {"bptt", "eprop"}) {
            TrainOptions o;
            o.rule = rule;
            o.feedback = "random";
            o.batch_size = 32;
            Trainer trainer(p, o, 1);
            const EpochResult r = trainer.train_epoch(*task);
            std::printf("qrsim %-6s %8.0f samples/s\n", rule, r.samples_per_s);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_train: error: %s\n", e.what());
        return 1;
    }
}
