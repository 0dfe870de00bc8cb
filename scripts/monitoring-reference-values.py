#!/usr/bin/python3
"""Reference values for the monitoring statistics, computed with Debian's scipy/numpy (python3-scipy).

Writes test/fixtures/monitoring-reference-values.json: fixed inputs (generated here with a seeded numpy
RandomState, rounded so that the JSON round trip is exact) and what scipy says about them. The TypeScript tests
(core/monitoring/*.test.ts) recompute every figure from the same inputs and compare.

Run: /usr/bin/python3 scripts/monitoring-reference-values.py
"""
import json
import math
import os

import numpy as np
from scipy import stats
from scipy.spatial import distance

rng = np.random.RandomState(20261201)
out = {"generator": "scripts/monitoring-reference-values.py", "scipy": __import__("scipy").__version__, "cases": {}}

EPS = 1e-4  # empty-bin share, as Evidently and core/monitoring/drift-statistics.ts use


def psi(ref, cur):
    r = np.asarray(ref, float) / np.sum(ref)
    c = np.asarray(cur, float) / np.sum(cur)
    r = np.where(r == 0, EPS, r)
    c = np.where(c == 0, EPS, c)
    return float(np.sum((c - r) * np.log(c / r)))


# Binned distributions: a reference histogram and three current ones (same, shifted, one empty bin).
ref = [120, 340, 510, 800, 640, 410, 220, 90, 40, 15]
cur_same = [13, 33, 49, 82, 66, 40, 21, 10, 4, 2]
cur_shift = [2, 10, 25, 60, 90, 110, 80, 60, 30, 20]
cur_empty = [0, 30, 55, 90, 60, 40, 20, 10, 5, 0]
binned = {}
for name, cur in [("same", cur_same), ("shift", cur_shift), ("empty", cur_empty)]:
    r = np.asarray(ref, float)
    c = np.asarray(cur, float)
    expected = r / r.sum() * c.sum()
    chi = stats.chisquare(c, expected)
    n, m = r.sum(), c.sum()
    d = float(np.max(np.abs(np.cumsum(r) / n - np.cumsum(c) / m)))
    binned[name] = {
        "reference": ref,
        "current": cur,
        "psi": psi(ref, cur),
        "jensenShannon": float(distance.jensenshannon(r, c, base=2)),
        "chiSquare": {"statistic": float(chi.statistic), "dof": len(ref) - 1, "pValue": float(chi.pvalue)},
        "ks": {"statistic": d, "pValue": float(stats.kstwobign.sf(math.sqrt(n * m / (n + m)) * d))},
    }
out["cases"]["binned"] = binned

# Raw samples for the exact two-sample KS.
a = np.round(rng.normal(0, 1, 400), 4)
b = np.round(rng.normal(0.3, 1.2, 300), 4)
ks = stats.ks_2samp(a, b)
n, m = len(a), len(b)
out["cases"]["ksTwoSample"] = {
    "a": a.tolist(),
    "b": b.tolist(),
    "statistic": float(ks.statistic),
    "pValueAsymptotic": float(stats.kstwobign.sf(math.sqrt(n * m / (n + m)) * ks.statistic)),
}

# Chi² survival at a few points.
out["cases"]["chiSquareSurvival"] = [
    {"x": x, "dof": k, "p": float(stats.chi2.sf(x, k))} for x, k in [(0.5, 1), (3.84, 1), (12.0, 9), (40.0, 9), (150.0, 60), (2.0, 15)]
]
out["cases"]["kolmogorovSurvival"] = [{"x": x, "p": float(stats.kstwobign.sf(x))} for x in [0.3, 0.5, 0.8, 1.0, 1.36, 2.0, 3.0]]

# Ratio study: sale prices and estimates with a regressive pattern (cheap homes over-valued).
price = np.round(np.exp(rng.normal(13, 0.5, 500)), 0)
est = np.round(price * np.exp(rng.normal(0, 0.12, 500)) * (price / np.median(price)) ** -0.08, 0)
ratio = est / price
med = float(np.median(ratio))
cod = float(100 * np.mean(np.abs(ratio - med)) / med)
prd = float(np.mean(ratio) / (np.sum(est) / np.sum(price)))
value = 0.5 * (est / med) + 0.5 * price
lr = stats.linregress(np.log(value) / np.log(2), (ratio - med) / med)
out["cases"]["ratioStudy"] = {
    "price": price.tolist(),
    "estimate": est.tolist(),
    "medianRatio": med,
    "cod": cod,
    "prd": prd,
    "prb": float(lr.slope),
    "prbStdErr": float(lr.stderr),
    "mdape": float(np.median(np.abs(est - price) / price)),
    "within10": float(np.mean(np.abs(est - price) / price <= 0.1)),
}

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "monitoring-reference-values.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(path))
