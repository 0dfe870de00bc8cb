#!/usr/bin/python3
"""Reference values for the paired champion/challenger test and PRB, computed once with Debian's scipy/numpy.

The values it prints are committed in core/monitoring/paired-test.test.ts (the inputs are generated there and
here by the same integer formulas, so no data file is needed). Re-run after changing an input:

    /usr/bin/python3 scripts/monitoring-reference.py
"""
import numpy as np
import scipy
from scipy import stats


def lcg(seed, n):
    """The test's generator (MINSTD, exact in doubles): x(k+1) = 48271 x(k) mod (2^31 - 1), as a fraction of 2^31 - 1."""
    out = []
    for _ in range(n):
        seed = (seed * 48271) % 2147483647
        out.append(seed / 2147483647)
    return out


def show(name, d):
    d = np.asarray(d, float)
    greater = stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="greater", method="approx")
    two = stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="two-sided", method="approx")
    print(f"{name}: n={int(np.sum(d != 0))} W+={float(greater.statistic)!r} p_greater={float(greater.pvalue)!r} "
          f"p_two_sided={float(two.pvalue)!r}")


print("scipy", scipy.__version__, "numpy", np.__version__)
# 1. Continuous differences, a small positive shift: no ties.
u = lcg(7, 300)
show("continuous", [(np.floor(x * 2000000) - 900000) / 1000000 for x in u])
# 2. Differences cut to one decimal: many ties and some zeros.
v = lcg(11, 200)
show("ties", [(np.floor(x * 20) - 9) / 10 for x in v])
# 3. Negative shift: the challenger is worse.
w = lcg(3, 120)
show("worse", [(np.floor(x * 1000000) - 620000) / 1000000 for x in w])
# The normal tail the test's p-values rest on.
for z in [1.959963984540054, -1.6448536269514722, 6.0]:
    print(f"norm.sf({z!r}) = {float(stats.norm.sf(z))!r}")
