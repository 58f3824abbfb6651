#!/usr/bin/env python3
"""Write golden fixtures for the report's paired statistics (src/Peft.Host/Reporting) with SciPy.

Usage (from the repository root; Debian's python3-scipy, no PyPI needed)::

    apt-get install -y python3-scipy
    /usr/bin/python3 tools/reference/make_stats_fixtures.py [--out tests/Peft.Tests/Fixtures/stats]

Output ``paired_tests.json`` (all floats written with repr, so they round-trip exactly):

* ``sign_test``: two-sided exact sign test p-values, ``scipy.stats.binomtest(wins, wins + losses, 0.5).pvalue``
  (ties are dropped before, so only wins and losses enter).
* ``wilcoxon``: two-sided Wilcoxon signed-rank p-values for difference vectors, with the statistic
  ``min(R+, R-)`` and the way the p-value was computed.
* ``normal``: ``2 * scipy.stats.norm.sf(z)``, the two-sided normal tail the asymptotic Wilcoxon p-value uses.
* ``student_t``, ``t_quantiles``, ``mean_intervals``: ``scipy.stats.t.cdf``, ``t.ppf`` and the 95% interval of a
  mean, ``t.interval(0.95, n - 1, loc=mean, scale=sem)``, for the report's verdict.

The C# test follows SciPy >= 1.15's ``wilcoxon(d)`` defaults (``zero_method='wilcox'``, ``correction=False``,
``method='auto'``; scipy/stats/_wilcoxon.py since gh-21567): with n = len(d) counting zeros,

* n > 50: normal approximation (zeros dropped, average ranks, tie-corrected variance);
* else no zeros and no ties among |d|: the exact null distribution of R+;
* else n <= 13: an exact permutation test (all 2**n sign flips; average ranks);
* else the normal approximation.

Debian 12 ships SciPy 1.10.1, whose ``method='auto'`` predates that rule (it switches to the approximation on
zeros but keeps the 'exact' branch on ties, truncating a non-integer R+). So this script applies the rule above
itself and asks SciPy 1.10.1 for each branch separately: ``wilcoxon(d, method='exact')``,
``wilcoxon(d, method='approx')`` and ``permutation_test((d,), R+, permutation_type='samples',
n_resamples=inf)`` -- which is exactly what SciPy >= 1.15 does internally. When run with SciPy >= 1.15 the
script also checks each value against plain ``wilcoxon(d).pvalue`` and stops on a mismatch.
"""
import argparse
import json
import os

import numpy as np
import scipy
from scipy import stats

EXACT_MAX = 50
PERMUTATION_MAX = 13


def r_plus(d):
    d = np.asarray(d, dtype=float)
    nz = d[d != 0]
    ranks = stats.rankdata(np.abs(nz))
    return float(np.sum(ranks[nz > 0]))


