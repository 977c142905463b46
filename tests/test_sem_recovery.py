"""Parameter recovery: data simulated from known population values.

Estimates must be unbiased and their 95 % confidence intervals must cover the
population values at the nominal rate (checked with a binomial tolerance).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ckm_research import fit
from ckm_research.sem.model import RAMModel
from ckm_research.sem.partable import build_partable

POPULATION = """
F1 =~ 1*y1 + 0.8*y2 + 1.2*y3
F2 =~ 1*y4 + 0.9*y5 + 0.7*y6
F2 ~ 0.5*F1
F1 ~~ 1.0*F1
F2 ~~ 0.75*F2
y1 ~~ 0.5*y1
y2 ~~ 0.6*y2
y3 ~~ 0.4*y3
y4 ~~ 0.5*y4
y5 ~~ 0.7*y5
y6 ~~ 0.8*y6
"""
ANALYSIS = """
F1 =~ y1 + y2 + y3
F2 =~ y4 + y5 + y6
F2 ~ F1
"""


def _population():
    pt = build_partable(POPULATION)
    model = RAMModel(pt)
    sigma, _ = model.implied(np.zeros(model.n_free))
    truth = {
        (r.lhs, r.op, r.rhs): r.ustart
        for r in pt.table.itertuples(index=False)
        if r.op in ("=~", "~", "~~")
        and not (r.op == "=~" and r.ustart == 1.0 and r.rhs in ("y1", "y4"))
    }
    return model.ov, sigma, truth


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_ci_coverage_at_nominal_rate(estimator):
    ov, sigma, truth = _population()
    rng = np.random.default_rng(20261126)
    reps, n = 150, 400
    hits, count = 0, 0
    bias = {k: [] for k in truth}
    for _ in range(reps):
        x = rng.multivariate_normal(np.zeros(len(ov)), sigma, size=n)
        res = fit(ANALYSIS, pd.DataFrame(x, columns=ov), estimator=estimator)
        est = res.estimates.set_index(["lhs", "op", "rhs"])
        for key, value in truth.items():
            row = est.loc[key]
            hits += int(row["ci.lower"] <= value <= row["ci.upper"])
            count += 1
            bias[key].append(row["est"] - value)
    rate = hits / count
    # replications are not independent across parameters; allow a generous band
    lo, hi = stats.binom.ppf([0.0005, 0.9995], count, 0.95) / count
    assert lo - 0.01 <= rate <= hi + 0.01, rate
    for key, b in bias.items():
        b = np.asarray(b)
        assert abs(b.mean()) < 3 * b.std(ddof=1) / np.sqrt(len(b)) + 0.01, key
