"""The report's message catalogue (``ckm_research.report.i18n``), the ``language``
parameter, the table builders in Chinese and the figures' CJK font.

The figures are drawn for real (PNG into memory) while every warning is recorded:
matplotlib warns "Glyph ... missing from font(s) ..." for each character its fonts
lack, and a Chinese figure must raise none. The font is part of the project's
set-up (``.ci/run`` and ``make setup`` install Debian's fonts-wqy-microhei), so a
machine without one fails here instead of skipping.
"""

from __future__ import annotations

import io
import re
import warnings

import pandas as pd
import pytest

from ckm_research.errors import CkmError
from ckm_research.report import analysis, figures
from ckm_research.report.i18n import (
    LANGUAGES,
    MESSAGES,
    encoding_text,
    engine_text,
    fields,
    jn_text,
    text,
)
from ckm_research.report.params import ParameterError, load_params

HAN = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------------- catalogue
def test_every_message_has_every_language_with_the_same_fields():
    assert LANGUAGES == ("en", "zh")
    for key, pair in MESSAGES.items():
        assert len(pair) == len(LANGUAGES), key
        en, zh = pair
        assert en.strip() or key.startswith("r."), f"{key}: no English text"
        assert fields(en) == fields(zh), f"{key}: fields {fields(en)} vs {fields(zh)}"


def test_chinese_messages_are_chinese():
    # every message with words in it has Chinese characters in its zh text; the few that
    # are symbols, codes or a shared abbreviation are the same in both languages
    same = {k for k, (en, zh) in MESSAGES.items() if en == zh}
    assert same <= {"col.rmsea_ci", "col.ci95", "col.boot_ci", "r.mg.size", "fig.jn.ci"}, same
    for key, (en, zh) in MESSAGES.items():
        words = re.sub(r"\{\w+\}|<[^>]+>", "", en)  # without fields and HTML tags
        names = ("r.is", "r.are", "flag.alpha", "check.ave", "check.htmt", "check.fornell_larcker")
        if key in same or key in names or not re.search("[A-Za-z]{3}", words):
            continue
        assert HAN.search(zh), f"{key}: the Chinese text has no Chinese characters: {zh!r}"


def test_text_fills_fields_and_refuses_unknown_keys_and_languages():
    assert text("table.number", "zh", n=2) == "表2"
    assert text("table.number", "en", n=2) == "Table 2"
    with pytest.raises(KeyError, match="no key 'nope'"):
        text("nope", "en")
    with pytest.raises(CkmError, match="must be one of en, zh; got 'fr'"):
        text("table.number", "fr", n=1)


@pytest.mark.parametrize(
    "jn, expected",
    [
        ({"always_significant": True}, "at every moderator value"),
        ({"never_significant": True}, "at any moderator value"),
        (
            {"bounds": [-1.0, 1.0], "significant_inside": False, "mean": 0.0, "sd": 2.0},
            "outside moderator value(s) -1.000 (-0.50 SD), 1.000 (+0.50 SD)",
        ),
        (
            {"bounds": [-1.0, 1.0], "significant_inside": True, "mean": 0.0, "sd": 2.0},
            "between moderator value(s)",
        ),
        ({"bounds": [0.5], "significant_inside": True, "mean": 0.0, "sd": 1.0}, "on one side of"),
    ],
)
def test_johnson_neyman_sentence_in_both_languages(jn, expected):
    en = jn_text(jn, 0.95, "en")
    assert expected in en and "(95% level)" in en
    zh = jn_text(jn, 0.95, "zh")
    assert HAN.search(zh) and "95%" in zh and not re.search("[a-z]{4}", zh)


def test_johnson_neyman_sentence_equals_the_moderation_module():
    from ckm_research.data.examples import load_dataset
    from ckm_research.moderation.product_indicators import fit_dblcent
    from ckm_research.moderation.simple_slopes import johnson_neyman

    model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z"
    res = fit_dblcent(model, load_dataset("oneInt"))
    jn = johnson_neyman(res, "Y", "X", "Z")
    numbers = {
        "bounds": list(jn.bounds),
        "significant_inside": jn.significant_inside,
        "always_significant": jn.always_significant,
        "never_significant": jn.never_significant,
        "mean": jn.mean,
        "sd": jn.sd,
    }
    assert jn_text(numbers, 0.95, "en") == jn.describe()


