"""Make the CKM-shaped reference data sets and their population model.

Run from the repository root (Python 3.10+, numpy and pandas; about 1 s)::

    python tests/reference/make_data.py           # (re)write the files below
    python tests/reference/make_data.py --check   # regenerate in memory and compare
                                                  # with MANIFEST.json (exit 1 if not)

It writes, under ``tests/reference/data/``:

``ckm_population.json``
    every population value, as rows of lavaan's parameter table
    (``lhs op rhs value``), plus the thresholds used to cut the items;
``ckm_population.lav``
    the same population as a lavaan model with every value fixed (usable with
    ``lavaan::simulateData`` or ``lavaan(..., do.fit = FALSE)``);
``ckm_sim_n500.csv``
    N = 500, the 53 items of ``ckm_research/models/ckm_study.lav`` as 7-point
    Likert answers (1..7);
``ckm_sim_n500_missing.csv``
    the same answers with exactly 7% of the cells (1855 of 26500) blanked,
    missing completely at random;
``ckm_sim_ordinal_n900.csv``
    N = 900 new respondents, the 53 items as 5-point answers (1..5);
``MANIFEST.json``
    the sha256 and size of the data files of the engine fixtures (those above
    and the CSVs that ``tests/reference/R/engine.R`` writes: lavaan's
    ``HolzingerSwineford1939.csv`` and ``PoliticalDemocracy.csv``, and
    ``ecsi_mobi.csv``), checked by ``tests/test_reference_fixtures.py``.
    Rerun this script after ``engine.R`` has rewritten its CSVs.

Data-generating model (the usual latent-response model for Likert items;
Muthén, 1984).  Every latent variable has variance 1, so the population values
are standardized (``std.all``) values:

1. The nine exogenous factors (six organisational conditions, three kinds of
   turbulence) are N(0, Phi) with unit variances and correlations drawn once
   from U(.20, .40) (rounded to .01).
2. ``CKM``, then ``INS``, ``SAT`` and ``LOY`` follow the structural equations of
   the study model with the hand-chosen standardized paths of ``PATHS``
   (.15-.45); each disturbance variance is ``1 - R^2`` (rounded to 1e-6, the
   value used both for simulating and in the files), so the factor variances
   are 1 up to 5e-7.  The disturbances are uncorrelated (in particular
   ``INS ~~ LOY`` is 0; lavaan's ``sem()`` frees that covariance by default).
3. Each item's latent response is ``y* = lambda * factor + e`` with lambda drawn
   once from U(.65, .85) (rounded to .01) and ``Var(e) = 1 - lambda^2``, then cut
   at the item's thresholds: a base set shifted by an item-specific amount
   drawn from U(-.20, .20) (rounded to .01).  The 7-point base thresholds
   (-2.05, -1.45, -0.85, -0.25, 0.45, 1.25) give the agreement-skewed answers
   typical of organisational surveys (mean about 4.6); the 5-point base
   thresholds (-1.75, -0.85, 0.05, 0.95) a milder skew.

For the Likert data analysed as continuous (ML, MLR, FIML), the population
values describe ``y*``; the 1..7 codes only approximate them (discretisation
attenuates correlations slightly).  For the ordinal data with WLSMV (lavaan's
default delta parameterization, ``Var(y*) = 1``), the loadings, paths,
correlations and thresholds are directly the values lavaan's ``std.all`` and
threshold estimates recover.

Random numbers: one ``numpy.random.SeedSequence(SEED)`` spawned into
independent streams (population draws, Likert sample, missing cells, ordinal
sample), standard normals turned into the model's variables by explicit
equations (one 9x9 Cholesky factor), so the same numpy gives the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20251126
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = HERE / "data"
MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"

EXOGENOUS = ("CIP", "TMI", "RTS", "OST", "CUL", "STG", "CTU", "TTU", "CPT")
#: endogenous factors in causal order, each with its standardized paths
PATHS = {
    "CKM": {"CIP": 0.25, "TMI": 0.20, "RTS": 0.15, "OST": 0.15, "CUL": 0.20, "STG": 0.25},
    "INS": {"CKM": 0.40, "CTU": 0.15, "TTU": 0.20, "CPT": 0.15},
    "SAT": {"CKM": 0.35, "CTU": 0.15},
    "LOY": {"SAT": 0.45, "CKM": 0.25},
}
LIKERT7_BASE = (-2.05, -1.45, -0.85, -0.25, 0.45, 1.25)
ORDINAL5_BASE = (-1.75, -0.85, 0.05, 0.95)
N_LIKERT = 500
N_ORDINAL = 900
MISSING_SHARE = 0.07
#: CSVs written by tests/reference/R/engine.R, covered by the manifest too
R_WRITTEN = (
    "HolzingerSwineford1939.csv",
    "PoliticalDemocracy.csv",
    "ecsi_mobi.csv",
    "parity_means_demo_growth.csv",
    "parity_means_demo_growth_missing.csv",
    "parity_fimlx_hs.csv",
    "parity_groups_hs_missing.csv",
    "parity_means_demo_growth_groups.csv",
    "parity_groups_hs_age3.csv",
    "parity_constraints_heywood.csv",
    "parity_weights_hs.csv",
    "parity_weights_hs_missing.csv",
    "parity_ordinal_hs_groups.csv",
    "parity_ordinal_hs_mixed.csv",
    "parity_diagnose_zh.csv",
    "parity_diagnose_x1_100.csv",
    "parity_diagnose_hs15.csv",
    "parity_slopes_weak.csv",
    "parity_modmed.csv",
    "parity_modmed_prod.csv",
    "parity_modmed_missing.csv",
    "parity_modmed_missing_prod.csv",
    "parity_modmed_composite.csv",
    "parity_std_interaction_prod.csv",
)


def read_measurement(path: Path = MODEL) -> dict[str, list[str]]:
    """Factors and their items, in the order of the study model file."""
    factors: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "=~" in line:
            lhs, rhs = line.split("=~")
            factors[lhs.strip()] = [t.strip() for t in rhs.split("+")]
    return factors


def check_structure(factors: dict[str, list[str]]) -> None:
    """The hand-set paths must be exactly the study model's regressions."""
    regs: dict[str, set[str]] = {}
    for line in MODEL.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"(\w+)\s*~\s*(.+)", line)
        if m:
            regs[m.group(1)] = {t.strip() for t in m.group(2).split("+")}
    mine = {k: set(v) for k, v in PATHS.items()}
    if regs != mine:
        raise SystemExit(f"PATHS do not match the study model's regressions: {regs} vs {mine}")
    if set(factors) != set(EXOGENOUS) | set(PATHS):
        raise SystemExit("the study model's factors changed; update EXOGENOUS/PATHS")


