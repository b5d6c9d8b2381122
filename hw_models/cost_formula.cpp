#include "hw_models/cost_formula.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace qrsim {

std::string dim_name(const Dim& d) {
    if (d == kDimensionless) return "1";
    if (d == kPower) return "W";
    if (d.joule == 1 && d.second == -1 && d.bit == -1) return "W/bit";
    std::string num, den;
    auto part = [&](int e, const char* unit) {
        std::string& s = e > 0 ? num : den;
        if (e == 0) return;
        if (!s.empty()) s += "*";
        s += unit;
        if (std::abs(e) > 1) s += "^" + std::to_string(std::abs(e));
    };
    part(d.joule, "J");
    part(d.second, "s");
    part(d.bit, "bit");
    return (num.empty() ? "1" : num) + (den.empty() ? "" : "/" + den);
}

Quantity quantity_of(double value, const std::string& unit) {
    std::string u = unit, per;
    if (const size_t slash = u.find('/'); slash != std::string::npos) {
        per = u.substr(slash + 1);
        u = u.substr(0, slash);
        if (per != "bit") throw FormulaError("unit '" + unit + "': only '/bit' may follow a unit");
    }
    struct Base {
        const char* name;
        double scale;
        Dim dim;
    };
    static const Base bases[] = {
        {"fJ", 1e-15, kEnergy}, {"pJ", 1e-12, kEnergy}, {"nJ", 1e-9, kEnergy}, {"uJ", 1e-6, kEnergy}, {"J", 1, kEnergy},
        {"ps", 1e-12, kTime},   {"ns", 1e-9, kTime},    {"us", 1e-6, kTime},   {"ms", 1e-3, kTime},  {"s", 1, kTime},
        {"pW", 1e-12, kPower},  {"nW", 1e-9, kPower},   {"uW", 1e-6, kPower},  {"mW", 1e-3, kPower}, {"W", 1, kPower},
        {"bit", 1, kBits},      {"B", 8, kBits},        {"KiB", 8192, kBits},  {"MiB", 8388608, kBits}, {"1", 1, kDimensionless},
    };
    for (const Base& b : bases)
        if (u == b.name) {
            Quantity q{value * b.scale, b.dim};
            if (!per.empty()) --q.dim.bit;
            return q;
        }
    throw FormulaError("unknown unit '" + unit +
                                "' (one of fJ pJ nJ uJ J, ps ns us ms s, pW nW uW mW W, each optionally /bit; bit B KiB MiB; 1)");
}

namespace {

// Postfix items as the parser emits them: 0 number, 1 name, 2 + 3 - 4 * 5 /.
struct Item {
    int kind;
    double value = 0;
    std::string name;
};

class Parser {
public:
    explicit Parser(const std::string& t) : t_(t) {}

    std::vector<Item> parse() {
        expr();
        skip();
        if (i_ != t_.size()) fail("unexpected '" + std::string(1, t_[i_]) + "'");
        return std::move(out_);
    }

private:
    void expr() {
        term();
        for (skip(); peek('+') || peek('-'); skip()) {
            const int kind = t_[i_++] == '+' ? 2 : 3;
            term();
            out_.push_back({kind, 0, {}});
        }
    }
    void term() {
        factor();
        for (skip(); peek('*') || peek('/'); skip()) {
            const int kind = t_[i_++] == '*' ? 4 : 5;
            factor();
            out_.push_back({kind, 0, {}});
        }
    }
    void factor() {
        skip();
        if (i_ >= t_.size()) fail("expected a number, a name or '('");
        const char c = t_[i_];
        if (c == '(') {
            ++i_;
            expr();
            skip();
            if (!peek(')')) fail("expected ')'");
            ++i_;
        } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            const char* begin = t_.c_str() + i_;
            char* end = nullptr;
            const double v = std::strtod(begin, &end);
            if (end == begin || !std::isfinite(v)) fail("bad number");
            i_ += static_cast<size_t>(end - begin);
            out_.push_back({0, v, {}});
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            const size_t b = i_;
            while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
            out_.push_back({1, 0, t_.substr(b, i_ - b)});
        } else {
            fail("expected a number, a name or '(', found '" + std::string(1, c) + "'");
        }
    }
    void skip() {
        while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    bool peek(char c) const { return i_ < t_.size() && t_[i_] == c; }
    [[noreturn]] void fail(const std::string& what) const {
        throw FormulaError("formula \"" + t_ + "\": " + what + " at character " + std::to_string(i_ + 1));
    }

    const std::string& t_;
    size_t i_ = 0;
    std::vector<Item> out_;
};

}  // namespace

Formula Formula::parse(const std::string& text) {
    Formula f;
    f.text_ = text;
    for (const Item& item : Parser(text).parse()) {
        Op op{static_cast<Op::Kind>(item.kind), item.value};
        if (item.kind == 1) {
            auto it = std::find(f.names_.begin(), f.names_.end(), item.name);
            if (it == f.names_.end()) it = f.names_.insert(f.names_.end(), item.name);
            op.name_index = static_cast<int>(it - f.names_.begin());
        }
        f.program_.push_back(op);
    }
    return f;
}

bool Formula::is_zero() const { return program_.size() == 1 && program_[0].kind == Op::number && program_[0].value == 0; }

Quantity Formula::eval(const std::function<std::optional<Quantity>(const std::string&)>& lookup) const {
    std::vector<Quantity> names(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) {
        const std::optional<Quantity> q = lookup(names_[i]);
        if (!q) throw FormulaError("formula \"" + text_ + "\": unknown name '" + names_[i] + "'");
        names[i] = *q;
    }
    std::vector<Quantity> stack;
    for (const Op& op : program_) {
        if (op.kind == Op::number) {
            stack.push_back({op.value, kDimensionless});
            continue;
        }
        if (op.kind == Op::name) {
            stack.push_back(names[op.name_index]);
            continue;
        }
        const Quantity b = stack.back();
        stack.pop_back();
        Quantity& a = stack.back();
        switch (op.kind) {
            case Op::add:
            case Op::sub:
                if (a.dim != b.dim)
                    throw FormulaError("formula \"" + text_ + "\": adds " + dim_name(a.dim) + " and " +
                                                dim_name(b.dim));
                a.si = op.kind == Op::add ? a.si + b.si : a.si - b.si;
                break;
            case Op::mul:
                a.si *= b.si;
                a.dim = Dim{a.dim.joule + b.dim.joule, a.dim.second + b.dim.second, a.dim.bit + b.dim.bit};
                break;
            case Op::div:
                if (b.si == 0) throw FormulaError("formula \"" + text_ + "\": division by zero");
                a.si /= b.si;
                a.dim = Dim{a.dim.joule - b.dim.joule, a.dim.second - b.dim.second, a.dim.bit - b.dim.bit};
                break;
            default: break;
        }
    }
    return stack.back();
}

}  // namespace qrsim
