"""The parameters of the study pipeline (``ckm run``), checked before anything runs.

:class:`PipelineParams` lists every parameter with its default and meaning;
pydantic checks the types and ranges, and :func:`check_params` checks what
needs the files (the data file exists, the model parses and names only items
of the instrument, the interaction terms and moderators are factors of the
model, ...). Any problem raises :class:`ParameterError`, whose message names
the parameter, where it was set and what to do, *before* any notebook runs.

Parameters come from three places, later ones winning: the defaults below, a
YAML file (``ckm run --params FILE.yaml``) and ``-p NAME VALUE`` options
(``VALUE`` is read as YAML, so ``-p n_boot 200`` is a number and ``-p
interactions "[INS ~ CKM:CTU]"`` a list). Relative paths are taken from the
current folder, or, when written in a parameters file, from that file's folder.

A survey other than the CKM study needs only a model and a data file
(``-p data_file my.csv -p model my.lav``): without an ``instrument``, the
instrument is derived from them (:func:`ckm_research.instrument.derive.derive_instrument`),
and the CKM study's defaults that do not apply to the model (its latent
interactions, multi-group split and marker items) are left out, with a note
in the report (:func:`adapt_defaults`); set explicitly, they must apply.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ckm_research.errors import CkmError
from ckm_research.outputs import output_dir_problem
from ckm_research.report.i18n import text as _t
from ckm_research.sem.estimators import FIML_ESTIMATORS
from ckm_research.textfile import read_text

__all__ = [
    "PipelineParams",
    "ParameterError",
    "load_params",
    "parse_override",
    "check_params",
    "PROJECT_ROOT",
    "DEFAULT_DATA",
    "DEFAULT_MODEL",
    "parse_interaction",
    "adapt_defaults",
    "DERIVED_INSTRUMENT",
]

#: The checkout (or installation) folder holding ``ckm_research/``.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = PROJECT_ROOT / "data" / "example" / "ckm_example.csv"
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "models" / "ckm_study.lav"

_CRITERIA = Literal["missing", "longstring", "attention", "outlier", "speed"]
_CMV = Literal["harman", "ulmc", "marker"]
_LEVEL = Literal["configural", "metric", "scalar", "strict"]
_NAME = r"(?:[^\W\d]|\.)[\w.]*"  # letters of any alphabet, as sem.syntax
#: Where ``ckm run`` writes a derived instrument, inside the output folder.
DERIVED_INSTRUMENT = Path("instrument") / "derived_instrument.yaml"
_INTERACTION = re.compile(rf"^\s*({_NAME})\s*~\s*({_NAME})\s*:\s*({_NAME})\s*$")


class ParameterError(CkmError):
    """A pipeline parameter is unknown, of the wrong type or inconsistent.

    Attributes
    ----------
    name : str
        The parameter at fault.
    """

    def __init__(self, name: str, message: str):
        self.name = name
        super().__init__(message)


def parse_interaction(text: str) -> tuple[str, str, str]:
    """``"INS ~ CKM:CTU"`` -> ``("INS", "CKM", "CTU")`` (outcome, focal, moderator)."""
    m = _INTERACTION.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not of the form 'OUTCOME ~ PREDICTOR:MODERATOR'")
    return m.group(1), m.group(2), m.group(3)


class PipelineParams(BaseModel):
    """Every parameter of ``ckm run`` (see each field's description)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=False)

    # --- inputs ---------------------------------------------------------------------
    data_file: Path = Field(
        DEFAULT_DATA,
        description="Survey responses as collected: CSV, Excel, SPSS, Stata, or a Qualtrics "
                    "or KoboToolbox export (read only, never changed).")
    instrument: str | None = Field(
        None, description="The instrument the data were collected with: a name in surveys/ "
                          "(ckm) or the path of a YAML definition; none: the CKM instrument "
                          "when the model uses only its items, else derived from the model "
                          "(constructs) and the data (items, answer scale).")
    scale: list[int] | None = Field(
        None, description="[lowest, highest] answer of the rating scale of a derived "
                          "instrument (default: the range of the answers in the data).")
    model: str = Field(
        str(DEFAULT_MODEL), description="The structural model in lavaan syntax: a .lav file, "
                                        "or the name of a model shipped with ckm-research.")
    missing_values: list[int | float | str] = Field(
        default_factory=list, description="Codes meaning 'no answer' besides empty cells, "
                                          "e.g. [-99, -999].")
    drop: list[_CRITERIA] = Field(
        default_factory=lambda: ["longstring", "attention", "speed"],
        description="Screening criteria whose flagged respondents are excluded: missing, "
                    "longstring, attention, outlier, speed ([] keeps everyone).")
    subset: dict[str, list[int | str]] = Field(
        default_factory=dict, description="Analyse a subsample: {column: [values]} keeps the "
                                          "respondents whose column (an instrument item such as "
                                          "industry) has one of the values.")
    # --- estimation -----------------------------------------------------------------
    estimator: Literal[FIML_ESTIMATORS] = Field(
        "MLR", description="ML; MLR (robust SEs and Yuan-Bentler scaled test, for non-normal "
                           "Likert items); FIML (ML with casewise likelihood).")
    missing: Literal["ml", "listwise"] = Field(
        "ml", description="Missing answers: ml (full-information ML, assumes MAR) or listwise "
                          "deletion.")
    ci_level: Annotated[float, Field(gt=0.5, lt=1)] = Field(
        0.95, description="Confidence level of every interval in the report.")
    # --- measurement ----------------------------------------------------------------
    cmv_methods: list[_CMV] = Field(
        default_factory=lambda: ["harman", "ulmc", "marker"],
        description="Common-method-variance checks: harman (single factor), ulmc (unmeasured "
                    "latent method construct), marker (the CFA marker technique of Williams "
                    "et al., 2010, and the Lindell-Whitney adjustment, with the marker items).")
    marker_items: list[str] | None = Field(
        None, description="Marker-variable items (theoretically unrelated to the model); "
                          "default: the instrument's marker section.")
    validity_boot: Annotated[int, Field(ge=0)] = Field(
        500, description="Bootstrap resamples of the HTMT intervals and tests and of the "
                         "omega/AVE and alpha intervals (0: HTMT point estimates, delta-method "
                         "and Feldt intervals only).")
    htmt_threshold: Literal[0.85, 0.9, 1.0] = Field(
        0.85, description="The HTMT threshold c of the report's decision (H0: HTMT >= c): .85 "
                          "(conceptually distinct constructs), .90 (similar ones) or 1.")
    chi2_sys: bool = Field(
        False, description="Also run chi2(sys) of Ronkko & Cho (2022): one constrained CFA per "
                           "factor pair and cutoff (slow: about a minute for the CKM model).")
    copula_boot: Annotated[int, Field(ge=0)] = Field(
        500, description="Bootstrap resamples of the Gaussian copula robustness table of the "
                         "structural model (0: no copula table).")
    # --- structural -----------------------------------------------------------------
    indirect_effects: bool = Field(
        True, description="Estimate every indirect effect of the structural model (products "
                          "of paths along each chain).")
    n_boot: Annotated[int, Field(ge=0)] = Field(
        1000, description="Bootstrap resamples for the indirect effects' percentile CIs "
                          "(0: delta-method CIs only).")
    boot_missing: Literal["listwise", "ml"] = Field(
        "listwise", description="Bootstrap of a FIML fit: listwise resamples the complete "
                                "cases, refitting from moments (fast); ml refits every "
                                "resample by FIML (slow: about 1 s per resample for the CKM "
                                "model).")
    # --- moderation -----------------------------------------------------------------
    interactions: list[str] = Field(
        default_factory=lambda: ["INS ~ CKM:CTU", "INS ~ CKM:TTU", "INS ~ CKM:CPT",
                                 "SAT ~ CKM:CTU", "SAT ~ CKM:TTU", "SAT ~ CKM:CPT"],
        description="Latent interactions, each 'OUTCOME ~ PREDICTOR:MODERATOR' ([] for none); "
                    "default: the three turbulence moderators of CKM's paths to the outcomes "
                    "(the seed's model; loyalty is reached through satisfaction).")
    interaction_method: Literal["dblcent", "lms"] = Field(
        "lms", description="lms (latent moderated structural equations, the default: with "
                           "FIML, adaptive quadrature; under a minute of computing for the six "
                           "product terms of the example data) or dblcent (double-mean-centred "
                           "product indicators).")
    interaction_missing: Literal["listwise", "ml"] = Field(
        "ml", description="Missing answers in the interaction models: ml (FIML, every "
                          "respondent; with either method) or listwise (complete cases).")
    interaction_compare: bool | None = Field(
        None, description="Also fit the interaction model by the other method (product "
                          "indicators beside LMS, LMS beside product indicators) and show "
                          "the product terms side by side as a robustness check; default: "
                          "yes when the other method is dblcent (quick), no when it is LMS "
                          "(minutes with FIML).")
    moderation_se: Literal["delta", "bootstrap"] = Field(
        "delta", description="Intervals of the conditional indirect effects, the index of "
                             "moderated mediation and its Johnson-Neyman region: delta "
                             "(delta method; quick) or bootstrap (n_boot resamples of the "
                             "interaction model, refitted by FIML when interaction_missing "
                             "is ml: several seconds per resample).")
    multigroup: list[str] = Field(
        default_factory=lambda: ["CTU"],
        description="Moderators (factors) whose split defines high/low groups for the "
                    "invariance tests and the comparison of paths ([] for none).")
    group_split: Literal["median", "mean"] = Field(
        "median", description="Where a moderator's item-mean score is cut into low and high.")
    invariance_levels: list[_LEVEL] = Field(
        default_factory=lambda: ["configural", "metric", "scalar", "strict"],
        description="Invariance levels to test, in order (a prefix of configural, metric, "
                    "scalar, strict).")
    # --- power ----------------------------------------------------------------------
    power: bool = Field(True, description="Run the (optional) Monte Carlo power stage.")
    power_sample_sizes: list[Annotated[int, Field(ge=20)]] = Field(
        default_factory=lambda: [200, 300, 400, 500],
        description="Sample sizes at which power is estimated.")
    power_replications: Annotated[int, Field(ge=10)] = Field(
        200, description="Simulated samples per sample size.")
    power_alpha: Annotated[float, Field(gt=0, lt=0.5)] = Field(
        0.05, description="Significance level of the power analysis.")
    power_interactions: bool = Field(
        True, description="Also the power of the product terms and of the indices of "
                          "moderated mediation, the moderation fit being the population.")
    power_interaction_replications: Annotated[int, Field(ge=10)] = Field(
        10, description="Simulated samples per sample size for the interaction power "
                        "(each fits the model with product indicators; the large-sample "
                        "analytic power is shown beside).")
    # --- run ------------------------------------------------------------------------
    seed: Annotated[int, Field(ge=0)] = Field(
        20240601, description="Seed of every random number (bootstrap, power); same "
                              "parameters and seed give the same results.json.")
    n_jobs: int = Field(
        1, description="Worker processes for bootstrap and power (-1: all CPUs); results do "
                       "not depend on it.")
    language: Literal["en", "zh"] = Field(
        "en", description="Language of the report: en (English) or zh (Chinese: headings, "
                          "tables, notes, figure labels and the instrument's zh wording; "
                          "references stay in their original language).")
    title: str = Field(
        "Organisational Conditions of Customer Knowledge Management: A Structural Equation "
        "Study", description="Title of the report.")
    output_dir: Path = Field(
        Path("reports/ckm-study"), description="Folder of the results (made if absent).")
    cell_timeout: Annotated[int, Field(ge=10)] = Field(
        1800, description="Seconds a notebook cell may run before the pipeline stops it.")

    # ------------------------------------------------------------------ validators
    @field_validator(
        "missing_values", "drop", "cmv_methods", "marker_items", "interactions",
        "multigroup", "invariance_levels", "power_sample_sizes", mode="before",
    )
    @classmethod
    def _one_value_is_a_list(cls, value: Any) -> Any:
        # -p missing_values -99 (or -p drop longstring) means the list of that one value
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return [value]
        return value

    @field_validator("data_file", "output_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return Path(value).expanduser().resolve()

    @field_validator("instrument", mode="after")
    @classmethod
    def _instrument_path(cls, value: str | None) -> str | None:
        # a path is made absolute, as the notebooks run in the output folder
        if value is None:
            return value
        path = Path(value).expanduser()
        looks_like_path = path.suffix.lower() in (".yaml", ".yml") or "/" in value or \
            "\\" in value
        return str(path.resolve()) if looks_like_path or path.is_file() else value

    @field_validator("scale", mode="after")
    @classmethod
    def _scale(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (len(value) != 2 or value[0] >= value[1]):
            raise ValueError("must be [lowest, highest] with lowest < highest, e.g. [1, 7]")
        return value

    @field_validator("interactions", mode="after")
    @classmethod
    def _interactions(cls, value: list[str]) -> list[str]:
        out = []
        for text in value:
            y, x, z = parse_interaction(text)
            out.append(f"{y} ~ {x}:{z}")
        if len(set(out)) != len(out):
            raise ValueError("an interaction is listed twice")
        return out

    @field_validator("n_boot", mode="after")
    @classmethod
    def _n_boot(cls, value: int) -> int:
        if value == 1:
            raise ValueError("a bootstrap needs at least 2 resamples (1000 or more for "
                             "interval endpoints); 0 switches it off")
        return value

    @field_validator("n_jobs", mode="after")
    @classmethod
    def _n_jobs(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError("n_jobs must be a positive number of processes, or -1 for all CPUs")
        return value

    @field_validator("invariance_levels", mode="after")
    @classmethod
    def _levels(cls, value: list[str]) -> list[str]:
        order = ["configural", "metric", "scalar", "strict"]
        if value and value != order[: len(value)]:
            raise ValueError("must be a prefix of [configural, metric, scalar, strict] in this "
                             "order (each level adds constraints to the one before)")
        return value

    # ------------------------------------------------------------------ helpers
    def model_path(self) -> Path:
        """The model file (a path, or a model shipped with ckm-research)."""
        candidate = Path(self.model).expanduser()
        if candidate.exists():
            return candidate.resolve()
        shipped = DEFAULT_MODEL.parent / f"{self.model}.lav"
        if shipped.exists():
            return shipped
        raise ParameterError(
            "model",
            f"The 'model' parameter names a file that does not exist: {self.model}. Give the "
            f"path of a lavaan model file, or one of the shipped models: "
            + ", ".join(sorted(p.stem for p in DEFAULT_MODEL.parent.glob("*.lav"))) + ".",
        )

    def as_dict(self, *, portable: bool = False) -> dict[str, Any]:
        """The parameters as JSON types; ``portable`` drops what differs between
        machines or does not change results (paths become file names; output
        folder, timeout and worker count are left out)."""
        out = json.loads(self.model_dump_json())
        if portable:
            for key in ("output_dir", "cell_timeout", "n_jobs"):
                out.pop(key, None)
            out["data_file"] = Path(out["data_file"]).name
            out["model"] = Path(self.model).name
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the parameters that change results (see :meth:`as_dict`)."""
        text = json.dumps(self.as_dict(portable=True), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- loading
def parse_override(text: str) -> Any:
    """A ``-p NAME VALUE`` value, read as YAML (``200`` -> int, ``[a, b]`` -> list)."""
    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def _relative_to(loaded: dict, base: Path) -> dict:
    """The paths a parameters file gives, relative to its folder, made absolute (a
    model or instrument named without a path keeps its name)."""
    out = dict(loaded)
    for key in ("data_file", "output_dir", "model", "instrument"):
        value = out.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        path = Path(value).expanduser()
        if path.is_absolute():
            continue
        named = key in ("model", "instrument") and "/" not in value and "\\" not in value \
            and path.suffix.lower() not in (".lav", ".txt", ".yaml", ".yml") \
            and not (base / path).exists()
        if not named:
            out[key] = str(base / path)
    return out


def _describe_source(name: str, sources: dict[str, str]) -> str:
    where = sources.get(name)
    return f" (set {where})" if where else ""


def _type_phrase(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", "")).replace(" or ", ", ")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "an int"
    if kind in ("float_parsing", "float_type"):
        return "a float"
    if kind in ("bool_parsing", "bool_type"):
        return "true or false"
    if kind in ("list_type",):
        return "a list (in YAML: [a, b])"
    if kind in ("dict_type",):
        return "a mapping (in YAML: {column: [values]})"
    if kind in ("string_type",):
        return "a string"
    if kind in ("path_type",):
        return "a path"
    if kind == "greater_than_equal":
        return f"in the range [{ctx.get('ge')}, inf)"
    if kind == "greater_than":
        return f"greater than {ctx.get('gt')}"
    if kind == "less_than":
        return f"less than {ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"at most {ctx.get('le')}"
    return ""


def _convert(exc: ValidationError, sources: dict[str, str]) -> ParameterError:
    known = list(PipelineParams.model_fields)
    messages, first = [], None
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = loc[0] if loc else "?"
        first = first or name
        where = _describe_source(name, sources)
        got = err.get("input")
        if err.get("type") == "extra_forbidden":
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            messages.append(f"Unknown parameter '{name}'{where}.{hint} Known parameters: "
                            + ", ".join(known) + ".")
            continue
        element = f" (element {int(loc[1]) + 1})" if len(loc) > 1 and loc[1].isdigit() else ""
        phrase = _type_phrase(err)
        if phrase:
            messages.append(f"The '{name}' parameter{element}{where} must be {phrase}. "
                            f"Got {got!r} instead.")
        else:
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            messages.append(f"The '{name}' parameter{element}{where} is not valid: {msg}. "
                            f"Got {got!r}.")
    return ParameterError(first or "?", "\n".join(messages))


def load_params(params_file: str | Path | None = None,
                overrides: list[tuple[str, str]] | dict[str, Any] | None = None,
                *, output_dir: str | Path | None = None, check: bool = True) -> PipelineParams:
    """Build and check the parameters (defaults < file < overrides < output_dir).

    Parameters
    ----------
    params_file : path, optional
        A YAML mapping of parameter names to values.
    overrides : list of (name, text) or dict, optional
        ``-p NAME VALUE`` pairs (text read as YAML) or a dict of values.
    output_dir : path, optional
        ``--output``.
    check : bool
        Also run :func:`check_params` (reads the instrument and model).

    Raises
    ------
    ParameterError
        Naming the parameter at fault.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if params_file is not None:
        path = Path(params_file)
        if not path.exists():
            raise ParameterError("--params", f"The parameter file {path} does not exist.")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ParameterError("--params", f"The parameter file {path} is not valid YAML: "
                                             f"{exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ParameterError("--params", f"The parameter file {path} must be a mapping of "
                                             f"parameter names to values, not a "
                                             f"{type(loaded).__name__}.")
        values.update(_relative_to(loaded, path.resolve().parent))
        sources.update({str(k): f"in {path.name}" for k in loaded})
    if isinstance(overrides, dict):
        values.update(overrides)
        sources.update({str(k): "by the caller" for k in overrides})
    elif overrides:
        for name, text in overrides:
            values[name] = parse_override(text) if isinstance(text, str) else text
            sources[name] = f"by -p {name}"
    if output_dir is not None:
        values["output_dir"] = output_dir
        sources["output_dir"] = "by --output"
    try:
        params = PipelineParams(**{str(k): v for k, v in values.items()})
    except ValidationError as exc:
        raise _convert(exc, sources) from None
    if check:
        check_params(params, sources)
    return params


# ---------------------------------------------------------------------- deep checks
def check_params(params: PipelineParams, sources: dict[str, str] | None = None) -> dict:
    """Check what needs the files; return what was learned (instrument, model roles).

    Raises
    ------
    ParameterError
        Naming the parameter at fault.
    """
    from ckm_research.data.io import SUPPORTED_EXTENSIONS
    from ckm_research.instrument import load_instrument
    from ckm_research.sem.partable import variable_roles
    from ckm_research.sem.syntax import parse_model

    sources = sources or {}

    def fail(name: str, message: str):
        raise ParameterError(name, f"The '{name}' parameter{_describe_source(name, sources)} "
                                   f"{message}")

    data = params.data_file
    if not data.exists():
        hint = ""
        if data == DEFAULT_DATA.resolve():
            hint = (" The example data is made by `ckm simulate` (see data/example/README.md);"
                    " or give your own file with -p data_file PATH.")
        fail("data_file", f"names a file that does not exist: {data}.{hint}")
    if data.is_dir():
        fail("data_file", f"names a folder, not a file: {data}.")
    if data.suffix.lower() not in SUPPORTED_EXTENSIONS:
        fail("data_file", f"names {data.name}, which is not a data file ckm-research reads "
                          f"({', '.join(SUPPORTED_EXTENSIONS)}).")
    if params.output_dir.exists() and not params.output_dir.is_dir():
        fail("output_dir", f"names a file, not a folder: {params.output_dir}.")
    if why := output_dir_problem(params.output_dir):
        fail("output_dir", f"names {params.output_dir}, which {why}.")
    if params.output_dir == PROJECT_ROOT or params.output_dir in data.parents:
        fail("output_dir", f"would write into {params.output_dir}, which holds the project or "
                           "the raw data; choose a folder of its own (e.g. reports/ckm-study).")

    model_path = params.model_path()
    try:
        text = read_text(model_path, what="model file")
    except CkmError as exc:
        fail("model", f"names a file that cannot be read: {exc}")
    try:
        parsed = parse_model(text)
    except CkmError as exc:
        fail("model", f"({model_path.name}) is not valid lavaan syntax: {exc}")
    roles = variable_roles(parsed)
    derived = False
    if params.instrument is None:
        instrument = load_instrument("ckm")
        if not set(roles.ov) <= set(instrument.item_ids()):
            from ckm_research.instrument.derive import derive_instrument

            derived = True
            try:
                instrument = derive_instrument(text, data, scale=params.scale,
                                               missing_values=params.missing_values)
            except CkmError as exc:
                fail("instrument", f"is not given, and none can be derived from the model "
                                   f"and the data: {exc}")
    else:
        try:
            instrument = load_instrument(params.instrument)
        except CkmError as exc:
            fail("instrument", f"cannot be loaded: {exc}")
    if params.scale is not None and not derived:
        fail("scale", f"is set, but the answer scale is the instrument '{instrument.id}''s; "
                      "give scale only for a survey without an instrument.")
    adjusted, notes = adapt_defaults(params, roles, instrument)
    if derived:
        scale = next(i.scale for i in instrument.items() if i.kind == "indicator")
        notes.setdefault("instrument", []).insert(0, _t(
            "params.derived", params.language, lo=scale.lowest, hi=scale.highest,
            how=_t("params.derived.scale" if params.scale else "params.derived.data",
                   params.language), path=DERIVED_INSTRUMENT.as_posix()))
    params = params.model_copy(update=adjusted)
    if roles.interactions:
        fail("model", "already has product terms (" + ", ".join(roles.interactions) + "); "
                      "give the model without them and list them in the 'interactions' "
                      "parameter, so the pipeline can fit both.")
    items = set(instrument.item_ids())
    unknown = [v for v in roles.ov if v not in items]
    if unknown:
        fail("model", f"({model_path.name}) uses variables that the instrument "
                      f"'{instrument.id}' does not have: {', '.join(unknown)}. Use the "
                      "instrument's item ids (ckm instrument export --format codebook).")
    latent = set(roles.lv)
    endogenous = {s.lhs for s in parsed.statements if s.op == "~"}

    for text_i in params.interactions:
        y, x, z = parse_interaction(text_i)
        missing_names = [n for n in (y, x, z) if n not in latent]
        if missing_names:
            fail("interactions", f"names {', '.join(missing_names)} in '{text_i}', not a factor "
                                 f"of the model (factors: {', '.join(roles.lv)}).")
        if x == z:
            fail("interactions", f"has '{text_i}': the predictor and the moderator must differ.")
        if y not in endogenous:
            fail("interactions", f"has '{text_i}', but {y} is not an outcome of the model (no "
                                 f"'{y} ~ ...' regression).")
    for factor in params.multigroup:
        if factor not in latent:
            fail("multigroup", f"names '{factor}', not a factor of the model (factors: "
                               f"{', '.join(roles.lv)}).")
    if params.multigroup and not params.invariance_levels:
        fail("invariance_levels", "is empty, but 'multigroup' asks for group comparisons; give "
                                  "at least [configural] or set multigroup: [].")
    markers = params.marker_items
    if markers is not None:
        bad = [m for m in markers if m not in items]
        if bad:
            fail("marker_items", f"names items the instrument '{instrument.id}' does not have: "
                                 f"{', '.join(bad)}.")
        overlap = [m for m in markers if m in roles.ov]
        if overlap:
            fail("marker_items", f"names items the model uses ({', '.join(overlap)}); a marker "
                                 "must be unrelated to the model's constructs.")
    elif "marker" in params.cmv_methods:
        markers = [i.id for i in instrument.items() if i.role == "marker" and i.kind == "indicator"]
        if not markers:
            fail("cmv_methods", f"asks for the marker technique, but the instrument "
                                f"'{instrument.id}' has no marker section; give marker_items or "
                                "drop 'marker'.")
    for column, wanted in params.subset.items():
        if column not in items:
            fail("subset", f"names the column '{column}', which is not an item of the "
                           f"instrument '{instrument.id}'.")
        if not wanted:
            fail("subset", f"gives no values for '{column}'.")
        codes = instrument.item(column).scale.codes
        if codes is not None:
            bad = [v for v in wanted if v not in codes]
            if bad:
                fail("subset", f"keeps {column} = {bad}, which are not codes of its scale "
                               f"({codes}).")
    if params.estimator == "FIML" and params.missing == "listwise":
        fail("missing", "is 'listwise' but the estimator is FIML (full-information ML); use "
                        "estimator ML for listwise deletion or missing: ml.")
    return {"instrument": instrument, "model_path": model_path, "roles": roles,
            "markers": markers, "derived": derived, "adjusted": adjusted, "notes": notes}


def adapt_defaults(params: PipelineParams, roles, instrument) -> tuple[dict, dict]:
    """Leave out the CKM study's defaults that do not apply to another model.

    The defaults of ``interactions``, ``multigroup`` and ``cmv_methods`` (its
    marker technique) and the title are those of the CKM study; a parameter
    left at its default whose factors are not in the model (or, for the
    marker technique, whose instrument has no marker section) is dropped.
    Parameters set explicitly are kept (and :func:`check_params` refuses them
    when they do not apply).

    Returns
    -------
    adjusted : dict
        ``{parameter: value to use}``.
    notes : dict
        ``{stage: [note for the report]}`` saying what was left out and why.
    """
    explicit = params.model_fields_set
    latent = set(roles.lv)
    adjusted: dict[str, Any] = {}
    notes: dict[str, list[str]] = {}
    if "interactions" not in explicit and params.interactions:
        keep = [t for t in params.interactions if set(parse_interaction(t)) <= latent]
        if keep != params.interactions:
            gone = [t for t in params.interactions if t not in keep]
            adjusted["interactions"] = keep
            notes.setdefault("moderation", []).append(
                _t("params.no_interactions", params.language, terms="; ".join(gone)))
    if "multigroup" not in explicit and params.multigroup:
        keep = [f for f in params.multigroup if f in latent]
        if keep != params.multigroup:
            adjusted["multigroup"] = keep
            notes.setdefault("moderation", []).append(
                _t("params.no_multigroup", params.language,
                   factors=", ".join(f for f in params.multigroup if f not in keep)))
    if ("cmv_methods" not in explicit and "marker" in params.cmv_methods
            and params.marker_items is None
            and not any(i.role == "marker" and i.kind == "indicator"
                        for i in instrument.items())):
        adjusted["cmv_methods"] = [m for m in params.cmv_methods if m != "marker"]
        notes.setdefault("measurement", []).append(_t("params.no_marker", params.language))
    if "title" not in explicit and instrument.id != "ckm":
        adjusted["title"] = "A Structural Equation Study of " + instrument.text(
            instrument.title, "en").removeprefix("Survey of ")
        if params.language == "zh":
            adjusted["title"] = instrument.text(instrument.title, "zh") + "：结构方程模型研究"
    elif "title" not in explicit and params.language != "en":
        adjusted["title"] = _t("default.title", params.language)
    return adjusted, notes
