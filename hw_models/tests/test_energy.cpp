// Energy tables: formulas and their units, prices bound to a hw config against sums done by
// hand, every bad table one error naming the key, and the sourcing rule (every shipped
// table's figures cite a primary reference; a figure that does not is named).
#include "common/bounded_input.hpp"
#include "hw_models/energy.hpp"
#include "hw_models/energy_sources.hpp"
#include "hw_models/hw_config.hpp"
#include "hw_models/tests/test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace qrsim;
using Catch::Matchers::Contains;

namespace {

std::optional<Quantity> none(const std::string&) { return std::nullopt; }

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string figure(const std::string& name, double value, const std::string& unit, const std::string& extra = "") {
    std::ostringstream ss;
    ss << "[figures." << name << "]\nvalue = " << value << "\nunit = \"" << unit << "\"\n"
       << (extra.empty() ? "ref = \"k1\"\nlocator = \"Table 1\"\nnode = \"28 nm\"\nvoltage = \"0.5 V\"\n" : extra)
       << "what = \"w\"\n";
    return ss.str();
}

// A figure book for the synthetic tables below: one figure per price.
const std::string kBook = figure("sop", 5.3, "pJ") + figure("upd", 81, "pJ") + figure("ew", 3, "pJ") +
                          figure("ns", 4, "pJ") + figure("bitcost", 0.0525, "pJ/bit") + figure("cbit", 0.5, "fJ/bit") +
                          figure("one", 1, "pJ") + figure("t", 2, "ns") + figure("leak", 2, "pW/bit") +
                          "[derived.cam]\nformula = \"neurons_per_core * fanin * tag_bits * cbit\"\nwhat = \"w\"\n";

// A table with every action; `edit` replaces the energy formula of some actions, `extra`
// adds keys to one action's table (name -> TOML lines).
std::string table_text(std::map<std::string, std::string> energy = {}, std::map<std::string, std::string> extra = {},
                       const std::string& static_part = "[static]\npower = \"leak * memory_bits\"\nbasis = \"b\"\n") {
    const std::map<std::string, std::string> defaults = {
        {"cam_search", "cam"},       {"sop", "sop"},           {"neuron_update", "upd"},   {"spike_out", "one"},
        {"hop_ew", "ew"},            {"hop_ns", "ns"},         {"lfsr_draw", "one"},       {"state_read_bits", "bitcost"},
        {"state_write_bits", "bitcost"}, {"sram_read_bits", "bitcost"}, {"sram_write_bits", "bitcost"},
        {"core_instr", "one"},       {"core_ram_access", "one"}};
    std::ostringstream ss;
    ss << "name = \"t\"\n" << static_part;
    for (int i = 0; i < kActionCount; ++i) {
        const Action a = static_cast<Action>(i);
        const std::string n = action_name(a);
        if (energy.count(n) && energy[n] == "<absent>") continue;
        ss << "[actions." << n << "]\nenergy = \"" << (energy.count(n) ? energy[n] : defaults.at(n)) << "\"\nbasis = \"b\"\n";
        if (action_is_timed(a)) ss << "latency = \"t\"\n";
        if (extra.count(n)) ss << extra[n] << "\n";
    }
    return ss.str();
}

EnergyTable table(const std::string& text) {
    return EnergyTable::parse(text, "t.toml", FigureBook::parse(kBook, "book.toml"));
}

}  // namespace

TEST_CASE("formulas follow precedence and carry units", "[energy][formula]") {
    CHECK(Formula::parse("2 + 3 * 4").eval(none).si == 14);
    CHECK(Formula::parse("(2 + 3) * 4").eval(none).si == 20);
    CHECK(Formula::parse("12 / 4 / 3").eval(none).si == 1);
    CHECK(Formula::parse("a * b + a").names() == std::vector<std::string>{"a", "b"});
    CHECK(Formula::parse("0").is_zero());
    CHECK_FALSE(Formula::parse("0 * x").is_zero());
    // 0.03 pJ per 8-bit add over (8 x 1 bit) = 3.75 fJ per bit.
    const auto lookup = [](const std::string& n) -> std::optional<Quantity> {
        if (n == "add8") return quantity_of(0.03, "pJ");
        if (n == "bit") return Quantity{1, kBits};
        if (n == "t") return quantity_of(2, "ns");
        return std::nullopt;
    };
    const Quantity per_bit = Formula::parse("add8 / (8 * bit)").eval(lookup);
    CHECK(per_bit.si == Approx(3.75e-15));
    CHECK(per_bit.dim == kEnergyPerBit);
    CHECK(dim_name(per_bit.dim) == "J/bit");
    CHECK(dim_name(Formula::parse("add8 / t").eval(lookup).dim) == "W");
    CHECK_THROWS_WITH(Formula::parse("add8 + t").eval(lookup), Contains("adds J and s"));
    CHECK_THROWS_WITH(Formula::parse("add8 * q").eval(lookup), Contains("unknown name 'q'"));
    CHECK_THROWS_WITH(Formula::parse("add8 / (bit - bit)").eval(lookup), Contains("division by zero"));
    CHECK_THROWS_WITH(Formula::parse("2 +"), Contains("at character 4"));
    CHECK_THROWS_WITH(Formula::parse("a b"), Contains("unexpected 'b' at character 3"));
    CHECK_THROWS_WITH(Formula::parse("(2"), Contains("expected ')'"));
    CHECK(quantity_of(27.3, "uW").si == Approx(2.73e-5));
    CHECK(quantity_of(33, "MiB").si == 33.0 * 8388608);
    CHECK(quantity_of(0.5, "fJ/bit").dim == kEnergyPerBit);
    CHECK_THROWS_WITH(quantity_of(1, "kJ"), Contains("unknown unit 'kJ'"));
    CHECK_THROWS_WITH(quantity_of(1, "pJ/event"), Contains("only '/bit'"));
}

