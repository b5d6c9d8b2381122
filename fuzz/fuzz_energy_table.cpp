// Energy table TOML (energy.table of a hw config), then pricing a set of counts.
#include "fuzz/fuzz_support.hpp"
#include "hw_models/energy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::EnergyTable table = qrsim::EnergyTable::parse(qrsim::fuzz::text(data, size), "fuzz.toml");
        qrsim::ActionCounters counts;
        for (auto& n : counts.n) n = 1000;
        (void)table.energy_pj(counts);
    });
}