def test_encoding_and_engine_notes():
    en = encoding_text("a.csv", "GBK (detected)", "en")
    assert en == "a.csv was read as GBK (detected) text."
    assert encoding_text("a.csv", "GBK (detected)", "zh") == "a.csv 按 GBK 编码读取（自动检测）。"
    assert "按参数指定" in encoding_text("a.csv", "cp1252 (given)", "zh")
    msg = (
        "93 of 379 cases have missing values and were deleted listwise; use "
        "estimator='FIML' (or missing='ml') to keep them"
    )
    assert engine_text(msg, "en") == msg
    assert engine_text(msg, "zh").startswith("379 个个案中有 93 个含缺失值")
    grouped = msg.replace("cases have", "cases in group high have")
    assert "（组 高分组）" in engine_text(grouped, "zh")
    assert engine_text("some other warning", "zh") == "some other warning"
    level = engine_text("metric: " + msg.replace("cases have", "cases in group low have"), "zh")
    assert level.startswith("弱（度量）：379 个个案中有 93 个（组 低分组）含缺失值"), level
    flag = "standardized loading of cip2 on CIP is 0.657 < 0.708"
    assert engine_text(flag, "zh") == "cip2 在 CIP 上的标准化载荷为 0.657 < 0.708"


# ---------------------------------------------------------------------- parameter
def test_language_parameter_is_validated():
    assert load_params(overrides={"language": "zh"}, check=False).language == "zh"
    assert load_params(check=False).language == "en"
    with pytest.raises(ParameterError, match="language") as err:
        load_params(overrides=[("language", "fr")], check=False)
    assert "'en'" in str(err.value) and "'zh'" in str(err.value)


def test_language_changes_the_default_title_only():
    from ckm_research.report.params import check_params

    en = load_params(check=False)
    zh = load_params(overrides={"language": "zh"}, check=False)
    assert check_params(en)["adjusted"].get("title") is None
    assert HAN.search(check_params(zh)["adjusted"]["title"])
    mine = load_params(overrides={"language": "zh", "title": "My study"}, check=False)
    assert "title" not in check_params(mine)["adjusted"]


# ---------------------------------------------------------------------- tables
def _fake_fit_rows():
    return [
        {
            "model": "M",
            "n": 300,
            "npar": 40.0,
            "chisq": 512.3,
            "df": 200.0,
            "pvalue": 0.0001,
            "scaling": None,
            "chisq.ml": 512.3,
            "cfi": 0.95,
            "tli": 0.94,
            "rmsea": 0.05,
            "rmsea.ci.lower": 0.04,
            "rmsea.ci.upper": 0.06,
            "srmr": 0.05,
            "aic": 1.0,
            "bic": 2.0,
            "robust": False,
        }
    ]


def test_tables_in_chinese_have_the_same_numbers_and_chinese_words():
    rows = _fake_fit_rows()
    en = analysis.fit_table(rows, name="fit", title="Fit")
    zh = analysis.fit_table(rows, name="fit", title="拟合", lang="zh")
    pd.testing.assert_frame_equal(en.frame, zh.frame)
    assert en.formats == zh.formats and en.hide == zh.hide
    assert en.note.startswith("RMSEA with its 90% CI")
    assert HAN.search(zh.note) and "Hu & Bentler, 1999" in zh.note
    assert zh.labels["model"] == "模型" and en.labels["model"] == "Model"
    html = zh.to_html(3, lang="zh")
    assert "表3" in html and "注：" in html and "Table" not in html and "Note." not in html
    assert "Table 3" in en.to_html(3) and "<em>Note.</em>" in en.to_html(3)


