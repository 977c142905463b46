"""Simulate survey answers from a population model with known truth.

The population model (a YAML file; the default CKM study's is
``ckm_research/data/populations/ckm_study.yaml``, which holds every
population value) is a structural equation model with latent interactions:

1. **Exogenous factors** :math:`\\xi \\sim N(0, \\Phi)` with unit variances
   and the correlations of the file (six organisational conditions, three
   kinds of turbulence, the marker).
2. **Dependent factors**, in causal order,

   .. math::

       \\eta_j = \\sum_k \\beta_{jk}\\,\\eta_k
               + \\sum_{(a,b)} \\omega_{j,ab}\\,(\\eta_a\\eta_b - \\sigma_{ab})
               + \\zeta_j, \\qquad \\zeta_j \\sim N(0, \\psi_j),

   where the interaction is the product of the two *latent* variables,
   centred by its population mean :math:`\\sigma_{ab} = E[\\eta_a\\eta_b]`
   (Kenny & Judd, 1984; Klein & Moosbrugger, 2000), never a product of
   indicators. :math:`\\psi_j` is chosen so that every factor has variance 1,
   so the paths are standardised. The variances that products add are exact:
   for jointly normal centred variables (Isserlis' theorem)
   :math:`\\operatorname{Cov}(XY, ZW) = \\sigma_{XZ}\\sigma_{YW} + \\sigma_{XW}\\sigma_{YZ}`,
   and a product is uncorrelated with every linear term (third moments of a
   normal vector vanish). Interactions must therefore involve factors that
   are themselves linear in normal variables (no product of a product).
3. **Latent responses** of each indicator,
   :math:`y^*_i = \\lambda_i \\eta_{c(i)} + m M + \\varepsilon_i` with a
   common-method factor :math:`M \\sim N(0,1)` on every agreement item and
   :math:`\\operatorname{Var}(\\varepsilon_i) = 1 - \\lambda_i^2 - m^2`, cut into
   the 7 answer categories at the file's thresholds (the usual ordinal-CFA
   data-generating model; Muthén, 1984). Reverse-keyed items are then written
   as respondents answer them: ``lowest + highest - code``.
4. **Respondent behaviour**: attention checks answered correctly (except for a
   small lapse rate), profile answers drawn from the file's distributions,
   completion times log-normal, an optional share of careless respondents
   (straight-lining or random answers, fast), and optional answers missing
   completely at random.

Independent random streams (``numpy.random.SeedSequence(seed).spawn``) drive
the latent scores, measurement errors, attention lapses, profile answers,
careless respondents, durations and missing cells, so that the same seed gives
the same file, and changing ``missing`` or ``careless`` changes nothing else.
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ckm_research.errors import CkmError
from ckm_research.instrument import Instrument, load_instrument

__all__ = [
    "PopulationError",
    "Population",
    "InstrumentPopulation",
    "load_population",
    "simulate",
    "DEFAULT_POPULATION",
    "ID_COLUMN",
    "DURATION_COLUMN",
]

#: The default CKM study's population file.
DEFAULT_POPULATION = Path(__file__).resolve().parent / "populations" / "ckm_study.yaml"

#: Columns of simulated data besides the items.
ID_COLUMN = "respondent"
DURATION_COLUMN = "duration_sec"

_METHOD = "__method__"


class PopulationError(CkmError):
    """A population model file cannot be read or does not fit the instrument."""


# ---------------------------------------------------------------------------
# the file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Block(_Strict):
    factors: list[str] = Field(min_length=2)
    value: float = Field(ge=-1, le=1)


class _Correlations(_Strict):
    default: float = Field(default=0.0, ge=-1, le=1)
    blocks: list[_Block] = Field(default_factory=list)
    pairs: dict[str, float] = Field(default_factory=dict)
    uncorrelated: list[str] = Field(default_factory=list)

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: dict[str, float]) -> dict[str, float]:
        for key, r in value.items():
            if len([p for p in key.split("~~") if p.strip()]) != 2:
                raise ValueError(f"{key!r} is not a pair written 'A ~~ B'")
            if not -1 <= r <= 1:
                raise ValueError(f"the correlation {key!r} = {r} is not in [-1, 1]")
        return value


class _LogNormal(_Strict):
    median: float = Field(gt=0)
    sdlog: float = Field(ge=0)


class _Duration(_Strict):
    attentive: _LogNormal
    careless: _LogNormal


class _Careless(_Strict):
    straightline_share: float = Field(default=0.5, ge=0, le=1)


class Population(_Strict):
    """A population model file (see ``populations/ckm_study.yaml``)."""

    name: str
    instrument: str | None = None
    description: str | None = None
    correlations: _Correlations = Field(default_factory=_Correlations)
    regressions: dict[str, dict[str, float]] = Field(default_factory=dict)
    loadings: dict[str, list[float]]
    method_loading: float = Field(default=0.0, ge=0, lt=1)
    thresholds: list[float] = Field(min_length=1)
    attention_lapse: float = Field(default=0.0, ge=0, le=1)
    careless: _Careless = Field(default_factory=_Careless)
    duration: _Duration | None = None
    profile: dict[str, list[float] | _LogNormal] = Field(default_factory=dict)

    @field_validator("thresholds")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError(f"thresholds must increase: {value}")
        return value


def load_population(path: str | os.PathLike | None = None) -> Population:
    """Read a population model file (default: the CKM study's).

    Raises
    ------
    PopulationError
        The file is missing, not YAML, or breaks the schema; the message
        names the file and the field.
    """
    path = Path(path) if path is not None else DEFAULT_POPULATION
    if not path.is_file():
        raise PopulationError(f"The population file {path} does not exist.")
    from ckm_research.textfile import read_text

    text = read_text(path, what="population file", error=PopulationError)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PopulationError(f"The population file {path} is not valid YAML{where}.") from None
    try:
        return Population.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"field {'.'.join(str(p) for p in err['loc'])!r}: "
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        ]
        raise PopulationError(
            f"Invalid population file {path}: " + "; ".join(problems)
        ) from None


# ---------------------------------------------------------------------------
# the model


@dataclass
class InstrumentPopulation:
    """A population model checked against an instrument, with its exact moments.

    (Named apart from :class:`ckm_research.inference.population.PopulationModel`,
    a population written in lavaan syntax for Monte Carlo power.)

    Build it with :meth:`from_files` or ``InstrumentPopulation(population,
    instrument)``.

    Attributes
    ----------
    exogenous, endogenous : list of str
        Factor names; ``endogenous`` in causal order.
    phi : numpy.ndarray
        Correlation matrix of the exogenous factors.
    residual_variances : dict
        :math:`\\psi_j` of each dependent factor (variance 1 minus explained).
    r_squared : dict
        Share of each dependent factor's variance explained by the model
        (linear and interaction terms).
    """

    population: Population
    instrument: Instrument
    exogenous: list[str] = field(init=False)
    endogenous: list[str] = field(init=False)
    phi: np.ndarray = field(init=False, repr=False)
    residual_variances: dict[str, float] = field(init=False)
    r_squared: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        pop, ins = self.population, self.instrument
        constructs = ins.constructs(include_marker=True)
        where = f"population {pop.name!r}"
        missing = [c for c in constructs if c not in pop.loadings]
        if missing:
            raise PopulationError(
                f"{where}: no loadings for the instrument's construct(s) {', '.join(missing)} "
                f"(field 'loadings')."
            )
        for factor, values in pop.loadings.items():
            if factor not in constructs:
                raise PopulationError(
                    f"{where}: field 'loadings.{factor}': the instrument {ins.id!r} has no "
                    f"construct {factor!r} (constructs: {', '.join(constructs)})."
                )
            items = constructs[factor]
            if len(values) != len(items):
                raise PopulationError(
                    f"{where}: field 'loadings.{factor}' has {len(values)} values but "
                    f"{factor} has {len(items)} items ({', '.join(items)})."
                )
            for item, lam in zip(items, values, strict=True):
                if not 0 < lam**2 + pop.method_loading**2 < 1:
                    raise PopulationError(
                        f"{where}: item {item}: loading {lam} and method loading "
                        f"{pop.method_loading} leave no room for measurement error "
                        "(need loading^2 + method_loading^2 < 1)."
                    )
        agree = [i for i in ins.items() if i.kind != "profile" and i.scale.type == "ordinal"]
        for info in agree:
            n_cat = len(info.scale.codes)
            if len(pop.thresholds) != n_cat - 1:
                raise PopulationError(
                    f"{where}: field 'thresholds' has {len(pop.thresholds)} cut points, but "
                    f"item {info.id} has {n_cat} answers (needs {n_cat - 1})."
                )

        factors = list(constructs)
        for dep, preds in pop.regressions.items():
            for term in [dep, *(p for t in preds for p in t.split(":"))]:
                if term not in factors:
                    raise PopulationError(
                        f"{where}: field 'regressions.{dep}': {term!r} is not a construct of "
                        f"the instrument ({', '.join(factors)})."
                    )
            for term in preds:
                if term.count(":") > 1:
                    raise PopulationError(
                        f"{where}: field 'regressions.{dep}': {term!r}: only two-way "
                        "interactions (A:B) are supported."
                    )
        self.endogenous = self._causal_order(factors)
        self.exogenous = [f for f in factors if f not in self.endogenous]
        self.phi = self._exogenous_correlations()
        self._solve()

    @classmethod
    def from_files(
        cls,
        population: str | os.PathLike | None = None,
        instrument: str | os.PathLike | Instrument | None = None,
    ) -> InstrumentPopulation:
        """Load a population file and its instrument (the file's, unless given)."""
        pop = load_population(population)
        if not isinstance(instrument, Instrument):
            instrument = load_instrument(instrument or pop.instrument)
        return cls(pop, instrument)

    # -- structure ------------------------------------------------------------------------

    def _causal_order(self, factors: list[str]) -> list[str]:
        regs = self.population.regressions
        deps = {d: {p for t in preds for p in t.split(":")} for d, preds in regs.items()}
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            if state.get(node) == 2:
                return
            if state.get(node) == 1:
                cycle = " -> ".join([*path[path.index(node):], node])
                raise PopulationError(
                    f"population {self.population.name!r}: field 'regressions' has a "
                    f"feedback loop ({cycle}); the simulator needs a recursive model."
                )
            state[node] = 1
            for pred in sorted(deps.get(node, ())):
                visit(pred, [*path, node])
            state[node] = 2
            if node in deps:
                order.append(node)

        for factor in factors:
            visit(factor, [])
        return order

    def _exogenous_correlations(self) -> np.ndarray:
        spec = self.population.correlations
        names = self.exogenous
        k = len(names)
        index = {n: i for i, n in enumerate(names)}
        phi = np.full((k, k), spec.default)
        for block in reversed(spec.blocks):  # earlier blocks win
            idx = [index[f] for f in block.factors if f in index]
            for f in block.factors:
                if f not in index:
                    raise PopulationError(
                        f"population {self.population.name!r}: field 'correlations.blocks': "
                        f"{f!r} is not an exogenous factor ({', '.join(names)})."
                    )
            for a in idx:
                for b in idx:
                    phi[a, b] = block.value
        for key, r in spec.pairs.items():
            a, b = (p.strip() for p in key.split("~~"))
            for f in (a, b):
                if f not in index:
                    raise PopulationError(
                        f"population {self.population.name!r}: field 'correlations.pairs' "
                        f"{key!r}: {f!r} is not an exogenous factor ({', '.join(names)})."
                    )
            phi[index[a], index[b]] = phi[index[b], index[a]] = r
        for f in spec.uncorrelated:
            if f not in index:
                raise PopulationError(
                    f"population {self.population.name!r}: field 'correlations.uncorrelated': "
                    f"{f!r} is not an exogenous factor."
                )
            phi[index[f], :] = phi[:, index[f]] = 0.0
        np.fill_diagonal(phi, 1.0)
        if np.linalg.eigvalsh(phi).min() <= 1e-10:
            raise PopulationError(
                f"population {self.population.name!r}: the correlations of the exogenous "
                "factors do not form a positive definite matrix; lower some of them."
            )
        return phi

    def _solve(self) -> None:
        """Residual variances making every factor's variance 1 (exact moments)."""
        kx = len(self.exogenous)
        basis = self.exogenous + [f"zeta_{e}" for e in self.endogenous]
        nb = len(basis)
        sg = np.zeros((nb, nb))
        sg[:kx, :kx] = self.phi
        rep_g = {}
        rep_p: dict[str, dict[tuple[str, str], float]] = {}
        for i, name in enumerate(self.exogenous):
            v = np.zeros(nb)
            v[i] = 1.0
            rep_g[name] = v
            rep_p[name] = {}
        self._rep_g, self._rep_p, self._sg = rep_g, rep_p, sg
        self.residual_variances, self.r_squared = {}, {}
        for j, dep in enumerate(self.endogenous):
            g = np.zeros(nb)
            p: dict[tuple[str, str], float] = {}
            for term, coef in self.population.regressions[dep].items():
                if ":" in term:
                    a, b = term.split(":")
                    for comp in (a, b):
                        if rep_p[comp]:
                            raise PopulationError(
                                f"population {self.population.name!r}: field "
                                f"'regressions.{dep}': {term!r}: {comp} depends on an "
                                "interaction itself; products of non-normal factors are not "
                                "supported."
                            )
                    key = (a, b)
                    p[key] = p.get(key, 0.0) + coef
                else:
                    g += coef * rep_g[term]
                    for key, w in rep_p[term].items():
                        p[key] = p.get(key, 0.0) + coef * w
            explained = g @ sg @ g + self._product_variance(p, p)
            psi = 1.0 - explained
            if psi <= 1e-6:
                raise PopulationError(
                    f"population {self.population.name!r}: field 'regressions.{dep}': the "
                    f"paths explain {explained:.3f} of {dep}'s variance (must be < 1); "
                    "make them smaller."
                )
            z = kx + j
            sg[z, z] = psi
            g[z] = 1.0
            rep_g[dep], rep_p[dep] = g, p
            self.residual_variances[dep] = float(psi)
            self.r_squared[dep] = float(explained)

    def _cov_linear(self, a: str, b: str) -> float:
        return float(self._rep_g[a] @ self._sg @ self._rep_g[b])

    def _product_variance(self, p: dict, q: dict) -> float:
        total = 0.0
        for (a, b), w in p.items():
            for (c, d), v in q.items():
                cov = (self._cov_linear(a, c) * self._cov_linear(b, d)
                       + self._cov_linear(a, d) * self._cov_linear(b, c))
                total += w * v * cov
        return total

    # -- moments ----------------------------------------------------------------------------

    @property
    def factors(self) -> list[str]:
        return self.exogenous + self.endogenous

    def latent_covariance(self) -> pd.DataFrame:
        """Population covariance (= correlation) matrix of all factors."""
        names = self.factors
        out = np.empty((len(names), len(names)))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                out[i, j] = self._cov_linear(a, b) + self._product_variance(
                    self._rep_p[a], self._rep_p[b])
        return pd.DataFrame(out, index=names, columns=names)

    def loadings(self) -> dict[str, tuple[str, float]]:
        """``{item: (factor, standardised loading)}`` for every indicator."""
        out = {}
        for factor, items in self.instrument.constructs(include_marker=True).items():
            for item, lam in zip(items, self.population.loadings[factor], strict=True):
                out[item] = (factor, float(lam))
        return out

    def item_covariance(self) -> pd.DataFrame:
        """Population covariance of the indicators' latent responses :math:`y^*`
        (construct direction, i.e. as after reverse coding), before discretising."""
        load = self.loadings()
        items = list(load)
        cov_eta = self.latent_covariance()
        lam = np.zeros((len(items), len(cov_eta)))
        for i, item in enumerate(items):
            lam[i, cov_eta.index.get_loc(load[item][0])] = load[item][1]
        m = self.population.method_loading
        sigma = lam @ cov_eta.to_numpy() @ lam.T + m * m
        np.fill_diagonal(sigma, 1.0)
        return pd.DataFrame(sigma, index=items, columns=items)

    def summary(self) -> str:
        """The population values as text (for READMEs and reports)."""
        lines = [f"Population {self.population.name!r} (instrument {self.instrument.id!r})",
                 "Structural paths (standardised):"]
        for dep in self.endogenous:
            terms = ", ".join(f"{t} {c:+.2f}" for t, c in self.population.regressions[dep].items())
            lines.append(f"  {dep} <- {terms}   (R2 = {self.r_squared[dep]:.3f}, "
                         f"residual variance {self.residual_variances[dep]:.3f})")
        return "\n".join(lines)

    # -- drawing ----------------------------------------------------------------------------

    def draw_latent(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Latent scores of ``n`` respondents (one column per factor, and the
        method factor under ``"__method__"``)."""
        kx = len(self.exogenous)
        chol = np.linalg.cholesky(self.phi)
        scores = {}
        xi = rng.standard_normal((n, kx)) @ chol.T
        for i, name in enumerate(self.exogenous):
            scores[name] = xi[:, i]
        zeta = rng.standard_normal((n, len(self.endogenous)))
        for j, dep in enumerate(self.endogenous):
            value = np.sqrt(self.residual_variances[dep]) * zeta[:, j]
            for term, coef in self.population.regressions[dep].items():
                if ":" in term:
                    a, b = term.split(":")
                    # the latent product, centred by its population mean E[ab] = cov(a, b)
                    value = value + coef * (scores[a] * scores[b] - self._cov_linear(a, b))
                else:
                    value = value + coef * scores[term]
            scores[dep] = value
        scores[_METHOD] = rng.standard_normal(n)
        return pd.DataFrame(scores)


# ---------------------------------------------------------------------------
# simulate


def _check_rate(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not 0 <= value < 1:
        raise ValueError(
            f"The '{name}' parameter of simulate must be a float in the range [0, 1). "
            f"Got {value!r} instead."
        )
    return float(value)


def _ids(n: int, rng: np.random.Generator) -> list[str]:
    alphabet = np.array(list(string.ascii_letters + string.digits))
    draws = rng.integers(0, len(alphabet), size=(n, 15))
    return ["R_" + "".join(alphabet[row]) for row in draws]


def simulate(
    n: int,
    seed: int,
    *,
    missing: float = 0.0,
    careless: float = 0.0,
    population: str | os.PathLike | Population | None = None,
    instrument: str | os.PathLike | Instrument | None = None,
    return_latent: bool = False,
):
    """Simulate survey answers as respondents give them (raw coding).

    Parameters
    ----------
    n : int
        Number of respondents, in [1, 1_000_000].
    seed : int
        Seed of the random streams: the same seed gives the same data.
    missing : float, default 0
        Share of answers left empty, completely at random (MCAR), in [0, 1).
    careless : float, default 0
        Share of careless respondents (straight-lining or random answering,
        with short completion times), in [0, 1).
    population : path or Population, optional
        The population model (default: the CKM study's,
        ``populations/ckm_study.yaml``).
    instrument : name, path or Instrument, optional
        Default: the instrument the population file names.
    return_latent : bool, default False
        Also return the latent scores and which respondents were careless.

    Returns
    -------
    pandas.DataFrame
        Columns ``respondent`` (an id), ``duration_sec`` and every item of
        the instrument, in questionnaire order, as nullable integers (missing
        answers are ``<NA>``). Reverse-keyed items are as answered (not
        reverse-coded). With ``return_latent=True``: ``(data, latent)``, where
        ``latent`` has one column per factor plus ``careless`` (the kind of
        careless respondent, or empty).

    Examples
    --------
    >>> from ckm_research.data.simulate import simulate
    >>> df = simulate(400, seed=2024, missing=0.01)
    >>> df.shape
    (400, 66)

    In R: ``lavaan::simulateData()`` draws from a lavaan model, without latent
    interactions or respondent behaviour.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 1_000_000:
        raise ValueError(f"The 'n' parameter of simulate must be an int in the range "
                         f"[1, 1000000]. Got {n!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The 'seed' parameter of simulate must be an int in the range "
                         f"[0, inf). Got {seed!r} instead.")
    missing = _check_rate("missing", missing)
    careless = _check_rate("careless", careless)

    pop = population if isinstance(population, Population) else load_population(population)
    if not isinstance(instrument, Instrument):
        instrument = load_instrument(instrument or pop.instrument)
    model = InstrumentPopulation(pop, instrument)

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(8)]
    r_latent, r_error, r_attention, r_profile, r_careless, r_duration, r_missing, r_ids = streams

    latent = model.draw_latent(n, r_latent)
    loadings = model.loadings()
    cuts = np.asarray(pop.thresholds)
    m = pop.method_loading
    items = instrument.items()
    answers: dict[str, np.ndarray] = {}
    errors = r_error.standard_normal((n, len(items)))
    for k, info in enumerate(items):
        if info.kind == "indicator":
            factor, lam = loadings[info.id]
            ystar = (lam * latent[factor].to_numpy() + m * latent[_METHOD].to_numpy()
                     + np.sqrt(1 - lam**2 - m**2) * errors[:, k])
            codes = np.asarray(info.scale.codes)
            code = codes[np.searchsorted(cuts, ystar)]
            if info.reverse:
                code = info.reverse_code(code)
            answers[info.id] = code
        elif info.kind == "attention":
            lapse = r_attention.random(n) < pop.attention_lapse
            random_code = r_attention.choice(info.scale.codes, size=n)
            answers[info.id] = np.where(lapse, random_code, info.expected[0])
        else:
            answers[info.id] = _draw_profile(info, pop.profile.get(info.id), n, r_profile)

    # careless respondents replace their answers on every agreement-type item
    kinds = np.array([""] * n, dtype=object)
    n_careless = int(round(careless * n))
    if n_careless:
        who = np.sort(r_careless.choice(n, size=n_careless, replace=False))
        n_straight = int(round(pop.careless.straightline_share * n_careless))
        kinds[who[:n_straight]] = "straightline"
        kinds[who[n_straight:]] = "random"
        targets = [i for i in items if i.kind != "profile" and i.scale.type == "ordinal"]
        constant = r_careless.integers(0, 10**9, size=n)
        for info in targets:
            codes = np.asarray(info.scale.codes)
            col = answers[info.id].copy()
            straight = kinds == "straightline"
            col[straight] = codes[constant[straight] % len(codes)]
            rand = kinds == "random"
            col[rand] = r_careless.choice(codes, size=int(rand.sum()))
            answers[info.id] = col

    if pop.duration is not None:
        att, car = pop.duration.attentive, pop.duration.careless
        dur = np.exp(np.log(att.median) + att.sdlog * r_duration.standard_normal(n))
        fast = np.exp(np.log(car.median) + car.sdlog * r_duration.standard_normal(n))
        duration = np.where(kinds != "", fast, dur).round().astype(int)
    else:
        duration = None

    data = pd.DataFrame({ID_COLUMN: _ids(n, r_ids)})
    if duration is not None:
        data[DURATION_COLUMN] = pd.array(duration, dtype="Int64")
    for info in items:
        col = pd.array(np.asarray(answers[info.id], dtype=np.int64), dtype="Int64")
        if missing:
            col[r_missing.random(n) < missing] = pd.NA
        data[info.id] = col
    data.attrs["population"] = pop.name
    data.attrs["instrument"] = f"{instrument.id} {instrument.version}"
    if return_latent:
        latent = latent.drop(columns=[_METHOD])
        latent["careless"] = kinds
        return data, latent
    return data


def _draw_profile(info, spec, n: int, rng: np.random.Generator) -> np.ndarray:
    scale = info.scale
    if scale.type == "integer":
        if spec is None:
            return rng.integers(scale.min, scale.max + 1, size=n)
        if not isinstance(spec, _LogNormal):
            raise PopulationError(
                f"field 'profile.{info.id}': a whole-number item takes {{median, sdlog}}, "
                "not a list of probabilities."
            )
        values = np.exp(np.log(spec.median) + spec.sdlog * rng.standard_normal(n))
        return np.clip(values.round(), scale.min, scale.max).astype(int)
    codes = scale.codes
    if spec is None:
        return rng.choice(codes, size=n)
    if isinstance(spec, _LogNormal):
        raise PopulationError(f"field 'profile.{info.id}': give one probability per answer "
                              f"({len(codes)}), not a median.")
    probs = np.asarray(spec, dtype=float)
    if len(probs) != len(codes) or (probs < 0).any() or abs(probs.sum() - 1) > 1e-6:
        raise PopulationError(
            f"field 'profile.{info.id}': give {len(codes)} non-negative probabilities "
            f"summing to 1 (one per answer {codes}); got {list(spec)}."
        )
    return rng.choice(codes, size=n, p=probs / probs.sum())
