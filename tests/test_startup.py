"""Start-up stays cheap: importing the package and the CLI loads no heavy library.

``import ckm_research`` and ``ckm --help`` must not import scipy.stats, pandas or
matplotlib (the public API is imported on first use, PEP 562, and each ``ckm``
subcommand imports its engine in its handler); the timings themselves are in
benchmarks/bench_startup.py. Each check runs in a fresh interpreter so that
modules other tests imported do not count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy.stats", "pandas", "matplotlib")
# what a plain ML fit needs none of (scipy.stats costs about a second to import; the fit
# path takes its distributions from ckm_research.sem.distributions, on scipy.special)
NOT_FOR_A_FIT = (
    "scipy.stats",
    "scipy.optimize",
    "scipy.sparse",
    "matplotlib",
    "statsmodels",
    "semopy",
    "sklearn",
    "joblib",
    # rich colours messages on a terminal only; off one (here) a note is a plain line
    "rich",
)
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
HS_CSV = ROOT / "tests" / "reference" / "data" / "HolzingerSwineford1939.csv"


def _modules_after(code: str) -> set[str]:
    """The names in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import ckm_research",
        "import ckm_research.cli",
        "import ckm_research.errors",
        "from ckm_research.cli import build_parser; build_parser()",
        "import contextlib, io\nfrom ckm_research.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--help'])",
    ],
)
def test_no_heavy_import(code):
    loaded = _modules_after(code)
    assert not [m for m in HEAVY if m in loaded], code


def test_parsing_fit_arguments_imports_nothing_heavy(tmp_path):
    model = tmp_path / "hs.lav"
    model.write_text(HS_MODEL)
    code = (
        "from ckm_research.cli import build_parser\n"
        f"build_parser().parse_args(['fit', {str(model)!r}, {str(HS_CSV)!r}])"
    )
    loaded = _modules_after(code)
    assert not [m for m in HEAVY + NOT_FOR_A_FIT if m in loaded]


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_a_whole_ckm_fit_loads_no_heavy_library(tmp_path, estimator):
    """``ckm fit`` of the Holzinger-Swineford CFA, printed as a user sees it, without
    scipy.stats, scipy.optimize or any plotting/statistics package."""
    model = tmp_path / "hs.lav"
    model.write_text(HS_MODEL)
    code = (
        "import contextlib, io\nfrom ckm_research.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    rc = main(['fit', {str(model)!r}, {str(HS_CSV)!r}, '--estimator', {estimator!r}])\n"
        "assert rc == 0 and 'visual =~' in out.getvalue(), out.getvalue()"
    )
    loaded = _modules_after(code)
    assert "ckm_research.sem.api" in loaded and "pandas" in loaded  # it did fit
    assert not [m for m in NOT_FOR_A_FIT if m in loaded]


def test_lazy_public_names_still_work():
    """The lazy names resolve to the same objects, and stay listed."""
    import ckm_research
    from ckm_research import SEMResults, fit
    from ckm_research.fitting import fit as api_fit
    from ckm_research.sem.results import SEMResults as api_results

    assert fit is api_fit and ckm_research.fit is api_fit and SEMResults is api_results
    assert set(ckm_research.__all__) <= set(dir(ckm_research))
    for name in ckm_research.__all__:
        assert getattr(ckm_research, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        ckm_research.no_such_name  # noqa: B018


def test_inference_bootstrap_is_the_function():
    """``ckm_research.inference.bootstrap`` is the function, also after the submodule import."""
    code = (
        "import sys\nimport ckm_research.inference.bootstrap\n"
        "m = sys.modules['ckm_research.inference.bootstrap']\n"
        "import ckm_research.inference as i\n"
        "assert i.bootstrap is m.bootstrap and callable(i.bootstrap)\n"
        "from ckm_research.inference import bootstrap\nassert bootstrap is m.bootstrap"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize(
    "package",
    [
        "ckm_research.measurement",
        "ckm_research.instrument",
        "ckm_research.report",
        "ckm_research.sem",
    ],
)
def test_subpackage_names_resolve(package):
    import importlib

    mod = importlib.import_module(package)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