def test_table_words_from_results_are_translated():
    frame = pd.DataFrame(
        {
            "x": ["A"],
            "y": ["B"],
            "r": [0.3],
            "r.adjusted": [0.2],
            "pvalue": [0.01],
            "significant": [True],
        }
    )

    class Marker:
        table, r_m, rule, n = frame, 0.1, "smallest", 200

    zh = analysis.marker_table(Marker(), lang="zh")
    assert zh.frame["significant"].tolist() == [True]  # results.json keeps the boolean
    assert zh.display_frame(lang="zh")["显著"].tolist() == ["是"]
    assert "<td>是</td>" in zh.to_html(1, lang="zh")
    assert analysis.marker_table(Marker()).display_frame()["Significant"].tolist() == ["True"]
    assert analysis._slope_label("-1 SD", "zh") == "均值 − 1 SD"
    assert analysis._slope_label("-1 SD", "en") == "-1 SD"
    assert analysis._word("invariance.level", "metric", "zh") == "弱（度量）"
    assert analysis._word("invariance.level", "partial", "zh") == "partial"


# ---------------------------------------------------------------------- figures
def _draw(fig) -> list[str]:
    """Render ``fig`` to PNG; the warnings raised while drawing (as text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=60)
    figures.close(fig)
    return [str(w.message) for w in caught]


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


@pytest.fixture()
def chinese():
    yield figures.use_report_style("zh")
    figures.use_report_style("en")


def _report_figures(zh_labels: dict):
    shares = pd.DataFrame(
        [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]], index=["CKM", "SAT"], columns=[1, 2, 3, 4]
    )
    loads = pd.DataFrame(
        {
            "factor": ["CKM", "CKM", "SAT"],
            "item": ["c1", "c2", "s1"],
            "std": [0.8, 0.7, 0.9],
            "ci.lower": [0.7, 0.6, 0.8],
            "ci.upper": [0.9, 0.8, 1.0],
        }
    )
    htmt = pd.DataFrame([[1, 0.9], [0.9, 1]], index=["CKM", "SAT"], columns=["CKM", "SAT"])
    power = pd.DataFrame(
        {"N=200": [0.5, 0.9], "N=400": [0.8, 1.0]}, index=["SAT ← CKM", "INS ← CKM"]
    )
    return [
        figures.plot_likert(shares, labels=zh_labels),
        figures.plot_loadings(loads),
        figures.plot_htmt(htmt),
        figures.plot_power_heatmap(power),
    ]


def test_chinese_figures_have_no_missing_glyphs(chinese):
    assert chinese == "", "no CJK font: install fonts-wqy-microhei (.ci/run, make setup do)"
    assert figures.cjk_font() in figures.CJK_FONTS
    labels = {1: "非常不同意", 2: "不同意", 3: "同意", 4: "非常同意"}
    for fig in _report_figures(labels):
        figures.localize(fig)
        shown = " ".join(_texts(fig))
        missing = [w for w in _draw(fig) if "missing from font" in w]
        assert not missing, missing
        assert not re.search("[a-z]{4}", shown), f"English words left: {shown}"
    assert HAN.search(shown)  # the power heat map's axis and colour-bar labels


def test_moderation_figures_in_chinese(chinese):
    from ckm_research.data.examples import load_dataset
    from ckm_research.moderation.product_indicators import fit_dblcent
    from ckm_research.moderation.simple_slopes import (
        johnson_neyman,
        plot_johnson_neyman,
        plot_simple_slopes,
    )

    model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z"
    res = fit_dblcent(model, load_dataset("oneInt"))
    jn = johnson_neyman(res, "Y", "X", "Z")
    relabel = figures.moderation_labels("X", "Y", "Z", 0.95, mean=jn.mean, sd=jn.sd)
    for fig in (plot_simple_slopes(res, "Y", "X", "Z"), plot_johnson_neyman(res, "Y", "X", "Z")):
        fig.axes[0].set_title("")  # as StageOutput.figure does
        figures.localize(fig, relabel)
        left = [t for t in _texts(fig) if re.search("[a-z]{4}", t)]
        assert not left, f"English labels left in a Chinese figure: {left}"
        missing = [w for w in _draw(fig) if "missing from font" in w]
        assert not missing, missing


def test_english_figures_are_unchanged_by_localize():
    figures.use_report_style("en")
    for fig in _report_figures({1: "a", 2: "b", 3: "c", 4: "d"}):
        before = _texts(fig)
        figures.localize(fig, {"Sample size": "样本量"})
        assert _texts(fig) == before
        figures.close(fig)


def test_without_a_cjk_font_the_report_says_so_and_figures_stay_english(monkeypatch):
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="No font with Chinese characters"):
        note = figures.use_report_style("zh")
    try:
        assert "fonts-wqy-microhei" in note and HAN.search(note)
        fig = _report_figures({1: "a", 2: "b", 3: "c", 4: "d"})[1]
        figures.localize(fig)
        assert "Standardized loading (95% CI)" in _texts(fig)
        assert not [w for w in _draw(fig) if "missing from font" in w]
    finally:
        figures.use_report_style("en")


def test_catalogue_keys_used_in_code_exist():
    # every key the report's code asks for is in the catalogue (a typo would only fail
    # when that sentence is printed)
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [*(root / "ckm_research" / "report").glob("*.py"), *(root / "notebooks").glob("0*.py")]
    call = re.compile(r"""(?:(?<![\w.])_t|(?<![\w.])text|self\.t)\(\s*f?["']([a-z_][\w.]*)["']""")
    used = set()
    for path in files:
        used |= set(call.findall(path.read_text(encoding="utf-8")))
    used = {k for k in used if "{" not in k}
    assert used, "no catalogue key found in the code"
    assert not sorted(used - set(MESSAGES)), sorted(used - set(MESSAGES))


# ---------------------------------------------------------------------- generated texts (zh2)
#: Three English words in a row: an English sentence left in a Chinese text (citations such
#: as "Chen et al., 2001" or "Kolenikov & Bollen" have no three words of 3+ letters in a row).
ENGLISH_RUN = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]{3,}){2,}")

