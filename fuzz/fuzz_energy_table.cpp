// Energy table TOML (energy.table of a hw config) against the shipped figure book, priced
// for a preset; and the same bytes as a figure book.
#include "fuzz/fuzz_support.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/hw_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const qrsim::FigureBook book = qrsim::FigureBook::load(qrsim::project_dir() + "/configs/energy/figures.toml");
    static const qrsim::HwConfig hw = qrsim::load_hw_config("dynapse2");
    const std::string text = qrsim::fuzz::text(data, size);
    qrsim::fuzz::expect_clean_errors([&] {
        const qrsim::EnergyTable table = qrsim::EnergyTable::parse(text, "fuzz.toml", book);
        const qrsim::EnergyModel model(table, hw);
        qrsim::ActionCounters counts;
        for (auto& n : counts.n) n = 1000;
        (void)model.energy_pj(counts);
        (void)model.static_w(model.tile_memory_bits());
    });
    return qrsim::fuzz::expect_clean_errors([&] { (void)qrsim::FigureBook::parse(text, "fuzz.toml"); });
}
