#!/usr/bin/python3
"""Checks the synapse LP (synapse_fit.hpp, solved by COIN-OR Clp) against SciPy's HiGHS.

Usage: lp_check.py PATH/TO/lp_fit_solve
Random small problems (L1 and L-infinity, two- and one-sided rows, bounds): the optimum
Clp reports must equal HiGHS's within 1e-6, and Clp's w must be feasible and reach it.
Needs Debian's python3-scipy (run with /usr/bin/python3).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.optimize import linprog

TOL = 1e-6
EQUAL, AT_MOST, AT_LEAST = 0, 1, 2


def objective(norm, r, c, kind, w):
    e = r @ w - c
    e[(kind == AT_MOST) & (e < 0)] = 0
    e[(kind == AT_LEAST) & (e > 0)] = 0
    return np.abs(e).sum() if norm == "l1" else np.abs(e).max()


def highs(norm, r, c, kind, lo, hi):
    """The same LP written out independently: variables w, then the errors."""
    k, n = r.shape
    n_err = k if norm == "l1" else 1
    a, b = [], []
    for i in range(k):
        e = np.zeros(n_err)
        e[i if norm == "l1" else 0] = -1.0
        if kind[i] != AT_LEAST:  # r w - e <= c
            a.append(np.concatenate([r[i], e]))
            b.append(c[i])
        if kind[i] != AT_MOST:  # -(r w) - e <= -c
            a.append(np.concatenate([-r[i], e]))
            b.append(-c[i])
    bounds = [(lo[j], hi[j]) for j in range(n)] + [(0, None)] * n_err
    cost = np.concatenate([np.zeros(n), np.ones(n_err)])
    res = linprog(cost, A_ub=np.array(a), b_ub=np.array(b), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError("HiGHS failed: " + res.message)
    return res.fun


def main():
    solver = sys.argv[1]
    rng = np.random.default_rng(2024)
    failures = 0
    cases = 0
    for norm in ("l1", "linf"):
        for trial in range(6):
            k, n = int(rng.integers(15, 60)), int(rng.integers(2, 9))
            r = rng.uniform(0, 1, (k, n))
            c = rng.normal(0, 1, k)
            kind = rng.choice([EQUAL, EQUAL, AT_MOST, AT_LEAST], k)
            bound = float(rng.uniform(0.2, 2.0))
            lo = [-bound if rng.random() < 0.7 else None for _ in range(n)]
            hi = [bound if rng.random() < 0.7 else None for _ in range(n)]
            problem = {"norm": norm, "r": r.tolist(), "c": c.tolist(), "kind": kind.tolist(), "lo": lo, "hi": hi}
            with tempfile.TemporaryDirectory() as tmp:
                src, dst = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
                with open(src, "w") as f:
                    json.dump(problem, f)
                subprocess.run([solver, src, dst], check=True)
                with open(dst) as f:
                    out = json.load(f)
            w = np.array(out["w"])
            reference = highs(norm, r, c, kind, lo, hi)
            reached = objective(norm, r, c, kind, w)
            feasible = all((lo[j] is None or w[j] >= lo[j] - TOL) and (hi[j] is None or w[j] <= hi[j] + TOL)
                           for j in range(n))
            ok = abs(out["objective"] - reference) <= TOL * max(1.0, abs(reference)) and \
                abs(reached - reference) <= TOL * max(1.0, abs(reference)) and feasible
            cases += 1
            if not ok:
                failures += 1
                print(f"FAIL {norm} trial {trial}: clp {out['objective']:.9g} (w reaches {reached:.9g}, "
                      f"feasible {feasible}), highs {reference:.9g}")
    print(f"lp_check: {cases - failures}/{cases} problems match HiGHS within {TOL}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