HEYWOOD_CASES = [
    {"variable": "ck1", "kind": "observed", "what": "residual variance", "est": -0.12,
     "se": 0.05, "std": -0.1, "r2": 1.1, "p_negative": 0.01, "significant": True},
    {"variable": "F1", "kind": "latent", "what": "variance", "est": -0.02, "se": 0.04,
     "std": -0.02, "r2": None, "p_negative": 0.3, "significant": False, "group": "2"},
    {"variable": "F1 ~~ F2", "kind": "latent", "what": "correlation", "est": 0.9, "se": None,
     "std": 1.04, "r2": None, "p_negative": None, "significant": None},
]


def _is_chinese(message: str) -> bool:
    return bool(HAN.search(message)) and not ENGLISH_RUN.search(message)


def test_heywood_text_in_chinese():
    from ckm_research.structural.admissibility import heywood_text

    en = heywood_text(HEYWOOD_CASES, model="The structural model")
    assert en == heywood_text(HEYWOOD_CASES, model="The structural model", lang="en")
    assert en.startswith("The structural model has an inadmissible solution (a Heywood case: "
                         "ck1, F1, F1 ~~ F2)") and "in group 2" in en
    zh = heywood_text(HEYWOOD_CASES, model=text("heywood.model.structural", "zh"), lang="zh")
    assert _is_chinese(zh), zh
    for shown in ("ck1", "F1 ~~ F2", "-0.120", "SE 0.050", "1.10", "1.040", "组 2",
                  "Kolenikov & Bollen, 2012", "Chen et al., 2001"):
        assert shown in zh, shown
    assert heywood_text([], lang="zh") == ""
    assert _is_chinese(heywood_text(HEYWOOD_CASES[:1], lang="zh"))  # default model name


def test_heywood_problem_and_power_blocker_in_chinese(monkeypatch):
    from ckm_research.structural import admissibility

    class Out:
        def __init__(self):
            self.problems = {}

        def numbers(self, **kw):
            self.numbers_ = kw

        def problem(self, part, message):
            self.problems[part] = message

    monkeypatch.setattr(analysis, "heywood_cases", lambda res: HEYWOOD_CASES)
    monkeypatch.setattr(admissibility, "heywood_cases", lambda res: HEYWOOD_CASES)
    out_en, out_zh = Out(), Out()
    analysis.flag_heywood(out_en, None)
    analysis.flag_heywood(out_zh, None, model=text("heywood.model.structural", "zh"), lang="zh")
    ((part_en, msg_en),) = out_en.problems.items()
    assert part_en == "Inadmissible solution (Heywood case: ck1, F1, F1 ~~ F2)"
    assert msg_en == admissibility.heywood_text(HEYWOOD_CASES, model="The structural model")
    ((part_zh, msg_zh),) = out_zh.problems.items()
    assert _is_chinese(part_zh) and "ck1, F1, F1 ~~ F2" in part_zh
    assert _is_chinese(msg_zh)
    en = admissibility.power_blocker(None)
    assert en == admissibility.power_blocker(None, lang="en")
    assert en.startswith("The power analysis was not run") and "ckm run --only power" in en
    zh = admissibility.power_blocker(None, lang="zh")
    assert _is_chinese(zh) and "ckm run --only power" in zh and "F1 ~~ F2" in zh


