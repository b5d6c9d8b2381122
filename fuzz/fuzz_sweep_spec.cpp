// Sweep spec TOML (qrsim sweep SPEC): the structure check of read_sweep_spec. Expanding
// the points needs the subcommands' CLI definitions (and with them the whole simulator),
// so that part is covered by apps/tests/sweep_errors.sh instead.
#include "apps/sweep_spec.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors(
        [&] { (void)qrsim::app::parse_sweep_spec(qrsim::fuzz::text(data, size), "fuzz.toml"); });
}
