// Nelder-Mead simplex minimisation (Nelder & Mead, Computer Journal 7, 1965) of a function
// of N real variables, without derivatives: N + 1 vertices; each iteration replaces the
// worst vertex by its reflection through the centroid of the others, or an expansion or
// contraction along that line, or shrinks every vertex towards the best one. It needs no
// gradient, so it suits costs that are only piecewise smooth (e.g. counts of entries).
// Used to choose the dynapse1 bases at initialisation (constrained_group.cpp).
#pragma once

#include <functional>
#include <vector>

namespace qrsim {

struct NelderMeadOptions {
    double step = 0.5;            // the initial simplex: start, and start + step along each axis
    int max_evaluations = 400;    // of the function, including the N + 1 initial vertices
    double x_tolerance = 1e-4;    // stop when every vertex is within this of the best (max norm)
    double f_tolerance = 1e-10;   // ... and every value within this of the best
};

struct NelderMeadResult {
    std::vector<double> x;  // the best vertex found
    double value = 0;       // f(x)
    int evaluations = 0;
    bool converged = false;  // the tolerances were met before max_evaluations
};

// Minimises f from `start` (N >= 1 coordinates) with the standard coefficients: reflection
// 1, expansion 2, contraction 1/2, shrink 1/2. The result is never worse than f(start).
NelderMeadResult nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                             const std::vector<double>& start, const NelderMeadOptions& options = {});

}  // namespace qrsim