def wilcoxon_current(d):
    d = np.asarray(d, dtype=float)
    n = len(d)
    nz = d[d != 0]
    has_zeros = len(nz) < n
    has_ties = len(np.unique(np.abs(nz))) < len(nz)
    if n > EXACT_MAX:
        method = "asymptotic"
    elif not (has_zeros or has_ties):
        method = "exact"
    elif n <= PERMUTATION_MAX:
        method = "permutation"
    else:
        method = "asymptotic"

    if method == "exact":
        res = stats.wilcoxon(d, method="exact")
        p = float(res.pvalue)
    elif method == "asymptotic":
        res = stats.wilcoxon(d, method="approx")
        p = float(res.pvalue)
    else:
        perm = stats.permutation_test((d,), r_plus, permutation_type="samples", vectorized=False,
                                      n_resamples=np.inf, alternative="two-sided")
        p = float(perm.pvalue)
    rp = r_plus(d)
    total = len(nz) * (len(nz) + 1) / 2
    statistic = min(rp, total - rp)

    if tuple(int(x) for x in scipy.__version__.split(".")[:2]) >= (1, 15):
        direct = float(stats.wilcoxon(d).pvalue)
        if not np.isclose(direct, p, rtol=1e-12, atol=0):
            raise SystemExit(f"re-statement differs from scipy.stats.wilcoxon for {d.tolist()}: {p} vs {direct}")
    return {"method": method, "statistic": statistic, "pvalue": p}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/Peft.Tests/Fixtures/stats")
    args = ap.parse_args()
    rng = np.random.default_rng(20240611)

    cases = {
        "exact_n5": [1.5, -0.5, 2.25, 3.0, -4.125],
        "exact_all_positive_n8": [0.3, 1.2, 2.2, 0.7, 4.1, 3.3, 5.5, 0.05],
        "exact_centre_n4": [1.0, -2.0, -3.0, 4.0],
        "exact_n10": rng.normal(0.8, 2.0, 10).tolist(),
        "exact_n25": rng.normal(0.5, 2.0, 25).tolist(),
        "exact_n50": rng.normal(0.3, 2.0, 50).tolist(),
        "permutation_ties_n7": [1.0, 1.0, 2.0, -2.0, 3.0, 0.5, -1.0],
        "permutation_zeros_n7": [0.0, 0.0, 1.0, 2.0, -3.0, 4.0, 1.0],
        "permutation_ties_zeros_n13": [0.0, 1.5, -1.5, 2.0, 2.0, 2.0, -0.5, 3.0, 4.0, 4.0, 0.0, 5.0, 6.5],
        "asymptotic_ties_n20": np.round(rng.normal(0.6, 2.0, 20), 0).tolist(),
        "asymptotic_zeros_n30": (np.round(rng.normal(0.4, 1.5, 30), 1) * (rng.random(30) > 0.2)).tolist(),
        "asymptotic_n51": rng.normal(0.2, 2.0, 51).tolist(),
        "asymptotic_ties_n165": np.round(rng.normal(0.7, 3.0, 165), 1).tolist(),
    }
    wilcoxon = []
    for name, d in cases.items():
        d = [float(x) + 0.0 for x in d]  # no negative zeros
        wilcoxon.append({"name": name, "d": d, **wilcoxon_current(d)})

    sign_pairs = [(0, 1), (3, 3), (7, 2), (0, 10), (15, 18), (1, 30), (40, 125), (600, 700), (480, 620), (500, 601)]
    sign_test = [{"wins": w, "losses": l, "pvalue": float(stats.binomtest(w, w + l, 0.5).pvalue)}
                 for w, l in sign_pairs]

    normal = [{"z": z, "two_sided": float(2 * stats.norm.sf(z))}
              for z in [0.0, 0.1, 0.5, 1.0, 1.96, 2.4, 2.6, 3.0, 3.5, 5.0, 8.0, 12.0, 20.0]]

    student_t = [{"df": df, "t": t, "cdf": float(stats.t.cdf(t, df))}
                 for df in [1, 2, 3, 5, 8, 14, 44, 134] for t in [-3.0, -0.5, 0.0, 0.7, 1.5, 2.2, 6.0]]
    t_quantiles = [{"df": df, "p": p, "ppf": float(stats.t.ppf(p, df))}
                   for df in [1, 2, 3, 5, 8, 14, 44, 134] for p in [0.025, 0.5, 0.9, 0.975, 0.995]]
    intervals = []
    for name in ("exact_n5", "exact_n10", "exact_n25", "asymptotic_ties_n165"):
        d = np.asarray(cases[name], dtype=float)
        lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
        intervals.append({"name": name, "low": float(lo), "high": float(hi)})

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "paired_tests.json")
    with open(path, "w") as f:
        json.dump({"scipy_version": scipy.__version__, "numpy_version": np.__version__,
                   "wilcoxon": wilcoxon, "sign_test": sign_test, "normal": normal,
                   "student_t": student_t, "t_quantiles": t_quantiles, "mean_intervals": intervals}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