def test_unavailable_feature_reason_in_chinese(monkeypatch):
    from ckm_research.report import inputs

    monkeypatch.setitem(inputs._FEATURES, "power",
                        ("ckm_research.no_such_module", "power_analysis", "Monte Carlo power"))
    fn, en = inputs.feature("power")
    assert fn is None and en.startswith("Monte Carlo power is not part of this installation")
    assert "(ckm_research.no_such_module.power_analysis is missing)" in en
    fn, zh = inputs.feature("power", "zh")
    assert fn is None and _is_chinese(zh) and "ckm_research.no_such_module.power_analysis" in zh
    assert text("feature.power", "zh") in zh
    for name in inputs._FEATURES:  # every feature has its Chinese name
        assert _is_chinese(text(f"feature.{name}", "zh"))
    assert inputs.feature("power", "zh") != (None, "")  # installed: no reason at all
    assert inputs.feature("measurement", "zh")[1] == ""


def test_subset_note_in_chinese():
    from ckm_research.data.subset import apply_subset

    frame = pd.DataFrame({"industry": [1, 2, 3, 2], "size": ["a", "b", "b", "a"]})
    kept_en, en = apply_subset(frame, {"industry": [2, 3], "size": ["b"]})
    assert en == "Subsample analysed: respondents with industry in {2, 3} and size in {b}."
    kept_zh, zh = apply_subset(frame, {"industry": [2, 3], "size": ["b"]}, "zh")
    assert kept_zh.equals(kept_en) and len(kept_zh) == 2
    assert _is_chinese(zh) and "industry 属于 {2, 3}" in zh and "size 属于 {b}" in zh
    assert apply_subset(frame, {}, "zh") == (frame, "")


def test_latex_tables_in_chinese(tmp_path):
    from ckm_research.report.store import StageOutput
    from ckm_research.report.tables import Table

    table = Table("flags", "Checks", pd.DataFrame({"check": ["a", "b"], "ok": [True, False]}),
                  note="Two checks.")
    en = table.to_latex()
    assert en == table.to_latex(lang="en")
    assert "\\item \\textit{Note.} Two checks." in en and not HAN.search(en)
    zh = table.to_latex(lang="zh")
    assert "\\item 注：Two checks." in zh and "a & 是" in zh and "b & 否" in zh
    assert "Note." not in zh and "True" not in zh and "yes" not in zh
    out = StageOutput(tmp_path, "scratch", display=False, check=False, lang="zh")
    out.table(table)
    assert (tmp_path / "tables" / "flags.tex").read_text(encoding="utf-8") == zh
    out_en = StageOutput(tmp_path / "en", "scratch", display=False, check=False)
    out_en.table(table)
    assert (tmp_path / "en" / "tables" / "flags.tex").read_text(encoding="utf-8") == en


def test_lms_listwise_note_is_translated():
    """The LMS listwise-deletion note as fit_lms writes it now (with the FIML hint)
    is translated in the zh report (it was left in English)."""
    from ckm_research.report.i18n import engine_text

    msg = ("93 of 379 cases have missing values and were deleted listwise (LMS here uses "
           "complete cases; missing='ml' keeps them)")  # fmt: skip
    zh = engine_text(msg, "zh")
    assert zh != msg and "379 个个案中有 93 个" in zh


def test_a_moderator_mean_of_almost_zero_is_not_printed_as_minus_zero():
    # the JN figure's axis read "mean -0.00" for a centred moderator (report, Chromium)
    from ckm_research.report.figures import moderation_labels

    labels = moderation_labels("CKM", "INS", "CTU", 0.95, mean=-0.004, sd=1.13)
    assert "CTU (latent metric; mean 0.00, SD 1.13)" in labels
