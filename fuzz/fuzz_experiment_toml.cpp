// Experiment config TOML (--config): parsing, then resolution and validation of every key.
#include "apps/config.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::app::RawConfig raw = qrsim::app::parse_config_text(qrsim::fuzz::text(data, size), "fuzz.toml");
        const qrsim::app::Config config = qrsim::app::resolve(raw);
        (void)qrsim::app::config_to_json(config).dump();
    });
}