def draw_population(rng: np.random.Generator, factors: dict[str, list[str]]) -> dict:
    k = len(EXOGENOUS)
    phi = np.eye(k)
    for i in range(k):
        for j in range(i):
            phi[i, j] = phi[j, i] = round(float(rng.uniform(0.20, 0.40)), 2)
    if np.linalg.eigvalsh(phi).min() <= 0:
        raise SystemExit("exogenous correlation matrix not positive definite")
    items = [it for f in factors for it in factors[f]]
    loadings = {it: round(float(rng.uniform(0.65, 0.85)), 2) for it in items}
    shift7 = {it: round(float(rng.uniform(-0.20, 0.20)), 2) for it in items}
    shift5 = {it: round(float(rng.uniform(-0.20, 0.20)), 2) for it in items}

    # latent covariance matrix, built in causal order; disturbances = 1 - R^2
    names = list(EXOGENOUS)
    cov = phi.copy()
    psi = {}
    for eta, preds in PATHS.items():
        idx = [names.index(p) for p in preds]
        b = np.array(list(preds.values()))
        c = cov[np.ix_(idx, idx)]
        r2 = float(b @ c @ b)
        if not 0 < r2 < 1:
            raise SystemExit(f"R^2 of {eta} is {r2}")
        psi[eta] = round(1.0 - r2, 6)
        cross = b @ cov[idx, :]
        cov = np.block([[cov, cross[:, None]], [cross[None, :], np.array([[r2 + psi[eta]]])]])
        names.append(eta)
    return {
        "phi": phi,
        "psi": psi,
        "loadings": loadings,
        "thresholds7": {it: [round(t + shift7[it], 2) for t in LIKERT7_BASE] for it in items},
        "thresholds5": {it: [round(t + shift5[it], 2) for t in ORDINAL5_BASE] for it in items},
        "latent_cov": (names, cov),
    }


