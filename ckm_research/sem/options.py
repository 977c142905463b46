"""The options of :func:`ckm_research.fit`, validated once (issue 10).

:func:`ckm_research.fit` takes lavaan's options as keywords (lavaan's dotted
names written with ``_``); :meth:`FitOptions.from_kwargs` turns them into one
frozen :class:`FitOptions`, which is what every other part of the package
passes on (the interaction methods, :func:`ckm_research.growth`, the
bootstrap, the power analysis, the engines as ``engine.opts``).  Changes are
made with :func:`dataclasses.replace`, never by re-typing keyword lists.

Where each option is checked:

* :meth:`FitOptions.from_kwargs`: the type and value of every option, with one
  phrasing (``The 'X' parameter of fit must be ... Got ... instead.``, as
  scikit-learn's parameter validation), lavaan options ``fit()`` does not
  support (:data:`LAVAAN_REFUSED`) and ``cluster``; it resolves the estimator
  alias ``'FIML'`` (lavaan: ``estimator = "ML", missing = "ml"``) and the
  defaults of ``missing``, ``fixed.x`` and ``meanstructure``, as lavaan's
  ``lav_options_set`` does.
* :meth:`FitOptions.check_ordered`: the combinations of ``missing`` with
  ordered items and with the estimators that need complete data, once the
  ordered items of the model are known.
* The names in ``ordered``, ``group``, ``group_equal``, ``group_partial`` and
  ``sampling_weights`` are checked against the model and data where those are
  read (:mod:`ckm_research.sem.api`, :mod:`ckm_research.sem.partable`,
  :mod:`ckm_research.sem.weights`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ckm_research.errors import CkmError, ModelSpecificationError
from ckm_research.sem.estimators import ESTIMATORS, NOT_SUPPORTED, check_estimator, estimator_spec

__all__ = ["FitOptions", "FIT_PARAMETERS", "LAVAAN_REFUSED", "param_error"]

#: the parameters of :func:`ckm_research.fit`, in its order (the list an unknown option's
#: message shows)
FIT_PARAMETERS: tuple[str, ...] = (
    "model", "data", "estimator", "ordered", "group", "group_equal", "std_lv",
    "missing_values", "level", "control", "interaction", "fixed_x", "missing",
    "meanstructure", "orthogonal", "std_ov", "int_ov_free", "int_lv_free", "group_partial",
    "cluster", "sampling_weights", "parameterization",
)  # fmt: skip

#: the latent-interaction methods of ``interaction=`` (:mod:`ckm_research.moderation.dispatch`)
INTERACTION_METHODS = ("dblcent", "lms", "qml")

#: lavaan's ``missing`` values that ckm-research does not support
_MISSING_REFUSED = (
    "pairwise", "available.cases", "two.stage", "robust.two.stage", "doubly.robust", "ml.v",
)  # fmt: skip

#: estimator aliases: name -> (lavaan estimator, lavaan missing)
_ALIASES = {"FIML": ("ML", "ml")}


def param_error(name: str, allowed: str, got: Any, fn: str = "fit") -> CkmError:
    """The one phrasing of a bad parameter value (scikit-learn's).

    ``The 'level' parameter of fit must be a float in the range (0, 1). Got 2 instead.``
    """
    return CkmError(f"The '{name}' parameter of {fn} must be {allowed}. Got {got!r} instead.")


@dataclass(frozen=True)
class FitOptions:
    """Every option of :func:`ckm_research.fit`, validated, with lavaan's defaults resolved.

    Build it with :meth:`from_kwargs` (the keywords of ``fit()``); change it with
    :func:`dataclasses.replace`.  The engines carry a copy whose model-dependent
    values are resolved too (``engine.opts``: ``ordered`` as the model's ordered
    items, ``meanstructure`` as fitted, ``group_equal`` with lavaan's implied
    ``thresholds``/``intercepts``, ``estimator='MLR'`` with sampling weights).

    Attributes
    ----------
    estimator : str
        lavaan's ``estimator`` (upper case; one of
        :data:`~ckm_research.sem.estimators.ESTIMATORS` except the alias
        ``'FIML'``, which becomes ``estimator='ML'``, ``missing='ml'``).
    estimator_alias : str or None
        The alias the estimator was given as (``'FIML'``); the results report it
        as ``res.estimator``.
    ordered : tuple of str or 'all'
        lavaan's ``ordered``: the ordered items, ``'all'`` for every observed
        variable, ``()`` for none.
    group : str or None
        lavaan's ``group``.
    group_equal : tuple of str
        lavaan's ``group.equal``.
    std_lv : bool
        lavaan's ``std.lv``.
    missing_values : tuple or None
        Codes read as missing when the data are read (no lavaan equivalent;
        R's ``na.strings``).
    level : float
        Confidence level of the intervals (lavaan's ``parameterEstimates(level = )``).
    iter_max : int
        lavaan's ``control = list(iter.max = )``.
    interaction : {'dblcent', 'lms', 'qml'} or None
        Method for latent product terms (modsem's ``method``).
    fixed_x : bool
        lavaan's ``fixed.x`` (default: ``True``, ``False`` for GLS/ULS/WLS/DWLS
        of continuous items, as lavaan).
    missing : {'listwise', 'ml', 'ml.x'}
        lavaan's ``missing`` (default ``'listwise'``; ``'ml'`` for ``'FIML'``).
    meanstructure : bool
        lavaan's ``meanstructure``; ``False`` is lavaan's ``"default"`` (a mean
        structure where the model needs one, decided when the model is built).
    orthogonal, std_ov, int_ov_free, int_lv_free : bool
        lavaan's ``orthogonal``, ``std.ov``, ``int.ov.free``, ``int.lv.free``.
    group_partial : tuple of str
        lavaan's ``group.partial``.
    sampling_weights : str or None
        lavaan's ``sampling.weights``.
    parameterization : {'delta', 'theta'}
        lavaan's ``parameterization``.
    """

    estimator: str = "ML"
    ordered: tuple[str, ...] | str = ()
    group: str | None = None
    group_equal: tuple[str, ...] = ()
    std_lv: bool = False
    missing_values: tuple | None = None
    level: float = 0.95
    iter_max: int = 500
    interaction: str | None = None
    fixed_x: bool = True
    missing: str = "listwise"
    meanstructure: bool = False
    orthogonal: bool = False
    std_ov: bool = False
    int_ov_free: bool = True
    int_lv_free: bool = False
    group_partial: tuple[str, ...] = ()
    sampling_weights: str | None = None
    parameterization: str = "delta"
    estimator_alias: str | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> FitOptions:
        """Validate the keywords of :func:`ckm_research.fit` and resolve lavaan's defaults.

        Parameters
        ----------
        **kwargs
            Any keyword of :func:`ckm_research.fit` except ``model`` and ``data``
            (omitted ones take fit()'s defaults).  A lavaan option fit() does
            not take is refused naming it and what to do instead.

        Returns
        -------
        FitOptions

        Raises
        ------
        ckm_research.errors.CkmError
            ``The 'X' parameter of fit must be ... Got ... instead.`` for a bad
            value; a :class:`~ckm_research.errors.ModelSpecificationError` for
            ``cluster``.

        Examples
        --------
        >>> from ckm_research.sem.options import FitOptions
        >>> opts = FitOptions.from_kwargs(estimator="FIML")
        >>> opts.estimator, opts.missing, opts.label
        ('ML', 'ml', 'FIML')
        >>> FitOptions.from_kwargs(estimator="ULS").fixed_x  # lavaan's default for ULS
        False

        In R: ``lavOptions()`` and ``lavInspect(fit, "options")``.
        """
        kw = dict(kwargs)
        estimator = kw.pop("estimator", "ML")
        known = {p: kw.pop(p) for p in FIT_PARAMETERS[3:] if p in kw}
        # 1. the estimator (a lavaan estimator not supported yet says what to use)
        if not isinstance(estimator, str) or estimator.upper() not in ESTIMATORS:
            if isinstance(estimator, str) and estimator.upper() in NOT_SUPPORTED:
                check_estimator(estimator, ordered=False)  # names it and says what to use
            raise param_error(
                "estimator", "one of " + ", ".join(f"'{e}'" for e in ESTIMATORS), estimator
            )
        estimator = estimator.upper()
        # 2. lavaan options fit() does not take
        if kw:
            refuse_lavaan_options(kw)
        cluster = known.get("cluster")
        if cluster is not None:
            raise ModelSpecificationError(
                f"cluster={cluster!r}: clustered data (lavaan's cluster =, for cluster-robust "
                "standard errors or a two-level SEM with level: blocks) are not supported by "
                "ckm-research. Fit the model in lavaan (sem(model, data, cluster = ...)) or in "
                "Mplus (TYPE = COMPLEX or TWOLEVEL)."
            )
        # 3. values
        level = known.get("level", 0.95)
        if not (isinstance(level, float) and 0 < level < 1):
            raise param_error("level", "a float in the range (0, 1)", level)
        parameterization = known.get("parameterization", "delta")
        if parameterization not in ("delta", "theta"):
            raise param_error("parameterization", "one of 'delta', 'theta'", parameterization)
        meanstructure = known.get("meanstructure")
        if meanstructure is not None and not isinstance(meanstructure, (bool, np.bool_)):
            raise param_error("meanstructure", "a bool or None", meanstructure)
        flags = {}
        for name, default in (
            ("orthogonal", False),
            ("std_ov", False),
            ("int_ov_free", True),
            ("int_lv_free", False),
        ):
            value = known.get(name, default)
            if not isinstance(value, (bool, np.bool_)):
                raise param_error(name, "a bool", value)
            flags[name] = bool(value)
        interaction = known.get("interaction")
        if interaction is not None and (
            not isinstance(interaction, str) or interaction.lower() not in INTERACTION_METHODS
        ):
            raise param_error(
                "interaction",
                "one of " + ", ".join(f"'{m}'" for m in INTERACTION_METHODS) + " or None",
                interaction,
            )
        for name in ("std_lv", "fixed_x"):
            value = known.get(name)
            if value is not None and not isinstance(value, (bool, np.bool_)):
                raise param_error(name, "a bool" + (" or None" if name == "fixed_x" else ""), value)
        for name in ("group", "sampling_weights"):
            value = known.get(name)
            if value is not None and not isinstance(value, str):
                raise param_error(name, "a column name (str) or None", value)
        iter_max = _iter_max(known.get("control"))
        ordered = _normalize_ordered(known.get("ordered"))
        group_equal = _names("group_equal", known.get("group_equal", ()))
        group_partial = _names("group_partial", known.get("group_partial", ()))
        missing_values = known.get("missing_values")
        if isinstance(missing_values, (list, tuple, set, np.ndarray)):
            missing_values = tuple(missing_values)
        # 4. estimator and missing: lavaan's two options, "FIML" an alias of both
        alias = None
        missing = known.get("missing")
        if estimator in _ALIASES:
            alias = estimator
            estimator, alias_missing = _ALIASES[alias]
            if missing is None:
                missing = alias_missing
        elif missing is None:
            missing = "listwise"
        if missing in _MISSING_REFUSED:
            raise CkmError(
                f"lavaan's missing={missing!r} is not supported by ckm-research; use "
                "missing='ml' (FIML, estimator='MLR' for robust SEs), or missing='listwise'"
            )
        if missing not in ("listwise", "ml", "ml.x"):
            raise param_error("missing", "one of 'listwise', 'ml', 'ml.x'", missing)
        if alias == "FIML" and missing == "listwise":
            raise CkmError("estimator='FIML' is ML with missing='ml'; drop missing='listwise'")
        # 5. lavaan's defaults that follow from other options
        fixed_x = known.get("fixed_x")
        if fixed_x is None:  # lavaan's default: fixed.x = FALSE for GLS/ULS/WLS/DWLS
            fixed_x = estimator_spec(estimator).fitted_by == "ML" or bool(ordered)
        return cls(
            estimator=estimator,
            ordered=ordered,
            group=known.get("group"),
            group_equal=group_equal,
            std_lv=bool(known.get("std_lv", False)),
            missing_values=missing_values,
            level=level,
            iter_max=iter_max,
            interaction=None if interaction is None else interaction.lower(),
            fixed_x=bool(fixed_x),
            missing=missing,
            meanstructure=bool(meanstructure),  # None (lavaan's "default") and False alike
            group_partial=group_partial,
            sampling_weights=known.get("sampling_weights"),
            parameterization=parameterization,
            estimator_alias=alias,
            **flags,
        )

    def check_ordered(self, ordered: tuple[str, ...]) -> None:
        """Refuse ``missing`` where the model's items or the estimator need complete data.

        Called when the ordered items of the model are known (after the
        estimator was checked against them), as lavaan refuses these
        combinations.

        Raises
        ------
        ckm_research.errors.CkmError
        """
        spec = estimator_spec(self.estimator)
        if ordered and self.missing != "listwise":
            raise CkmError(
                f"missing={self.missing!r} is not available with {self.label} (lavaan uses "
                "listwise or pairwise deletion there); use estimator='MLR', missing='ml' instead"
            )
        if (spec.se == "robust.sem" or spec.fitted_by != "ML") and self.missing != "listwise":
            raise CkmError(
                f"missing={self.missing!r} is not allowed for estimator '{self.label}' (as in "
                "lavaan): it needs complete data; use estimator='MLR', missing='ml' instead"
            )

    # ------------------------------------------------------------------ use
    @property
    def label(self) -> str:
        """The estimator's name as given (``'FIML'`` for the alias), as results report it."""
        return self.estimator_alias or self.estimator

    @property
    def control(self) -> dict[str, int]:
        """lavaan's ``control``: ``{"iter.max": iter_max}``."""
        return {"iter.max": int(self.iter_max)}

    def to_kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`ckm_research.fit` that give these options back.

        ``FitOptions.from_kwargs(**opts.to_kwargs()) == opts`` (for options
        built by :meth:`from_kwargs`).
        """
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.pop("estimator_alias")
        out.pop("iter_max")
        out["control"] = self.control
        if self.estimator_alias is not None:
            out["estimator"] = self.estimator_alias
        return out

    def replace(self, **changes: Any) -> FitOptions:
        """:func:`dataclasses.replace` (no validation: the caller knows the values)."""
        return dataclasses.replace(self, **changes)


def _iter_max(control) -> int:
    if control is not None and not isinstance(control, dict):
        raise param_error("control", "a dict such as {'iter.max': 500} or None", control)
    control = dict(control or {})
    if set(control) - {"iter.max"}:
        raise param_error("control", "a dict with the key 'iter.max' only", control)
    value = control.get("iter.max", 500)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise param_error("control['iter.max']", "an int in the range [1, inf)", value)
    return int(value)


def _normalize_ordered(ordered) -> tuple[str, ...] | str:
    """lavaan's ``ordered``: ``()`` (none), ``'all'`` or the names (checked against the
    model later, :func:`ckm_research.sem.api._resolve_ordered`)."""
    if ordered is None or ordered is False:
        return ()
    if ordered is True or (isinstance(ordered, str) and ordered.lower() == "all"):
        return "all"
    if isinstance(ordered, str):
        return tuple(s.strip() for s in ordered.split(",") if s.strip())
    return _names("ordered", ordered)


def _names(name: str, value) -> tuple[str, ...]:
    """A str or an iterable of str as a tuple (a str is one name, as lavaan's
    ``group.equal = "loadings"``)."""
    if isinstance(value, str):
        return (value,)
    names = tuple(value) if isinstance(value, Iterable) else None
    # the entries of group_equal and group_partial are checked against the model
    # (ckm_research.sem.partable), with their own messages
    if names is None or (name == "ordered" and not all(isinstance(v, str) for v in names)):
        raise param_error(name, "a str or a list of str", value)
    return names


#: lavaan options fit() does not take, and what to do instead
LAVAAN_REFUSED = {
    "conditional_x": (
        "conditional.x", "fit with fixed_x=True (lavaan's default for continuous data), "
        "which gives the same estimates for ML"),
    "se": (
        "se", "the standard errors follow the estimator as lavaan's defaults do "
        "(estimator='MLR' or 'MLM' for robust ones); for bootstrap SEs use "
        "ckm_research.inference.bootstrap() or ckm fit --bootstrap B"),
    "test": (
        "test", "the test statistic follows the estimator as lavaan's defaults do "
        "(MLR: Yuan-Bentler, MLM: Satorra-Bentler, MLMV/WLSMV: scaled-shifted)"),
    "bootstrap": (
        "bootstrap", "use ckm_research.inference.bootstrap(model, data, n_boot=...) or "
        "ckm fit --bootstrap B"),
    "information": (
        "information", "standard errors use lavaan's default information for the "
        "estimator (expected for ML, observed for FIML)"),
    "start": ("start", "write start values in the syntax with start(value)*x"),
    "optim_method": ("optim.method", "the optimiser is fixed; control={'iter.max': N} "
                     "raises the iteration limit"),
    "bounds": ("bounds", "write inequality constraints in the syntax (v > 0)"),
    "auto_fix_first": ("auto.fix.first", "write the scaling in the syntax (1*x, NA*x) or "
                       "use std_lv=True"),
    "auto_var": ("auto.var", "fit() adds lavaan sem()'s variances; fix one in the syntax "
                 "(x ~~ 0*x)"),
    "likelihood": ("likelihood", "ML uses lavaan's default likelihood = 'normal'"),
    "mimic": ("mimic", "ckm-research follows lavaan's own conventions (mimic = 'lavaan')"),
    "group_label": ("group.label", "the groups are taken in the order of the data"),
    "ov_order": ("ov.order", "the variables are taken in the model's order"),
}  # fmt: skip


def refuse_lavaan_options(options: dict) -> None:
    """A lavaan option fit() lacks: name it, say it is not supported and what to do."""
    name = next(iter(options))
    key = name.replace(".", "_")
    if key in LAVAAN_REFUSED:
        lavaan_name, instead = LAVAAN_REFUSED[key]
        raise CkmError(
            f"fit() does not support lavaan's {lavaan_name} option ({name}=...): {instead}."
        )
    raise CkmError(
        f"fit() has no option '{name}'; its options are: {', '.join(FIT_PARAMETERS)} "
        "(lavaan's dotted names are written with '_': std.lv -> std_lv)."
    )
