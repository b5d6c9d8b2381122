// The sourcing rule every shipped energy table must meet (ctest "every shipped energy table
// is sourced"): each figure a table's prices use, directly or through a derivation, names
//   - a citation key that docs/references.md defines (a line "- **key**: authors, title ..."),
//   - a locator in the source: "Table N", "Fig. N", "Sec. N", "Abstract", "p. N", "Eq. N",
//   - the process node and the supply voltage (or a plain statement that it is not given),
// and is not an estimate; each price uses at least one figure, unless it is "0" and names
// the action that includes it. A primary reference is thus checkable, not a matter of taste.
#pragma once

#include "hw_models/energy.hpp"

#include <set>
#include <string>
#include <vector>

namespace qrsim {

// The citation keys a references file defines.
std::set<std::string> citation_keys(const std::string& references_md);

// The figures a table's prices use (through derivations), sorted.
std::vector<std::string> figures_used(const EnergyTable& table);

// One line per problem ("loihi.toml: figure loihi_sop: ref 'x' is not a citation key of
// docs/references.md"); empty when the table is sourced.
std::vector<std::string> sourcing_problems(const EnergyTable& table, const std::set<std::string>& keys);

}  // namespace qrsim
