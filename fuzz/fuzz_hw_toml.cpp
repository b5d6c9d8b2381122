// Hardware config TOML (--hw FILE): parsing into the raw layer, then resolution with every
// range check, as load_hw_config does.
#include "fuzz/fuzz_support.hpp"
#include "hw_models/hw_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::HwConfigRaw raw = qrsim::parse_hw_config(qrsim::fuzz::text(data, size), "fuzz.toml");
        (void)qrsim::resolve_hw_config(raw, "fuzz.toml", ".");
    });
}
