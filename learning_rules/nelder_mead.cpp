// Nelder-Mead simplex minimisation; see the header.
#include "learning_rules/nelder_mead.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace qrsim {

NelderMeadResult nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                             const std::vector<double>& start, const NelderMeadOptions& options) {
    const size_t n = start.size();
    if (n == 0) throw std::invalid_argument("nelder_mead: no variables");
    constexpr double kReflect = 1.0, kExpand = 2.0, kContract = 0.5, kShrink = 0.5;

    NelderMeadResult result;
    auto eval = [&](const std::vector<double>& x) {
        ++result.evaluations;
        const double v = f(x);
        return std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
    };
    // x = a + t (b - a), the points every step below tries.
    auto along = [](const std::vector<double>& a, const std::vector<double>& b, double t) {
        std::vector<double> x(a.size());
        for (size_t i = 0; i < a.size(); ++i) x[i] = a[i] + t * (b[i] - a[i]);
        return x;
    };

    std::vector<std::vector<double>> vertex(n + 1, start);
    std::vector<double> value(n + 1);
    for (size_t i = 0; i < n; ++i) vertex[i + 1][i] += options.step;
    for (size_t i = 0; i <= n; ++i) value[i] = eval(vertex[i]);

    std::vector<size_t> order(n + 1);
    while (true) {
        // Best first, worst last.
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return value[a] < value[b]; });
        const size_t best = order.front(), worst = order.back(), second_worst = order[n - 1];

        double x_spread = 0, f_spread = 0;
        for (size_t i = 0; i <= n; ++i) {
            for (size_t d = 0; d < n; ++d) x_spread = std::max(x_spread, std::abs(vertex[i][d] - vertex[best][d]));
            f_spread = std::max(f_spread, std::abs(value[i] - value[best]));
        }
        result.converged = x_spread <= options.x_tolerance && f_spread <= options.f_tolerance;
        if (result.converged || result.evaluations >= options.max_evaluations) break;

        std::vector<double> centroid(n, 0.0);  // of all vertices but the worst
        for (size_t i = 0; i <= n; ++i)
            if (i != worst)
                for (size_t d = 0; d < n; ++d) centroid[d] += vertex[i][d] / static_cast<double>(n);

        // Reflect the worst vertex through the centroid.
        const std::vector<double> reflected = along(centroid, vertex[worst], -kReflect);
        const double f_reflected = eval(reflected);
        if (f_reflected < value[best]) {
            // Better than the best: try going twice as far.
            std::vector<double> expanded = along(centroid, reflected, kExpand);
            const double f_expanded = eval(expanded);
            if (f_expanded < f_reflected) {
                vertex[worst] = std::move(expanded);
                value[worst] = f_expanded;
            } else {
                vertex[worst] = reflected;
                value[worst] = f_reflected;
            }
            continue;
        }
        if (f_reflected < value[second_worst]) {
            vertex[worst] = reflected;
            value[worst] = f_reflected;
            continue;
        }
        // Contract: outside (towards the reflection) if it beat the worst, else inside.
        const bool outside = f_reflected < value[worst];
        std::vector<double> contracted = along(centroid, outside ? reflected : vertex[worst], kContract);
        const double f_contracted = eval(contracted);
        if (outside ? f_contracted <= f_reflected : f_contracted < value[worst]) {
            vertex[worst] = std::move(contracted);
            value[worst] = f_contracted;
            continue;
        }
        // Nothing along the line helped: shrink every vertex halfway towards the best.
        for (size_t i = 0; i <= n; ++i) {
            if (i == best) continue;
            vertex[i] = along(vertex[best], vertex[i], kShrink);
            value[i] = eval(vertex[i]);
        }
    }
    const size_t best = order.front();
    result.x = vertex[best];
    result.value = value[best];
    return result;
}

}  // namespace qrsim
