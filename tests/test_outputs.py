"""Output paths are checked before the work: ckm_research.outputs and the commands using it."""

from __future__ import annotations

import os

import pytest

from ckm_research.cli import main
from ckm_research.errors import CkmError
from ckm_research.outputs import (
    check_output_dir,
    check_output_file,
    figure_formats,
    output_dir_problem,
)

POPULATION = """\
F =~ 0.7*y1 + 0.7*y2 + 0.7*y3
y1 ~~ 0.51*y1
y2 ~~ 0.51*y2
y3 ~~ 0.51*y3
F ~~ 1*F
"""


def test_a_new_file_in_a_new_folder_is_fine_and_nothing_is_created(tmp_path):
    target = tmp_path / "a" / "b" / "fit.json"
    assert check_output_file(target, "--json") == target
    assert check_output_dir(tmp_path / "c" / "d", "--output") == tmp_path / "c" / "d"
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_a_file_in_the_way_is_named(tmp_path):
    blocker = tmp_path / "results.csv"
    blocker.write_text("x\n")
    with pytest.raises(CkmError, match=f"because {blocker} is a file, not a folder"):
        check_output_file(blocker / "fit.json", "--json")
    with pytest.raises(CkmError, match="--output .* is a file, not a folder"):
        check_output_dir(blocker, "--output")
    assert output_dir_problem(blocker / "sub") == (
        f"cannot be created, because {blocker} is a file, not a folder"
    )
    assert blocker.read_text() == "x\n"


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(CkmError, match="is a folder; give a file name inside it"):
        check_output_file(tmp_path, "--json")


def test_no_write_permission(tmp_path, monkeypatch):
    # root may write anywhere, so the permission answer is simulated
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(CkmError, match="no permission to write in the folder"):
        check_output_file(tmp_path / "fit.json", "--json")
    assert output_dir_problem(tmp_path) == "is a folder without write permission"


def test_figure_extension_must_be_one_matplotlib_writes(tmp_path):
    assert {"png", "pdf", "svg"} <= set(figure_formats())
    with pytest.raises(
        CkmError, match=r"'\.foo' is not one that can be written; use one of: .*\.png"
    ):
        check_output_file(tmp_path / "curve.foo", "--plot", suffixes=figure_formats())
    with pytest.raises(CkmError, match="no extension is not one"):
        check_output_file(tmp_path / "curve", "--plot", suffixes=figure_formats())
    assert check_output_file(tmp_path / "curve.PNG", "--plot", suffixes=figure_formats())


@pytest.mark.parametrize("option,name", [("--plot", "curve.foo"), ("--json", "x/power.json")])
def test_power_checks_its_outputs_before_simulating(tmp_path, monkeypatch, capsys, option, name):
    import ckm_research.inference.power as power

    def no_simulation(*args, **kwargs):
        raise AssertionError("the simulation ran before the output was checked")

    monkeypatch.setattr(power, "power_analysis", no_simulation)
    pop = tmp_path / "pop.lav"
    pop.write_text(POPULATION, encoding="utf-8")
    (tmp_path / "x").write_text("a file where a folder is expected")
    code = main(["power", str(pop), "--n", "50", "--reps", "2", option, str(tmp_path / name)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert option in err and "Traceback" not in err and "internal error" not in err


def test_run_refuses_an_output_folder_under_a_file(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("")
    code = main(["run", "--output", str(blocker / "report"), "--show-params"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "'output_dir' parameter" in err and f"because {blocker} is a file" in err