TEST_CASE("energy is counts times the table's prices, summed by hand", "[energy]") {
    const HwConfig hw = load_hw_config("dynapse2");  // 256 neurons per core, K = 64, 11-bit tags
    const EnergyModel m(table(table_text()), hw);
    // A CAM search per event per core: 256 x 64 x 11 bits x 0.5 fJ = 90.112 pJ.
    CHECK(m.pj(Action::cam_search) == Approx(90.112));
    CHECK(m.pj(Action::state_read_bits) == Approx(0.0525));
    CHECK(m.latency_s(Action::sop) == Approx(2e-9));
    CHECK(m.latency_s(Action::core_instr) == 0);
    ActionCounters c;
    c[Action::cam_search] = 2;
    c[Action::sop] = 10;
    c[Action::neuron_update] = 3;
    c[Action::hop_ew] = 2;
    c[Action::hop_ns] = 1;
    c[Action::state_read_bits] = 100;
    const auto e = m.energy_pj(c);
    // 2 x 90.112 + 10 x 5.3 + 3 x 81 + 2 x 3 + 1 x 4 + 100 x 0.0525 = 491.474
    CHECK(e.at("dynamic") == Approx(491.474));
    CHECK(e.at("sop") == Approx(53.0));
    CHECK(e.at("core_instr") == 0.0);
    // Static: 2 pW per bit x (1,114,112 CAM + 262,144 SRAM bits) = 2.752512 uW; over 0.5 s
    // that is 1.376256 uJ.
    CHECK(m.tile_memory_bits() == 1114112 + 262144);
    CHECK(m.static_w(m.tile_memory_bits()) == Approx(2.752512e-6));
    const EnergySplit s = energy_split(m, c, 0.5, m.tile_memory_bits());
    CHECK(s.static_pj == Approx(1376256.0));
    CHECK(s.total_pj() == Approx(1376256.0 + 491.474));
    // A larger CAM costs more per search: the price follows the config it is bound to.
    const HwConfig big = test::edited_preset("dynapse2", {{"fanin = 64", "fanin = 32"}});
    CHECK(EnergyModel(table(table_text()), big).pj(Action::cam_search) == Approx(45.056));
}

