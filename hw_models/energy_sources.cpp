#include "hw_models/energy_sources.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

namespace qrsim {

std::set<std::string> citation_keys(const std::string& references_md) {
    std::set<std::string> keys;
    static const std::regex entry(R"(^- \*\*([a-z0-9_]+)\*\*:\s*\S)");
    std::istringstream in(references_md);
    std::string line;
    std::smatch m;
    while (std::getline(in, line))
        if (std::regex_search(line, m, entry)) keys.insert(m[1]);
    return keys;
}

namespace {

// Figures under a formula, through the book's derivations.
void collect(const FigureBook& book, const Formula& f, std::set<std::string>& out, int depth) {
    for (const std::string& n : f.names()) {
        if (book.figure(n)) out.insert(n);
        else if (const Derivation* d = book.derivation(n); d && depth < 16) collect(book, d->formula, out, depth + 1);
    }
}

std::vector<const Formula*> formulas_of(const EnergyTable& t) {
    std::vector<const Formula*> all{&t.static_power()};
    for (int i = 0; i < kActionCount; ++i) {
        const CostEntry& e = t.entry(static_cast<Action>(i));
        all.push_back(&e.energy);
        if (e.latency) all.push_back(&*e.latency);
    }
    return all;
}

}  // namespace

std::vector<std::string> figures_used(const EnergyTable& t) {
    std::set<std::string> used;
    for (const Formula* f : formulas_of(t)) collect(t.figures(), *f, used, 0);
    return {used.begin(), used.end()};
}

std::vector<std::string> sourcing_problems(const EnergyTable& t, const std::set<std::string>& keys) {
    std::vector<std::string> out;
    const std::string where = t.origin() + ": ";
    static const std::regex locator(R"(^(Table|Fig\.|Sec\.|Abstract|p\.|Eq\.)( \S.*)?$)");
    for (const std::string& name : figures_used(t)) {
        const Figure& f = *t.figures().figure(name);
        const std::string fig = where + "figure " + name + " (" + t.figures().origin() + "): ";
        if (!f.estimate.empty()) {
            out.push_back(fig + "an estimate, not a primary figure (" + f.estimate + ")");
            continue;
        }
        if (f.ref.empty()) out.push_back(fig + "no ref (a citation key of docs/references.md)");
        else if (!keys.count(f.ref)) out.push_back(fig + "ref '" + f.ref + "' is not a citation key of docs/references.md");
        if (!std::regex_match(f.locator, locator))
            out.push_back(fig + "locator '" + f.locator + "' names no table, figure or section (Table N, Fig. N, Sec. N, ...)");
        if (f.node.empty()) out.push_back(fig + "no process node");
        if (f.voltage.empty()) out.push_back(fig + "no voltage (or a statement that the source gives none)");
    }
    const auto uses_a_figure = [&](const Formula& f) {
        std::set<std::string> used;
        collect(t.figures(), f, used, 0);
        return !used.empty();
    };
    if (!uses_a_figure(t.static_power())) out.push_back(where + "static.power uses no primary figure");
    for (int i = 0; i < kActionCount; ++i) {
        const CostEntry& e = t.entry(static_cast<Action>(i));
        const std::string key = where + "actions." + action_name(static_cast<Action>(i));
        if (!(e.energy.is_zero() && !e.included_in.empty()) && !uses_a_figure(e.energy))
            out.push_back(key + ".energy uses no primary figure");
        if (e.latency && !uses_a_figure(*e.latency)) out.push_back(key + ".latency uses no primary figure");
    }
    return out;
}

}  // namespace qrsim