def simulate_ystar(rng: np.random.Generator, pop: dict, factors: dict, n: int) -> pd.DataFrame:
    """Continuous latent responses y*, by the structural equations."""
    z = rng.standard_normal((n, len(EXOGENOUS)))
    lat = dict(zip(EXOGENOUS, (z @ np.linalg.cholesky(pop["phi"]).T).T, strict=True))
    zeta = rng.standard_normal((n, len(PATHS)))
    for j, (eta, preds) in enumerate(PATHS.items()):
        lat[eta] = sum(b * lat[p] for p, b in preds.items()) + np.sqrt(pop["psi"][eta]) * zeta[:, j]
    items = [it for f in factors for it in factors[f]]
    e = rng.standard_normal((n, len(items)))
    out = {}
    k = 0
    for f, its in factors.items():
        for it in its:
            lam = pop["loadings"][it]
            out[it] = lam * lat[f] + np.sqrt(1.0 - lam * lam) * e[:, k]
            k += 1
    return pd.DataFrame(out)


def discretise(ystar: pd.DataFrame, thresholds: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: np.searchsorted(np.array(thresholds[c]), ystar[c].to_numpy()) + 1 for c in ystar},
        dtype="int64",
    )


def blank_mcar(rng: np.random.Generator, d: pd.DataFrame, share: float) -> pd.DataFrame:
    n, p = d.shape
    k = round(share * n * p)
    cells = rng.permutation(n * p)[:k]
    mask = np.zeros(n * p, dtype=bool)
    mask[cells] = True
    out = d.astype("Int64")
    return out.mask(mask.reshape(n, p))


def population_table(pop: dict, factors: dict) -> list[dict]:
    rows = []
    for f, its in factors.items():
        rows += [{"lhs": f, "op": "=~", "rhs": it, "value": pop["loadings"][it]} for it in its]
    for eta, preds in PATHS.items():
        rows += [{"lhs": eta, "op": "~", "rhs": p, "value": b} for p, b in preds.items()]
    for i, a in enumerate(EXOGENOUS):
        for j in range(i, len(EXOGENOUS)):
            value = float(pop["phi"][i, j])
            rows.append({"lhs": a, "op": "~~", "rhs": EXOGENOUS[j], "value": value})
    for eta in PATHS:
        rows.append({"lhs": eta, "op": "~~", "rhs": eta, "value": pop["psi"][eta]})
    endo = list(PATHS)
    for i, a in enumerate(endo):
        for b in endo[i + 1 :]:
            rows.append({"lhs": a, "op": "~~", "rhs": b, "value": 0.0})
    for its in factors.values():
        for it in its:
            lam = pop["loadings"][it]
            rows.append({"lhs": it, "op": "~~", "rhs": it, "value": round(1.0 - lam * lam, 4)})
    return rows


def threshold_table(th: dict[str, list[float]]) -> list[dict]:
    return [
        {"lhs": it, "op": "|", "rhs": f"t{k + 1}", "value": t}
        for it, ts in th.items()
        for k, t in enumerate(ts)
    ]


def population_lav(rows: list[dict]) -> str:
    def num(v: float) -> str:
        return repr(float(v))

    lines = [
        "# Population model of tests/reference/data/ckm_sim_*.csv (made by",
        "# tests/reference/make_data.py): every value fixed, all latent variances 1,",
        "# the metric of the items' latent responses y* (variance 1).",
        "# Thresholds are in ckm_population.json (7-point and 5-point sets).",
    ]
    by = {}
    for r in rows:
        by.setdefault((r["lhs"], r["op"]), []).append(r)
    lines.append("# measurement")
    for (lhs, op), rs in by.items():
        if op == "=~":
            lines.append(f"{lhs} =~ " + " + ".join(f"{num(r['value'])}*{r['rhs']}" for r in rs))
    lines.append("# structural paths")
    for (lhs, op), rs in by.items():
        if op == "~":
            lines.append(f"{lhs} ~ " + " + ".join(f"{num(r['value'])}*{r['rhs']}" for r in rs))
    lines.append("# factor (co)variances, disturbance variances, residual variances")
    for r in rows:
        if r["op"] == "~~":
            lines.append(f"{r['lhs']} ~~ {num(r['value'])}*{r['rhs']}")
    return "\n".join(lines) + "\n"