TEST_CASE("a bad energy table is one error naming the key", "[energy]") {
    CHECK_NOTHROW(table(table_text()));
    const auto refused = [](std::map<std::string, std::string> energy, std::map<std::string, std::string> extra = {}) {
        try {
            table(table_text(std::move(energy), std::move(extra)));
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK_THAT(refused({{"hop_ns", "<absent>"}}), Contains("no entry for action 'hop_ns'"));
    CHECK_THAT(refused({{"sop", "nope"}}), Contains("t.toml: actions.sop.energy: formula \"nope\": unknown name 'nope'"));
    CHECK_THAT(refused({{"sram_read_bits", "one"}}), Contains("actions.sram_read_bits.energy comes out in J, it must be J/bit"));
    CHECK_THAT(refused({{"sop", "sop +"}}), Contains("actions.sop.energy: formula \"sop +\""));
    CHECK_THAT(refused({}, {{"core_instr", "latency = \"t\""}}), Contains("actions.core_instr.latency: only the tile's timed actions"));
    CHECK_THAT(refused({}, {{"sop", "cost = 1"}}), Contains("actions.sop.unknown key cost"));
    CHECK_THAT(refused({{"cam_search", "0"}}, {{"cam_search", "included_in = \"sop\""}}),
               Contains("a CAM that is searched costs energy"));
    CHECK_THAT(refused({{"lfsr_draw", "0"}}), Contains("actions.lfsr_draw.energy = \"0\" needs included_in"));
    CHECK_THAT(refused({{"lfsr_draw", "0"}, {"core_instr", "0"}},
                       {{"lfsr_draw", "included_in = \"core_instr\""}, {"core_instr", "included_in = \"sop\""}}),
               Contains("actions.lfsr_draw.included_in = \"core_instr\" must name an action priced above zero"));
    CHECK(refused({{"lfsr_draw", "0"}}, {{"lfsr_draw", "included_in = \"neuron_update\""}}) == "accepted");
    const std::string no_static = table_text({}, {}, ""),
                      per_bit_static = table_text({}, {}, "[static]\npower = \"leak\"\nbasis = \"b\"\n");
    CHECK_THROWS_WITH(table(no_static), Contains("[static] missing"));
    CHECK_THROWS_WITH(table(per_bit_static), Contains("static.power comes out in W/bit, it must be W"));
    // The figure book: units, sources and derivations are checked as it loads.
    CHECK_THROWS_WITH(FigureBook::parse(figure("x", 1, "pJ/s"), "b.toml"), Contains("b.toml: figures.x.unit: unit 'pJ/s'"));
    CHECK_THROWS_WITH(FigureBook::parse(figure("x", 1, "pJ", "locator = \"Table 1\"\nnode = \"n\"\nvoltage = \"v\"\n"), "b.toml"),
                      Contains("figures.x.ref missing"));
    CHECK_NOTHROW(FigureBook::parse(figure("x", 1, "pJ", "estimate = \"no source yet\"\n"), "b.toml"));
    CHECK_THROWS_WITH(FigureBook::parse("[derived.d]\nformula = \"x * 2\"\nwhat = \"w\"\n", "b.toml"),
                      Contains("derived.d.formula: formula \"x * 2\": unknown name 'x'"));
    CHECK_THROWS_WITH(FigureBook::parse("[derived.d]\nformula = \"d * 2\"\nwhat = \"w\"\n", "b.toml"),
                      Contains("refers to itself"));
}

TEST_CASE("every shipped energy table is sourced", "[energy][sources]") {
    const std::set<std::string> keys = citation_keys(read(project_dir() + "/docs/references.md"));
    REQUIRE(keys.count("davies2018"));
    int tables = 0;
    for (const auto& f : std::filesystem::directory_iterator(project_dir() + "/configs/energy")) {
        if (f.path().extension() != ".toml" || f.path().filename() == "figures.toml") continue;
        const EnergyTable t = EnergyTable::load(f.path().string());
        ++tables;
        INFO(f.path().string());
        CHECK(figures_used(t).size() >= 5);
        const std::vector<std::string> problems = sourcing_problems(t, keys);
        for (const std::string& p : problems) UNSCOPED_INFO(p);
        CHECK(problems.empty());
    }
    CHECK(tables >= 2);
    // Every preset's table prices every action for the preset, a CAM search above zero.
    for (const std::string& name : hw_preset_names()) {
        const HwConfig hw = load_hw_config(name);
        const EnergyModel m(EnergyTable::load(hw.energy_table), hw);
        INFO(name);
        CHECK(m.pj(Action::cam_search) > 0);
        CHECK(m.static_w(m.tile_memory_bits()) > 0);
        CHECK(m.latency_s(Action::neuron_update) > 0);
    }
}

TEST_CASE("the sourcing check names every unsourced figure", "[energy][sources]") {
    const std::set<std::string> keys = {"k1"};
    const std::string book = kBook + figure("guess", 1, "pJ", "estimate = \"no paper yet\"\n") +
                             figure("badref", 1, "pJ", "ref = \"k9\"\nlocator = \"Table 3\"\nnode = \"n\"\nvoltage = \"v\"\n") +
                             figure("badloc", 1, "pJ", "ref = \"k1\"\nlocator = \"somewhere\"\nnode = \"n\"\nvoltage = \"v\"\n");
    const auto problems = [&](const std::string& spike_out) {
        return sourcing_problems(
            EnergyTable::parse(table_text({{"spike_out", spike_out}}), "t.toml", FigureBook::parse(book, "book.toml")), keys);
    };
    CHECK(problems("one").empty());
    const auto p1 = problems("guess + one");
    REQUIRE(p1.size() == 1);
    CHECK_THAT(p1[0], Contains("figure guess") && Contains("an estimate, not a primary figure (no paper yet)"));
    const auto p2 = problems("badref");
    REQUIRE(p2.size() == 1);
    CHECK_THAT(p2[0], Contains("ref 'k9' is not a citation key of docs/references.md"));
    const auto p3 = problems("badloc");
    REQUIRE(p3.size() == 1);
    CHECK_THAT(p3[0], Contains("locator 'somewhere' names no table, figure or section"));
    // A shipped table fails as soon as one of its figures is marked an estimate.
    std::string shipped = read(project_dir() + "/configs/energy/figures.toml");
    const std::string at = "[figures.loihi_sop]\n";
    shipped.insert(shipped.find(at) + at.size(), "estimate = \"test\"\n");
    const EnergyTable loihi = EnergyTable::parse(read(project_dir() + "/configs/energy/loihi.toml"), "loihi.toml",
                                                 FigureBook::parse(shipped, "figures.toml"));
    const auto p4 = sourcing_problems(loihi, citation_keys(read(project_dir() + "/docs/references.md")));
    REQUIRE(p4.size() == 1);
    CHECK_THAT(p4[0], Contains("figure loihi_sop") && Contains("an estimate"));
}
