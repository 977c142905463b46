"""Parameters of ``ckm run``: checked before any notebook runs, errors naming the parameter.

Also checks that the notebooks and the parameter list agree: every parameter a
notebook declares is a pipeline parameter with the same default and a comment
documenting it, every pipeline parameter reaches a notebook (or the runner),
and the notebooks are kept reviewable (outputs stripped, paired with jupytext
``.py`` files that hold the same cells).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ckm_research.report.params import (
    DEFAULT_DATA,
    ParameterError,
    PipelineParams,
    load_params,
    parse_override,
)
from ckm_research.report.stages import STAGES, TUTORIAL

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: Parameters the runner uses itself rather than passing to a notebook.
RUNNER_ONLY = {"cell_timeout", "power", "title"}


def _load(**values):
    return load_params(None, values, check=True)


@pytest.fixture
def data_file(tmp_path):
    assert DEFAULT_DATA.exists(), f"the example data {DEFAULT_DATA} is part of the checkout"
    return DEFAULT_DATA


# ---------------------------------------------------------------------- values
def test_defaults_are_valid_and_point_at_the_example_study():
    params = PipelineParams()
    assert params.data_file == DEFAULT_DATA.resolve()
    assert params.model_path().name == "ckm_study.lav"
    assert params.estimator == "MLR" and params.seed == 20240601
    # the seed's moderation hypotheses: three turbulence moderators of CKM's paths to the
    # outcomes (MODEL.md), on every respondent (FIML)
    assert params.interactions == [f"{y} ~ CKM:{z}" for y in ("INS", "SAT")
                                   for z in ("CTU", "TTU", "CPT")]
    assert params.interaction_missing == "ml"


def test_lms_with_fiml_is_accepted_and_fitted_by_fiml():
    from ckm_research.structural import interaction_fit_options

    params = _load(interaction_method="lms", interaction_missing="ml")
    assert (params.interaction_method, params.interaction_missing) == ("lms", "ml")
    assert interaction_fit_options("lms", "MLR", "ml") == ("ML", "ml")
    assert interaction_fit_options("lms", "MLR", "listwise") == ("ML", "listwise")


def test_overrides_are_read_as_yaml():
    assert parse_override("200") == 200
    assert parse_override("ML") == "ML"
    assert parse_override("[INS ~ CKM:CTU]") == ["INS ~ CKM:CTU"]
    assert parse_override("{industry: [1, 2]}") == {"industry": [1, 2]}
    assert parse_override("false") is False


def test_file_then_overrides_then_output(tmp_path, data_file):
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump({"n_boot": 50, "estimator": "ML", "data_file": str(data_file)}),
                 encoding="utf-8")
    params = load_params(f, [("n_boot", "70")], output_dir=tmp_path / "o", check=False)
    assert params.n_boot == 70 and params.estimator == "ML"
    assert params.output_dir == (tmp_path / "o").resolve()


def test_portable_parameters_leave_out_paths_and_the_fingerprint_follows_them(tmp_path):
    a = load_params(None, {"output_dir": str(tmp_path / "a")}, check=False)
    b = load_params(None, {"output_dir": str(tmp_path / "b"), "n_jobs": 2}, check=False)
    c = load_params(None, {"seed": 1}, check=False)
    assert a.as_dict(portable=True) == b.as_dict(portable=True)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.as_dict(portable=True)["data_file"] == "ckm_example.csv"


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("values", "name", "fragment"),
    [
        ({"estimtor": "ML"}, "estimtor", "Did you mean 'estimator'"),
        ({"estimator": "OLS"}, "estimator", "must be one of 'ML', 'MLR', 'FIML'"),
        ({"n_boot": "many"}, "n_boot", "must be an int"),
        ({"n_boot": -5}, "n_boot", "in the range [0, inf)"),
        ({"n_boot": 1}, "n_boot", "at least 2 resamples"),
        ({"ci_level": 1.5}, "ci_level", "less than 1"),
        ({"interactions": ["INS ~ CKM*CTU"]}, "interactions", "OUTCOME ~ PREDICTOR:MODERATOR"),
        ({"drop": ["lazy"]}, "drop", "must be one of"),
        ({"invariance_levels": ["metric"]}, "invariance_levels", "prefix"),
        ({"power": "maybe"}, "power", "true or false"),
        ({"n_jobs": 0}, "n_jobs", "positive number"),
    ],
)
def test_bad_values_name_the_parameter(values, name, fragment):
    with pytest.raises(ParameterError) as err:
        load_params(None, values, check=False)
    assert err.value.name == name
    assert f"'{name}'" in str(err.value)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("values", "name", "fragment"),
    [
        ({"data_file": "no/such/survey.csv"}, "data_file", "does not exist"),
        ({"model": "no_such_model"}, "model", "does not exist"),
        ({"interactions": ["INS ~ CKM:XYZ"]}, "interactions", "XYZ"),
        ({"interactions": ["CTU ~ CKM:TTU"]}, "interactions", "not an outcome"),
        ({"multigroup": ["NOPE"]}, "multigroup", "not a factor"),
        ({"marker_items": ["mkr1", "zzz9"]}, "marker_items", "zzz9"),
        ({"marker_items": ["cip1"]}, "marker_items", "the model uses"),
        ({"subset": {"planet": [1]}}, "subset", "planet"),
        ({"subset": {"industry": [99]}}, "subset", "not codes"),
        ({"estimator": "FIML", "missing": "listwise"}, "missing", "FIML"),
        ({"instrument": "no_such_instrument"}, "instrument", "cannot be loaded"),
    ],
)
def test_inconsistent_parameters_name_the_parameter(values, name, fragment):
    with pytest.raises(ParameterError) as err:
        _load(**values)
    assert err.value.name == name
    assert f"'{name}'" in str(err.value) and fragment in str(err.value)


def test_a_model_with_product_terms_or_foreign_items_is_refused(tmp_path):
    inter = tmp_path / "inter.lav"
    inter.write_text("CKM =~ ckm1 + ckm2 + ckm3\nCTU =~ ctu1 + ctu2 + ctu3\n"
                     "SAT =~ sat1 + sat2 + sat3\nSAT ~ CKM + CTU + CKM:CTU\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="already has product terms") as err:
        _load(model=str(inter))
    assert err.value.name == "model"
    foreign = tmp_path / "foreign.lav"
    foreign.write_text("F =~ q1 + q2 + q3\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="q1, q2, q3"):
        _load(model=str(foreign))


def test_the_source_of_a_bad_value_is_named(tmp_path):
    f = tmp_path / "study.yaml"
    f.write_text("n_boot: lots\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"set in study\.yaml"):
        load_params(f, check=False)
    with pytest.raises(ParameterError, match=r"set by -p n_boot"):
        load_params(None, [("n_boot", "lots")], check=False)


def test_cli_stops_before_any_notebook_runs(tmp_path):
    """``ckm run`` with a bad parameter: exit 2, the parameter named, nothing written."""
    out = tmp_path / "out"
    for args, name in ((["-p", "n_boot", "lots"], "n_boot"),
                       (["-p", "data_file", str(tmp_path / "missing.csv")], "data_file"),
                       (["-p", "colour", "blue"], "colour")):
        proc = subprocess.run([sys.executable, "-m", "ckm_research.cli", "run", *args,
                               "--output", str(out)], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, check=False)
        assert proc.returncode == 2, proc.stderr
        assert f"'{name}'" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not out.exists()


def test_grid_checks_every_run_first(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"runs": {"ok": {}, "bad": {"estimator": "GLS"}}}),
                    encoding="utf-8")
    from ckm_research.report.grid import load_grid

    with pytest.raises(ParameterError, match=r"run 'bad' of grid\.yaml: The 'estimator'"):
        load_grid(grid, output_dir=tmp_path / "g")
    assert not (tmp_path / "g").exists()
    combos = tmp_path / "combos.yaml"
    combos.write_text(yaml.safe_dump({"base": {"n_boot": 0}, "grid": {
        "estimator": ["ML", "MLR"], "drop": [[], ["longstring"]]}}), encoding="utf-8")
    if DEFAULT_DATA.exists():
        runs = load_grid(combos, output_dir=tmp_path / "g")
        assert len(runs) == 4
        assert {r.params.n_boot for r in runs} == {0}
        assert len({r.params.output_dir for r in runs}) == 4


# ---------------------------------------------------------------------- notebooks
def _parameters_cell(nb) -> str:
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    return cells[0].source


@pytest.mark.parametrize("stage", STAGES, ids=[s.name for s in STAGES])
def test_stage_notebook_parameters_are_pipeline_parameters(stage):
    import nbformat
    import papermill

    nb = nbformat.read(stage.path, as_version=4)
    source = _parameters_cell(nb)
    assignments = [ln for ln in source.splitlines() if ln and not ln.startswith("#")]
    declared = papermill.inspect_notebook(str(stage.path))
    assert len(declared) == len(assignments), "papermill could not read every parameter line"
    fields = PipelineParams.model_fields
    defaults = PipelineParams().as_dict()
    for line in assignments:
        assert "  # " in line, f"parameter without a comment: {line}"
    for name, info in declared.items():
        assert name in fields, f"{stage.notebook} declares {name}, not a pipeline parameter"
        assert info["help"].strip(), f"{name} is not documented"
        value = eval(info["default"], {"None": None, "True": True, "False": False})  # noqa: S307
        if name in ("data_file", "model", "output_dir"):
            resolved = (NOTEBOOKS / value).resolve()
            if name != "output_dir":
                assert resolved == Path(defaults[name]).resolve(), name
            continue
        assert value == defaults[name], f"{stage.notebook}: default of {name} differs"
    assert "output_dir" in declared


def test_every_parameter_reaches_a_notebook_or_the_runner():
    import papermill

    used = set(RUNNER_ONLY)
    for stage in STAGES:
        used |= set(papermill.inspect_notebook(str(stage.path)))
    assert set(PipelineParams.model_fields) == used


@pytest.mark.parametrize("path", [s.path for s in STAGES] + [TUTORIAL],
                         ids=[s.name for s in STAGES] + ["tutorial"])
def test_notebooks_are_stripped_and_paired(path):
    import jupytext

    raw = json.loads(path.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} has outputs"
            assert cell.get("execution_count") is None
    paired = path.with_suffix(".py")
    assert paired.exists(), f"{paired.name} (jupytext percent) is missing"
    a = jupytext.read(path)
    b = jupytext.read(paired)
    assert [(c.cell_type, c.source) for c in a.cells] == \
        [(c.cell_type, c.source) for c in b.cells], \
        f"{path.name} and {paired.name} differ: run `jupytext --sync {paired}`"
    assert a.metadata["kernelspec"]["name"] == "ckm-research"


def test_one_value_of_a_list_parameter_is_that_one_element_list():
    # ckm run -p missing_values -99 (as a user types it) is [-99], -p drop longstring
    # is ["longstring"]; a bad single value is still named
    p = load_params(None, [("missing_values", "-99"), ("drop", "longstring")], check=False)
    assert p.missing_values == [-99] and p.drop == ["longstring"]
    assert load_params(None, {"power_sample_sizes": 300}, check=False).power_sample_sizes == [300]
    with pytest.raises(ParameterError) as err:
        load_params(None, {"drop": "lazy"}, check=False)
    assert err.value.name == "drop" and "must be one of" in str(err.value)