def csv_text(d: pd.DataFrame) -> str:
    buf = io.StringIO()
    d.to_csv(buf, index=False, na_rep="", lineterminator="\n")
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build() -> dict[str, str]:
    """All files this script owns, as {name: text}."""
    factors = read_measurement()
    check_structure(factors)
    s_pop, s_likert, s_missing, s_ordinal = (
        np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(4)
    )
    pop = draw_population(s_pop, factors)
    rows = population_table(pop, factors)

    likert = discretise(simulate_ystar(s_likert, pop, factors, N_LIKERT), pop["thresholds7"])
    missing = blank_mcar(s_missing, likert, MISSING_SHARE)
    ordinal = discretise(simulate_ystar(s_ordinal, pop, factors, N_ORDINAL), pop["thresholds5"])
    for name, d, k in (("Likert", likert, 7), ("ordinal", ordinal, 5)):
        counts = d.apply(lambda c, k=k: c.value_counts().reindex(range(1, k + 1)).fillna(0))
        if (counts.to_numpy() == 0).any():
            raise SystemExit(f"an answer category of the {name} data is empty; change SEED")

    names, lcov = pop["latent_cov"]
    meta = {
        "description": (
            "Population values of the CKM-shaped reference data (tests/reference/make_data.py). "
            "Standardized metric: every latent variable and every item's latent response y* has "
            "variance 1. 'parameters' are rows of lavaan's parameter table; 'thresholds_likert7' "
            "cut y* into the 1..7 answers of ckm_sim_n500*.csv, 'thresholds_ordinal5' into the "
            "1..5 answers of ckm_sim_ordinal_n900.csv."
        ),
        "seed": SEED,
        "model": "ckm_research/models/ckm_study.lav",
        "files": {
            "ckm_sim_n500.csv": {
                "n": N_LIKERT,
                "categories": 7,
                "thresholds": "thresholds_likert7",
            },
            "ckm_sim_n500_missing.csv": {
                "n": N_LIKERT,
                "categories": 7,
                "thresholds": "thresholds_likert7",
                "missing_cells": int(missing.isna().to_numpy().sum()),
                "missing_share": MISSING_SHARE,
                "mechanism": "MCAR, exactly round(0.07 * N * 53) cells chosen at random",
            },
            "ckm_sim_ordinal_n900.csv": {
                "n": N_ORDINAL,
                "categories": 5,
                "thresholds": "thresholds_ordinal5",
            },
        },
        "parameters": rows,
        "thresholds_likert7": threshold_table(pop["thresholds7"]),
        "thresholds_ordinal5": threshold_table(pop["thresholds5"]),
        "r2": {eta: round(1.0 - pop["psi"][eta], 6) for eta in PATHS},
        "latent_correlations": {
            "names": names,
            "matrix": [[round(float(v), 12) for v in row] for row in lcov],
        },
    }
    return {
        "ckm_population.json": json.dumps(meta, indent=1) + "\n",
        "ckm_population.lav": population_lav(rows),
        "ckm_sim_n500.csv": csv_text(likert),
        "ckm_sim_n500_missing.csv": csv_text(missing),
        "ckm_sim_ordinal_n900.csv": csv_text(ordinal),
    }


def manifest(files: dict[str, bytes]) -> dict:
    return {
        "description": (
            "sha256 of the data files of the engine fixtures (made by "
            "tests/reference/make_data.py and tests/reference/R/engine.R). Update with: "
            "python tests/reference/make_data.py (after engine.R)."
        ),
        "files": {
            name: {"sha256": sha256(b), "bytes": len(b)} for name, b in sorted(files.items())
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--check",
        action="store_true",
        help="regenerate in memory and compare with the files on disk",
    )
    args = ap.parse_args(argv)
    out = {k: v.encode() for k, v in build().items()}
    if args.check:
        bad = [k for k, v in out.items() if not (DATA / k).exists() or (DATA / k).read_bytes() != v]
        for k in bad:
            print(f"differs from a fresh regeneration: tests/reference/data/{k}", file=sys.stderr)
        print("ok" if not bad else f"{len(bad)} file(s) differ")
        return 1 if bad else 0
    DATA.mkdir(parents=True, exist_ok=True)
    for k, v in out.items():
        (DATA / k).write_bytes(v)
    csvs = {k: v for k, v in out.items() if k.endswith(".csv")}
    for k in R_WRITTEN:
        if (DATA / k).exists():
            csvs[k] = (DATA / k).read_bytes()
        else:
            print(f"note: {k} is absent (run Rscript tests/reference/make_reference.R engine)")
    (DATA / "MANIFEST.json").write_text(json.dumps(manifest(csvs), indent=1) + "\n")
    for k, v in out.items():
        print(f"wrote tests/reference/data/{k} ({len(v):,} bytes)")
    print(f"wrote tests/reference/data/MANIFEST.json ({len(csvs)} CSV files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
