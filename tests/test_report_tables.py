"""Building blocks of the report: APA formatting, tables, model variants, descriptives.

Fast tests, no notebook runs: numbers print as APA asks; a table's CSV, LaTeX,
HTML and JSON agree; the model variants the pipeline fits are the models meant
(checked by fitting them: a labelled model has the same chi-square, a
population model built from a fit reproduces its implied covariance matrix);
Mardia's coefficients equal their definition; R-squared equals lavaan's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ckm_research
from ckm_research.data.normality import mardia
from ckm_research.report.analysis import fit_row, fit_table, paths_table
from ckm_research.report.tables import Table, format_value, latex_escape
from ckm_research.sem.modelsyntax import (
    cfa_syntax,
    drop_factor,
    indirect_syntax,
    interaction_syntax,
    population_syntax,
    to_syntax,
)
from ckm_research.sem.syntax import parse_model
from ckm_research.structural import r_squared

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
CKM_MODEL = (ROOT / "ckm_research" / "models" / "ckm_study.lav").read_text(encoding="utf-8")
POLDEM = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""


@pytest.fixture(scope="module")
def poldem():
    return pd.read_csv(REF / "data" / "PoliticalDemocracy.csv")


# ---------------------------------------------------------------------- formatting
@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (0.0004, "p", "< .001"), (0.001, "p", ".001"), (0.0312, "p", ".031"), (0.5, "p", ".500"),
        (-0.254, "r2", "\u2212.25"), (0.999, "r2", "1.00"), (-0.001, "r2", ".00"),
        (0.0534, "r3", ".053"), (1.5, "r2", "1.50"), (-12.3456, "num3", "\u221212.346"),
        (1234.4, "int", "1,234"), (12.25, "num1", "12.2"), (None, "num2", "\u2014"),
        (float("nan"), "p", "\u2014"), ("MLR", "num2", "MLR"), (True, "text", "True"),
    ],
)
def test_apa_numbers(value, kind, expected):
    assert format_value(value, kind) == expected


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="unknown column format"):
        format_value(1.0, "percent")


def test_latex_escapes_special_characters():
    assert latex_escape("R² & β_1 50% #1 {x} ~ \u2212.5") == \
        "R$^2$ \\& $\\beta$\\_1 50\\% \\#1 \\{x\\} \\textasciitilde{} $-$.5"


def _table():
    frame = pd.DataFrame({"path": ["A ← B", "C ← D"], "est": [0.12345, -1.5],
                          "lo": [0.01, -2.0], "hi": [0.2, np.nan], "p": [0.0001, 0.2],
                          "note": [np.nan, 0.5]})
    return Table("demo", "A Demo Table", frame, formats={"est": "num3", "p": "p", "note": "r2"},
                 labels={"est": "B", "path": "Path"}, ci={"95% CI": ("lo", "hi", "num2")},
                 blank=["note"], note="Made up & small.")


def test_table_display_html_latex():
    t = _table()
    shown = t.display_frame()
    assert list(shown.columns) == ["Path", "B", "95% CI", "p", "note"]
    assert list(shown["95% CI"]) == ["[0.01, 0.20]", "\u2014"]
    assert list(shown["p"]) == ["< .001", ".200"]
    assert list(shown["note"]) == ["", ".50"]
    html = t.to_html(3)
    assert "<strong>Table 3</strong>" in html and "<em>A Demo Table</em>" in html
    assert "<em>Note.</em> Made up &amp; small." in html
    assert html.count('class="num"') == 8  # B, CI, p, note in two rows
    tex = t.to_latex()
    assert "\\caption{A Demo Table}" in tex and "\\textit{Note.} Made up \\& small." in tex
    assert "$-$1.500" in tex and "\\toprule" in tex and tex.count("\\\\") == 3


def test_table_record_round_trip_and_files(tmp_path):
    t = _table()
    rec = json.loads(json.dumps(t.to_record()))  # the JSON in results.json
    back = Table.from_record("demo", rec)
    assert back.to_html(1) == t.to_html(1)
    files = t.write(tmp_path)
    csv = pd.read_csv(files["csv"])
    assert csv["est"].tolist() == [0.12345, -1.5]  # full precision in the CSV
    assert files["tex"].read_text(encoding="utf-8") == t.to_latex()


# ---------------------------------------------------------------------- model variants
def test_to_syntax_round_trips_statements():
    text = ("F =~ 1*x1 + a*x2 + NA*x3 + start(0.5)*x4\nG =~ x5 + x6 + x7\nG ~ b*F\n"
            "x1 ~~ x5\nx2 ~ 1\nd := a*b\na == b\n")
    a = parse_model(text)
    b = parse_model(to_syntax(a))
    key = [(s.lhs, s.op, s.rhs, s.modifiers) for s in a.statements]
    assert key == [(s.lhs, s.op, s.rhs, s.modifiers) for s in b.statements]
    assert a.definitions[0].expression == b.definitions[0].expression
    assert [(c.lhs, c.op, c.rhs) for c in a.constraints] == \
        [(c.lhs, c.op, c.rhs) for c in b.constraints]


def test_indirect_effects_of_the_ckm_model():
    text, effects = indirect_syntax(CKM_MODEL)
    chains = {e.describe() for e in effects}
    assert len(effects) == 26
    assert "CIP \u2192 CKM \u2192 SAT \u2192 LOY" in chains
    assert "CTU \u2192 SAT \u2192 LOY" in chains
    assert all(len(e.path) >= 3 for e in effects)
    parsed = parse_model(text)
    assert len(parsed.definitions) == 26
    assert all(s.modifier(0).label for s in parsed.statements if s.op == "~")


def test_labelled_model_fits_as_the_original_and_defines_the_product(poldem):
    text, effects = indirect_syntax(POLDEM)
    assert [e.describe() for e in effects] == ["ind60 \u2192 dem60 \u2192 dem65"]
    a = ckm_research.fit(POLDEM, poldem)
    b = ckm_research.fit(text, poldem)
    assert b.fit_measures["chisq"] == pytest.approx(a.fit_measures["chisq"], rel=1e-9)
    est = b.estimates
    reg = est[est["op"] == "~"].set_index(["lhs", "rhs"])["est"]
    product = reg[("dem60", "ind60")] * reg[("dem65", "dem60")]
    defined = est[est["op"] == ":="]
    assert list(defined["lhs"]) == [effects[0].name]
    assert defined["est"].iloc[0] == pytest.approx(product, rel=1e-12)


def test_measurement_model_and_its_variants():
    cfa = parse_model(cfa_syntax(CKM_MODEL))
    assert not [s for s in cfa.statements if s.op == "~"]
    assert len([s for s in cfa.statements if s.op == "=~"]) == 53
    inter = parse_model(interaction_syntax(CKM_MODEL, [("LOY", "CKM", "CTU")]))
    loy = {s.rhs for s in inter.statements if s.op == "~" and s.lhs == "LOY"}
    assert loy == {"SAT", "CKM", "CTU", "CKM:CTU"}  # the missing main effect added
    reduced = parse_model(drop_factor(CKM_MODEL, "CTU"))
    names = {s.lhs for s in reduced.statements} | {s.rhs for s in reduced.statements}
    assert "CTU" not in names and "ctu1" not in names and "SAT" in names


def test_population_model_reproduces_the_fit(poldem):
    from ckm_research.inference.population import PopulationModel

    res = ckm_research.fit(POLDEM, poldem)
    pop = PopulationModel(population_syntax(res.estimates))
    implied = next(iter(res.implied.values()))["cov"]
    sigma = pop.covariance().loc[implied.index, implied.columns]
    np.testing.assert_allclose(sigma.to_numpy(), implied.to_numpy(), rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------------- descriptives
def test_mardia_equals_its_definition():
    rng = np.random.default_rng(3)
    x = rng.standard_t(df=5, size=(60, 4))
    got = mardia(pd.DataFrame(x))
    xc = x - x.mean(axis=0)
    s_inv = np.linalg.inv(xc.T @ xc / 60)
    b1 = sum((xc[i] @ s_inv @ xc[j]) ** 3 for i in range(60) for j in range(60)) / 60**2
    b2 = sum((xc[i] @ s_inv @ xc[i]) ** 2 for i in range(60)) / 60
    assert got["b1p"] == pytest.approx(b1, rel=1e-10)
    assert got["b2p"] == pytest.approx(b2, rel=1e-10)
    assert got["skew_df"] == 4 * 5 * 6 / 6
    assert got["kurtosis_z"] == pytest.approx((b2 - 24) / np.sqrt(8 * 24 / 60))


def test_mardia_is_near_its_expectation_for_normal_data():
    rng = np.random.default_rng(11)
    got = mardia(rng.normal(size=(20000, 5)))
    assert got["b2p"] == pytest.approx(35, rel=0.02)
    assert got["kurtosis_pvalue"] > 0.001


def test_r_squared_equals_lavaan(poldem):
    ref = json.loads((REF / "json" / "engine_poldem_ml.json").read_text(encoding="utf-8"))
    res = ckm_research.fit(POLDEM, poldem)
    r2 = r_squared(res)
    assert set(r2) == {"dem60", "dem65"}
    for name, value in r2.items():
        assert value == pytest.approx(ref["rsquare"][name], abs=1e-6)


def test_fit_and_path_tables_read_the_fit(poldem):
    res = ckm_research.fit(POLDEM, poldem)
    row = fit_row("PD", res)
    assert row["chisq"] == pytest.approx(38.125, abs=5e-4) and row["df"] == 35
    assert row["robust"] is False
    table = fit_table([row])
    assert "Hu & Bentler, 1999" in table.note
    assert table.display_frame()["CFI"].iloc[0] == format_value(res.fit_measures["cfi"], "r3")
    paths = paths_table(res)
    assert len(paths.frame) == 3
    first = paths.frame.iloc[0]
    assert first["est"] == pytest.approx(1.483, abs=5e-4) and first["se"] == \
        pytest.approx(0.399, abs=5e-4)
    assert "95% CI of B" in paths.display_frame().columns


def test_sample_description_note_counts_respondents_not_table_rows():
    from ckm_research.instrument.load import load_instrument
    from ckm_research.report.analysis import profile_table

    ins = load_instrument()
    profile = [i.id for i in ins.items() if i.kind == "profile"]
    frame = pd.DataFrame({pid: [1.0] * 7 + [2.0] * 4 for pid in profile})
    table = profile_table(frame, ins)
    assert table.note.startswith("N = 11 respondents")
    assert len(table.frame) != 11


def test_short_labels_stay_on_one_line_in_html():
    frame = pd.DataFrame({
        "term": ["CKM \u00d7 CTU", "a label long enough to wrap over lines", "CKM"],
        "est": [0.1, 0.2, 0.3],
    })
    html = Table("t", "T", frame, formats={"est": "num2"}).to_html(1)
    assert '<td class="nw">CKM \u00d7 CTU</td>' in html
    assert "<td>a label long enough to wrap over lines</td>" in html
    assert "<td>CKM</td>" in html  # one word: nothing to keep together


def test_hypotheses_of_another_model_are_not_labelled_with_the_ckm_study():
    # the seed's words (condition -> CKM, CKM -> outcome) for the CKM study only; on the
    # corporate-reputation survey they labelled COMP -> CUSA "CKM -> outcome"
    from ckm_research.report.analysis import hypotheses_table

    def path(pred, out):
        return {"predictor": pred, "outcome": out, "est": 0.3, "ci.lower": 0.1,
                "ci.upper": 0.5, "pvalue": 0.01}

    inter = [{"term": "COMP × LIKE", "outcome": "CUSL", "est": -0.1, "ci.lower": -0.2,
              "ci.upper": -0.03, "pvalue": 0.01}]
    generic = hypotheses_table([path("COMP", "CUSA"), path("CUSA", "CUSL")], [], inter,
                               level=0.95)
    assert list(generic.frame["kind"]) == ["COMP → outcome", "COMP → outcome", "moderation"]
    assert "paths into COMP" in generic.note and "CKM" not in generic.note
    ckm = hypotheses_table([path("CIP", "CKM"), path("CKM", "SAT")], [],
                           [dict(inter[0], term="CKM × CTU", outcome="SAT")], level=0.95)
    assert list(ckm.frame["kind"]) == ["condition → CKM", "CKM → outcome", "moderation"]
    assert "conditions → CKM → outcomes" in ckm.note
