// Solves one synapse LP (synapse_fit.hpp) read from JSON, for tests/lp_check.py, which
// compares the optimum with SciPy's HiGHS.
//   in:  {"norm": "l1"|"linf", "r": [[...]], "c": [...], "kind": [0 equal|1 at_most|2 at_least],
//         "lo": [...], "hi": [...]}       (null bounds: unbounded)
//   out: {"w": [...], "objective": x}
#include "learning_rules/synapse_fit.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: lp_fit_solve IN.json OUT.json\n");
        return 2;
    }
    try {
        std::ifstream in(argv[1]);
        const nlohmann::json j = nlohmann::json::parse(in);
        const auto rows = j.at("r").get<std::vector<std::vector<double>>>();
        qrsim::FitProblem p;
        const int n = static_cast<int>(rows.at(0).size());
        p.r.resize(rows.size(), n);
        for (size_t k = 0; k < rows.size(); ++k)
            for (int i = 0; i < n; ++i) p.r(k, i) = rows[k].at(i);
        const auto c = j.at("c").get<std::vector<double>>();
        p.c = Eigen::Map<const Eigen::VectorXd>(c.data(), c.size());
        for (int k : j.at("kind").get<std::vector<int>>()) p.kind.push_back(static_cast<qrsim::RowKind>(k));
        const double inf = std::numeric_limits<double>::infinity();
        p.lo.resize(n);
        p.hi.resize(n);
        for (int i = 0; i < n; ++i) {
            p.lo[i] = j.at("lo")[i].is_null() ? -inf : j.at("lo")[i].get<double>();
            p.hi[i] = j.at("hi")[i].is_null() ? inf : j.at("hi")[i].get<double>();
        }
        const qrsim::LpSolution s = qrsim::solve_lp(p, qrsim::lp_norm_from_string(j.at("norm")));
        std::ofstream(argv[2]) << nlohmann::json{{"w", std::vector<double>(s.w.data(), s.w.data() + s.w.size())},
                                                 {"objective", s.objective}};
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lp_fit_solve: %s\n", e.what());
        return 1;
    }
}
