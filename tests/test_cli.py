"""The ``ckm`` command line (ckm_research.cli).

Most tests run ``main([...])`` in-process, with a stand-in for
``ckm_research.fit`` where the numbers do not matter; a few run the command in
a subprocess to check the exit code and that no traceback reaches the user.
The last tests fit real models with the engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.cli import main
from ckm_research.errors import ConvergenceError, HeywoodCaseWarning

ROOT = Path(__file__).resolve().parents[1]
STUDY_MODEL = ROOT / "ckm_research" / "models" / "ckm_study.lav"

TWO_FACTORS = """\
# two correlated factors
A =~ a1 + a2 + a3
B =~ b1 + b2 + b3
"""


@pytest.fixture
def files(tmp_path):
    """A model file and a CSV simulated from it (N = 200, one answer coded -99)."""
    rng = np.random.default_rng(11)
    n = 200
    factors = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    data = {}
    for f, name in enumerate("ab"):
        for j in range(1, 4):
            data[f"{name}{j}"] = 0.8 * factors[:, f] + rng.normal(0, 0.6, n)
    frame = pd.DataFrame(data).round(3)
    frame.loc[7, "a2"] = -99
    model = tmp_path / "model.lav"
    model.write_text(TWO_FACTORS, encoding="utf-8")
    csv = tmp_path / "survey.csv"
    frame.to_csv(csv, index=False)
    return model, csv


class FakeResult:
    """What the CLI needs of a results object."""

    def __init__(self, warnings_=()):
        self.warnings = list(warnings_)
        self.converged = True
        self.written_to = None

    def summary(self, **options) -> str:
        self.summary_options = options
        return "FAKE SUMMARY"

    def to_dict(self) -> dict:
        return {"estimator": "ML", "n": 1, "converged": True, "fit": {}, "estimates": []}

    def to_json(self, path=None) -> str:
        text = json.dumps(self.to_dict())
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
            self.written_to = path
        return text


@pytest.fixture
def fake_fit(monkeypatch):
    """Replace ckm_research.fit; records its arguments; ``behaviour`` sets what it does."""
    calls = []
    behaviour = {"raise": None, "warn": [], "result": FakeResult()}

    def fake(model_text, data, **options):
        calls.append((model_text, data, options))
        for category, message in behaviour["warn"]:
            warnings.warn(message, category, stacklevel=2)
        if behaviour["raise"] is not None:
            raise behaviour["raise"]
        return behaviour["result"]

    monkeypatch.setattr(ckm_research, "fit", fake, raising=False)
    fake.calls = calls
    fake.behaviour = behaviour
    return fake


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``python -m ckm_research.cli ARGS`` in a fresh process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "ckm_research.cli", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )


# --- the parser ---------------------------------------------------------------------


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "fit" in capsys.readouterr().out
    assert main(["fit", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--estimator", "--ordered", "--group", "--missing-values", "--json",
                   "--debug"):
        assert option in out
    assert main(["--version"]) == 0
    assert ckm_research.__version__ in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_unknown_estimator(files, capsys):
    model, csv = files
    assert main(["fit", str(model), str(csv), "--estimator", "OLS"]) == 2
    err = capsys.readouterr().err
    assert "unknown estimator 'OLS'" in err and "ML, MLR, FIML, MLM" in err


def test_options_reach_the_api(files, fake_fit, capsys):
    model, csv = files
    code = main(["fit", str(model), str(csv), "--estimator", "wlsmv", "--ordered", "a1, a2",
                 "--group", "a3", "--missing-values", "-99,-999"])
    assert code == 0
    model_text, data, options = fake_fit.calls[0]
    assert model_text == TWO_FACTORS
    assert isinstance(data, pd.DataFrame) and data.shape == (200, 6)
    assert np.isnan(data.loc[7, "a2"])  # -99 read as missing
    assert options == {"estimator": "WLSMV", "ordered": ["a1", "a2"], "group": "a3"}
    assert capsys.readouterr().out.strip() == "FAKE SUMMARY"


def test_ordered_all_and_defaults(files, fake_fit):
    model, csv = files
    assert main(["fit", str(model), str(csv)]) == 0
    assert fake_fit.calls[-1][2] == {"estimator": "ML"}
    assert main(["fit", str(model), str(csv), "--ordered", "ALL", "--estimator", "WLSMV"]) == 0
    assert fake_fit.calls[-1][2]["ordered"] == "all"


@pytest.mark.parametrize("argv_tail", [["--missing-values=-99,."], ["--missing-values", "-99"]])
def test_missing_value_codes_with_minus_signs(files, fake_fit, argv_tail):
    model, csv = files
    assert main(["fit", str(model), str(csv), *argv_tail]) == 0
    assert np.isnan(fake_fit.calls[0][1].loc[7, "a2"])


def test_empty_missing_value_code(files, capsys):
    model, csv = files
    assert main(["fit", str(model), str(csv), "--missing-values", "-99,,-98"]) == 2
    assert "empty code" in capsys.readouterr().err


def test_adding_a_subcommand_is_one_function(monkeypatch):
    from ckm_research import cli

    def add_hello(subparsers):
        p = subparsers.add_parser("hello", parents=[cli._common_options()], help="say hello")
        p.set_defaults(func=lambda args, ui: 0)

    monkeypatch.setattr(cli, "SUBCOMMANDS", [*cli.SUBCOMMANDS, add_hello])
    assert cli.main(["hello", "--debug"]) == 0
    assert "hello" in cli.build_parser().format_help()


# --- bad input: a clear message, exit code 2, no traceback --------------------------


def test_missing_model_file(files, capsys):
    _, csv = files
    assert main(["fit", "no_such_model.lav", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "model file no_such_model.lav does not exist" in err
    assert "Traceback" not in err


def test_missing_data_file(files, capsys):
    model, _ = files
    assert main(["fit", str(model), "no_such_data.csv"]) == 2
    err = capsys.readouterr().err
    assert "no_such_data.csv does not exist" in err
    assert "Traceback" not in err


def test_model_file_not_utf8(files, capsys):
    model, csv = files
    model.write_bytes("# modèle\nA =~ a1 + a2 + a3\n".encode("latin-1"))
    assert main(["fit", str(model), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "not valid UTF-8 text" in err and "offset 5 (line 1)" in err


def test_empty_model_file(files, capsys):
    model, csv = files
    model.write_text("  \n", encoding="utf-8")
    assert main(["fit", str(model), str(csv)]) == 2
    assert "is empty" in capsys.readouterr().err


def test_model_file_is_a_folder(files, tmp_path, capsys):
    _, csv = files
    assert main(["fit", str(tmp_path), str(csv)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_swapped_model_and_data(files, capsys):
    model, csv = files
    assert main(["fit", str(csv), str(model)]) == 2
    assert "Did you swap them?" in capsys.readouterr().err


def test_unsupported_data_file(files, tmp_path, capsys):
    model, _ = files
    other = tmp_path / "survey.json"
    other.write_text("{}", encoding="utf-8")
    assert main(["fit", str(model), str(other)]) == 2
    err = capsys.readouterr().err
    assert "'.json'" in err and ".sav" in err


def test_json_must_not_overwrite_an_input(files, fake_fit, capsys):
    model, csv = files
    assert main(["fit", str(model), str(csv), "--json", str(csv)]) == 2
    assert "would overwrite an input file" in capsys.readouterr().err
    assert not fake_fit.calls


def test_unwritable_json_path_is_refused_before_fitting(files, fake_fit, capsys):
    model, csv = files
    assert main(["fit", str(model), str(csv), "--json", str(csv / "fit.json")]) == 2
    err = capsys.readouterr().err
    assert f"because {csv} is a file, not a folder" in err and "Traceback" not in err
    assert not fake_fit.calls


def test_ckm_error_from_the_engine(files, fake_fit, capsys):
    model, csv = files
    fake_fit.behaviour["raise"] = ConvergenceError("the optimiser did not converge; try X")
    assert main(["fit", str(model), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "error: the optimiser did not converge; try X" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(files, fake_fit, capsys):
    model, csv = files
    fake_fit.behaviour["raise"] = ConvergenceError("no convergence")
    assert main(["fit", str(model), str(csv), "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "ConvergenceError" in err and "no convergence" in err


def test_unexpected_error_is_a_bug_report(files, fake_fit, capsys):
    model, csv = files
    fake_fit.behaviour["raise"] = ZeroDivisionError("oops")
    assert main(["fit", str(model), str(csv)]) == 1
    err = capsys.readouterr().err
    assert "unexpected internal error (ZeroDivisionError: oops)" in err
    assert "--debug" in err and "Traceback" not in err
    assert main(["--debug", "fit", str(model), str(csv)]) == 1
    assert "Traceback" in capsys.readouterr().err


# --- output --------------------------------------------------------------------------


def test_json_is_written_with_its_folder(files, fake_fit, tmp_path, capsys):
    model, csv = files
    target = tmp_path / "reports" / "study" / "fit.json"
    assert main(["fit", str(model), str(csv), "--json", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["estimator"] == "ML"
    assert f"Results written to {target}" in capsys.readouterr().err


def test_warnings_are_printed_once_after_the_summary(files, fake_fit, capsys):
    model, csv = files
    heywood = "the estimated variance of 'a1' is negative: a Heywood case"
    fake_fit.behaviour["result"] = FakeResult(warnings_=[heywood])
    fake_fit.behaviour["warn"] = [(HeywoodCaseWarning, heywood),
                                  (RuntimeWarning, "invalid value in sqrt")]
    assert main(["fit", str(model), str(csv)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "FAKE SUMMARY"
    assert captured.err.count(f"warning: {heywood}") == 1
    assert "invalid value in sqrt" not in captured.err
    assert "1 technical warning" in captured.err and "--debug" in captured.err

    assert main(["fit", str(model), str(csv), "--debug"]) == 0
    assert "RuntimeWarning" in capsys.readouterr().err


def test_non_convergence_is_flagged(files, fake_fit, capsys):
    model, csv = files
    fake_fit.behaviour["result"].converged = False
    assert main(["fit", str(model), str(csv)]) == 0
    assert "did not converge" in capsys.readouterr().err


# --- in a subprocess: exit codes and no tracebacks -----------------------------------


def test_subprocess_exit_codes(files):
    model, csv = files
    missing = run_cli("fit", str(model), "absent.csv")
    assert missing.returncode == 2
    assert "absent.csv does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr

    bad_estimator = run_cli("fit", str(model), str(csv), "--estimator", "OLS")
    assert bad_estimator.returncode == 2
    assert "unknown estimator 'OLS'" in bad_estimator.stderr

    no_command = run_cli()
    assert no_command.returncode == 2


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("ckm")
    assert script.exists(), "install the package (make setup, or pip install -e .) first"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and ckm_research.__version__ in done.stdout


# --- with the real engine --------------------------------------------------------------


def test_real_fit_prints_summary_and_writes_json(files, tmp_path, capsys):
    model, csv = files
    target = tmp_path / "fit.json"
    code = main(["fit", str(model), str(csv), "--missing-values", "-99", "--json", str(target)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["estimator"] == "ML" and doc["converged"] is True
    assert doc["n"] == 199  # the row with -99 is deleted listwise under ML
    for key in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"):
        assert key in doc["fit"]
    assert doc["fit"]["df"] == 8
    loading = next(r for r in doc["estimates"]
                   if (r["lhs"], r["op"], r["rhs"]) == ("A", "=~", "a2"))
    for column in ("est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all"):
        assert column in loading
    assert "a2" in captured.out


def test_real_engine_absent_variables(files, capsys):
    model, csv = files
    model.write_text("A =~ a1 + a2 + aa3\nB =~ b1 + b2 + b7\n", encoding="utf-8")
    assert main(["fit", str(model), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "'aa3' (did you mean 'a3'?)" in err
    assert "'b7'" in err
    assert "Traceback" not in err

    done = run_cli("fit", str(model), str(csv))
    assert done.returncode == 2
    assert "'aa3'" in done.stderr and "Traceback" not in done.stderr


def test_real_engine_non_numeric_cells(files, capsys):
    model, csv = files
    text = csv.read_text(encoding="utf-8").splitlines()
    row = text[4].split(",")
    row[0] = "agree"
    text[4] = ",".join(row)
    csv.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert main(["fit", str(model), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "column 'a1'" in err and "row 4: 'agree'" in err


def test_real_engine_study_model_names_its_items(files, capsys):
    _, csv = files
    assert main(["fit", str(STUDY_MODEL), str(csv)]) == 2
    err = capsys.readouterr().err
    assert "53 variables that are not in the data" in err
    assert "'cip1'" in err and "'loy4'" in err


def test_a_closed_pipe_is_not_a_bug(files, fake_fit, monkeypatch, tmp_path, capsys):
    # `ckm fit ... | head -5`: the reader goes away while we print
    model, csv = files

    def closed_pipe(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(ckm_research, "fit", closed_pipe)
    with open(tmp_path / "stdout.txt", "w") as real_file:  # dup2 needs a real descriptor
        monkeypatch.setattr(sys, "stdout", real_file)
        code = main(["fit", str(model), str(csv)])
    assert code == 0
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
