// One line of arithmetic over named quantities, with units: how every price of an energy
// table is derived from primary figures (configs/energy/figures.toml) and from quantities
// of the hw config, so a derivation is computed, never copied, and a unit slip (pJ added
// to ns, a per-bit price used per event) is an error instead of a wrong number.
//
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/') factor)*
//   factor := number | name | '(' expr ')'
//
// Values are SI with a dimension of joule, second and bit exponents (a watt is J/s).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace qrsim {

// A formula or unit that cannot be read or evaluated (bad input, so a runtime error).
class FormulaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Dim {
    int joule = 0, second = 0, bit = 0;
    bool operator==(const Dim& o) const { return joule == o.joule && second == o.second && bit == o.bit; }
    bool operator!=(const Dim& o) const { return !(*this == o); }
};

// "J", "s", "W/bit", "1" ...
std::string dim_name(const Dim& d);

struct Quantity {
    double si = 0;
    Dim dim;
};

inline constexpr Dim kEnergy{1, 0, 0}, kTime{0, 1, 0}, kPower{1, -1, 0}, kBits{0, 0, 1}, kEnergyPerBit{1, 0, -1},
    kDimensionless{0, 0, 0};

// A figure's value in its unit ("23.6", "pJ"): fJ..J, ps..s, pW..W, each optionally "/bit";
// bit, B, KiB, MiB; "1". Throws FormulaError naming the unit.
Quantity quantity_of(double value, const std::string& unit);

class Formula {
public:
    // Throws FormulaError with the offending position.
    static Formula parse(const std::string& text);

    const std::string& text() const { return text_; }
    // Every name the formula uses, in order of first use.
    const std::vector<std::string>& names() const { return names_; }
    bool is_zero() const;  // the literal "0": a price included in another action's
    // Resolves names through `lookup` (nullopt: unknown); throws FormulaError on an
    // unknown name, a sum of different dimensions or a division by zero.
    Quantity eval(const std::function<std::optional<Quantity>(const std::string&)>& lookup) const;

private:
    struct Op {
        enum Kind : uint8_t { number, name, add, sub, mul, div } kind;
        double value = 0;
        int name_index = -1;
    };
    std::string text_;
    std::vector<std::string> names_;
    std::vector<Op> program_;  // postfix
};

}  // namespace qrsim
