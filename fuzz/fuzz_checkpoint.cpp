// Checkpoint JSON: the whole load path (params, shapes before allocation, weights, config
// object, extra), then the constraint in extra and the entry decomposition of every
// weight, as `qrsim run` does before building the tile.
#include "common/checkpoint.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::Checkpoint cp = qrsim::checkpoint_from_text(qrsim::fuzz::text(data, size), "fuzz.json");
        if (cp.extra.is_object() && cp.extra.contains("constraint")) {
            const qrsim::CheckpointConstraint cc = qrsim::constraint_from_extra(cp.extra);
            const auto& w = cp.weights;
            for (int j = 0; j < cp.params.n_rec && j < 64; ++j)
                for (int i = 0; i < cp.params.n_in && i < 64; ++i) qrsim::entry_count(cc.hidden_levels(j), w.w_in(j, i));
        }
    });
}
