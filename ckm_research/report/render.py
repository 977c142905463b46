"""The report, section by section, from ``results.json`` and ``manifest.json`` alone.

The report notebook (``notebooks/07_report.ipynb``) shows one section per cell;
:class:`Report` writes each section's HTML from the results the stages
recorded, so that every number the report prints is in ``results.json``
(tables at full precision, narrative numbers under each stage's ``numbers``).
Tables and figures are numbered in order of appearance, APA style; figures
are embedded (base64 PNG) so that ``report.html`` is one self-contained file
to send to a co-author.

The sections follow the APA Journal Article Reporting Standards for SEM
(Appelbaum et al., 2018, Table 7; Kline, 2016, ch. 18): sample, missing data
and normality; estimator and software; global fit with cited guidelines and
local fit; measurement table; discriminant validity; common method variance;
structural paths with CIs and R-squared; indirect effects; moderation with
simple slopes and Johnson-Neyman plots; invariance; power; the model syntax;
and a provenance block.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from ckm_research.report.i18n import MESSAGES, engine_text
from ckm_research.report.i18n import text as _text
from ckm_research.report.store import STATUS_OK, STATUS_SKIPPED, read_results
from ckm_research.report.tables import Table, format_value

__all__ = ["Report", "REFERENCES"]

#: APA references the report may cite, by key.
REFERENCES = {
    "appelbaum": "Appelbaum, M., Cooper, H., Kline, R. B., Mayo-Wilson, E., Nezu, A. M., & "
                 "Rao, S. M. (2018). Journal article reporting standards for quantitative "
                 "research in psychology. <i>American Psychologist, 73</i>(1), 3-25.",
    "bagozzi": "Bagozzi, R. P., & Yi, Y. (1988). On the evaluation of structural equation "
               "models. <i>Journal of the Academy of Marketing Science, 16</i>(1), 74-94.",
    "bauer": "Bauer, D. J., & Curran, P. J. (2005). Probing interactions in fixed and "
             "multilevel regression. <i>Multivariate Behavioral Research, 40</i>(3), 373-400.",
    "bollen": "Bollen, K. A. (1987). Total, direct, and indirect effects in structural "
              "equation models. <i>Sociological Methodology, 17</i>, 37-69.",
    "brosseau": "Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit "
                "indices for nonnormality. <i>Multivariate Behavioral Research, 49</i>(5), "
                "460-470.",
    "chen01": "Chen, F., Bollen, K. A., Paxton, P., Curran, P. J., & Kirby, J. B. (2001). "
              "Improper solutions in structural equation models: Causes, consequences, and "
              "strategies. <i>Sociological Methods & Research, 29</i>(4), 468-508.",
    "kolenikov": "Kolenikov, S., & Bollen, K. A. (2012). Testing negative error variances: Is "
                 "a Heywood case a symptom of misspecification? <i>Sociological Methods & "
                 "Research, 41</i>(1), 124-167.",
    "chen": "Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement "
            "invariance. <i>Structural Equation Modeling, 14</i>(3), 464-504.",
    "cheung": "Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for "
              "testing measurement invariance. <i>Structural Equation Modeling, 9</i>(2), "
              "233-255.",
    "curran": "Curran, P. J., West, S. G., & Finch, J. F. (1996). The robustness of test "
              "statistics to nonnormality and specification error in confirmatory factor "
              "analysis. <i>Psychological Methods, 1</i>(1), 16-29.",
    "enders": "Enders, C. K. (2010). <i>Applied missing data analysis</i>. Guilford Press.",
    "fornell": "Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models "
               "with unobservable variables and measurement error. <i>Journal of Marketing "
               "Research, 18</i>(1), 39-50.",
    "hair": "Hair, J. F., Risher, J. J., Sarstedt, M., & Ringle, C. M. (2019). When to use and "
            "how to report the results of PLS-SEM. <i>European Business Review, 31</i>(1), "
            "2-24.",
    "henseler": "Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for "
                "assessing discriminant validity in variance-based structural equation "
                "modeling. <i>Journal of the Academy of Marketing Science, 43</i>(1), 115-135.",
    "hoenig": "Hoenig, J. M., & Heisey, D. M. (2001). The abuse of power: The pervasive fallacy "
              "of power calculations for data analysis. <i>The American Statistician, "
              "55</i>(1), 19-24.",
    "hu": "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance "
          "structure analysis: Conventional criteria versus new alternatives. <i>Structural "
          "Equation Modeling, 6</i>(1), 1-55.",
    "kline": "Kline, R. B. (2016). <i>Principles and practice of structural equation "
             "modeling</i> (4th ed.). Guilford Press.",
    "klein": "Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent "
             "interaction effects with the LMS method. <i>Psychometrika, 65</i>(4), 457-474.",
    "lin": "Lin, G.-C., Wen, Z., Marsh, H. W., & Lin, H.-S. (2010). Structural equation models "
           "of latent interactions: Clarification of orthogonalizing and double-mean-centering "
           "strategies. <i>Structural Equation Modeling, 17</i>(3), 374-391.",
    "lindell": "Lindell, M. K., & Whitney, D. J. (2001). Accounting for common method variance "
               "in cross-sectional research designs. <i>Journal of Applied Psychology, "
               "86</i>(1), 114-121.",
    "maccallum": "MacCallum, R. C., Browne, M. W., & Sugawara, H. M. (1996). Power analysis "
                 "and determination of sample size for covariance structure modeling. "
                 "<i>Psychological Methods, 1</i>(2), 130-149.",
    "maccallum02": "MacCallum, R. C., Zhang, S., Preacher, K. J., & Rucker, D. D. (2002). On "
                   "the practice of dichotomization of quantitative variables. "
                   "<i>Psychological Methods, 7</i>(1), 19-40.",
    "mardia": "Mardia, K. V. (1970). Measures of multivariate skewness and kurtosis with "
              "applications. <i>Biometrika, 57</i>(3), 519-530.",
    "marsh": "Marsh, H. W., Hau, K.-T., & Wen, Z. (2004). In search of golden rules. "
             "<i>Structural Equation Modeling, 11</i>(3), 320-341.",
    "mccabe": "McCabe, C. J., Kim, D. S., & King, K. M. (2018). Improving present practices in "
              "the visual display of interactions. <i>Advances in Methods and Practices in "
              "Psychological Science, 1</i>(2), 147-165.",
    "muthen": "Muthén, L. K., & Muthén, B. O. (2002). How to use a Monte Carlo study to decide "
              "on sample size and determine power. <i>Structural Equation Modeling, 9</i>(4), "
              "599-620.",
    "podsakoff": "Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). "
                 "Common method biases in behavioral research. <i>Journal of Applied "
                 "Psychology, 88</i>(5), 879-903.",
    "preacher": "Preacher, K. J., & Hayes, A. F. (2008). Asymptotic and resampling strategies "
                "for assessing and comparing indirect effects in multiple mediator models. "
                "<i>Behavior Research Methods, 40</i>(3), 879-891.",
    "rosseel": "Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. "
               "<i>Journal of Statistical Software, 48</i>(2), 1-36.",
    "satorra": "Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test "
               "statistic for moment structure analysis. <i>Psychometrika, 66</i>(4), 507-514.",
    "yuan": "Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and "
            "covariance structure analysis with nonnormal missing data. <i>Sociological "
            "Methodology, 30</i>, 165-200.",
    "meade": "Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey "
             "data. <i>Psychological Methods, 17</i>(3), 437-455.",
    "nunnally": "Nunnally, J. C., & Bernstein, I. H. (1994). <i>Psychometric theory</i> (3rd "
                "ed.). McGraw-Hill.",
    "savalei": "Savalei, V. (2018). On the computation of the RMSEA and CFI from the "
               "mean-and-variance corrected test statistic with nonnormal data in SEM. "
               "<i>Multivariate Behavioral Research, 53</i>(3), 419-429.",
    "roemer": "Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2: An improved criterion "
              "for assessing discriminant validity in structural equation modeling. "
              "<i>Industrial Management & Data Systems, 121</i>(12), 2637-2650.",
    "pcb": "Preacher, K. J., Curran, P. J., & Bauer, D. J. (2006). Computational tools for "
           "probing interactions in multiple linear regression, multilevel modeling, and "
           "latent curve analysis. <i>Journal of Educational and Behavioral Statistics, "
           "31</i>(4), 437-448.",
    "johnson": "Johnson, J. A. (2005). Ascertaining the validity of individual protocols from "
               "web-based personality inventories. <i>Journal of Research in Personality, "
               "39</i>(1), 103-129.",
    "huang": "Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., & DeShon, R. P. (2012). "
             "Detecting and deterring insufficient effort responding to surveys. <i>Journal of "
             "Business and Psychology, 27</i>(1), 99-114.",
    "tabachnick": "Tabachnick, B. G., & Fidell, L. S. (2013). <i>Using multivariate "
                  "statistics</i> (6th ed.). Pearson.",
    "fuller": "Fuller, C. M., Simmering, M. J., Atinc, G., Atinc, Y., & Babin, B. J. (2016). "
              "Common methods variance detection in business research. <i>Journal of Business "
              "Research, 69</i>(8), 3192-3198.",
    "hayes": "Hayes, A. F. (2015). An index and test of linear moderated mediation. "
             "<i>Multivariate Behavioral Research, 50</i>(1), 1-22.",
    "hayes22": "Hayes, A. F. (2022). <i>Introduction to mediation, moderation, and conditional "
               "process analysis</i> (3rd ed.). Guilford Press.",
    "preacher07": "Preacher, K. J., Rucker, D. D., & Hayes, A. F. (2007). Addressing moderated "
                  "mediation hypotheses. <i>Multivariate Behavioral Research, 42</i>(1), "
                  "185-227.",
    "curran16": "Curran, P. G. (2016). Methods for the detection of carelessly invalid "
                "responses in survey data. <i>Journal of Experimental Social Psychology, "
                "66</i>, 4-19.",
    # issue 12 (rep12): discriminant validity, reliability intervals, CMV, robustness
    "franke": "Franke, G., & Sarstedt, M. (2019). Heuristics versus statistics in discriminant "
              "validity testing: A comparison of four procedures. <i>Internet Research, "
              "29</i>(3), 430-447.",
    "ronkko": "Rönkkö, M., & Cho, E. (2022). An updated guideline for assessing discriminant "
              "validity. <i>Organizational Research Methods, 25</i>(1), 6-47.",
    "kock": "Kock, N. (2015). Common method bias in PLS-SEM: A full collinearity assessment "
            "approach. <i>International Journal of e-Collaboration, 11</i>(4), 1-10.",
    "williams10": "Williams, L. J., Hartman, N., & Cavazotte, F. (2010). Method variance and "
                  "marker variables: A review and comprehensive CFA marker technique. "
                  "<i>Organizational Research Methods, 13</i>(3), 477-514.",
    "simmering": "Simmering, M. J., Fuller, C. M., Richardson, H. A., Ocal, Y., & Atinc, G. M. "
                 "(2015). Marker variable choice, reporting, and interpretation in the "
                 "detection of common method variance: A review and demonstration. "
                 "<i>Organizational Research Methods, 18</i>(3), 473-511.",
    "podsakoff24": "Podsakoff, P. M., Podsakoff, N. P., Williams, L. J., Huang, C., & Yang, J. "
                   "(2024). Common method bias: It's bad, it's complex, it's widespread, and "
                   "it's not easy to fix. <i>Annual Review of Organizational Psychology and "
                   "Organizational Behavior, 11</i>, 17-61.",
    "howard24": "Howard, M. C., Boudreaux, M., & Oglesby, M. (2024). Can Harman's single-factor "
                "test reliably distinguish between research designs? Not in published "
                "management studies. <i>European Journal of Work and Organizational "
                "Psychology, 33</i>(6), 790-804.",
    "feldt": "Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for "
             "coefficient alpha. <i>Applied Psychological Measurement, 11</i>(1), 93-103.",
    "cheung24": "Cheung, G. W., Cooper-Thomas, H. D., Lau, R. S., & Wang, L. C. (2024). "
                "Reporting reliability, convergent and discriminant validity with structural "
                "equation modeling: A review and best-practice recommendations. <i>Asia "
                "Pacific Journal of Management, 41</i>, 745-783.",
    "byrne89": "Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the "
               "equivalence of factor covariance and mean structures: The issue of partial "
               "measurement invariance. <i>Psychological Bulletin, 105</i>(3), 456-466.",
    "park": "Park, S., & Gupta, S. (2012). Handling endogenous regressors by joint estimation "
            "using copulas. <i>Marketing Science, 31</i>(4), 567-586.",
    "becker22": "Becker, J.-M., Proksch, D., & Ringle, C. M. (2022). Revisiting Gaussian "
                "copulas to handle endogenous regressors. <i>Journal of the Academy of "
                "Marketing Science, 50</i>(1), 46-66.",
    "aiken": "Aiken, L. S., & West, S. G. (1991). <i>Multiple regression: Testing and "
             "interpreting interactions</i>. Sage.",
    "mackinnon85": "MacKinnon, J. G., & White, H. (1985). Some heteroskedasticity-consistent "
                   "covariance matrix estimators with improved finite sample properties. "
                   "<i>Journal of Econometrics, 29</i>(3), 305-325.",
    # --- stdint (issue 11): standardized interaction effects and effect sizes ---
    "wen10": "Wen, Z., Marsh, H. W., & Hau, K.-T. (2010). Structural equation models of latent "
             "interactions: An appropriate standardized solution and its scale-free properties. "
             "<i>Structural Equation Modeling, 17</i>(1), 1-22.",
    "cohen88": "Cohen, J. (1988). <i>Statistical power analysis for the behavioral sciences</i> "
               "(2nd ed.). Erlbaum.",
}


def _cited_in(text: str) -> list[str]:
    """Keys of :data:`REFERENCES` cited in ``text`` (author surname, then the year)."""
    import re

    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    found = []
    for key, ref in REFERENCES.items():
        surname = ref.split(",")[0].strip()
        year = re.search(r"\((\d{4})\)", ref).group(1)
        if re.search(rf"{re.escape(surname)}\b[^()]{{0,80}}?[(, ]{year}\b", plain):
            found.append(key)
    return found


def _e(text: Any) -> str:
    return html.escape(str(text))


def f(value: Any, kind: str = "num2") -> str:
    """A number in APA style (see :func:`ckm_research.report.tables.format_value`)."""
    return format_value(value, kind)


def _p(p: Any) -> str:
    text = format_value(p, "p")
    return f"<i>p</i> {text}" if text.startswith("<") else f"<i>p</i> = {text}"


class Report:
    """The report of one output folder (see the module docstring).

    Parameters
    ----------
    output_dir : path
        The pipeline's output folder (with ``results.json``).
    """

    def __init__(self, output_dir: str | Path):
        self.root = Path(output_dir).resolve()
        self.results = read_results(self.root)
        manifest = self.root / "manifest.json"
        self.manifest = json.loads(manifest.read_text(encoding="utf-8")) \
            if manifest.exists() else {}
        self.stages = self.results.get("stages", {})
        self.study = self.results.get("study", {})
        self._tables = 0
        self._figures = 0
        self._cited: set[str] = set()
        self._produced: list[str] = []
        #: the report's language (the ``language`` parameter of ``ckm run``; en or zh)
        self.lang = self.study.get("parameters", {}).get("language", "en")

    def t(self, key: str, **fmt) -> str:
        """The message ``key`` of :mod:`ckm_research.report.i18n` in the report's language."""
        return _text(key, self.lang, **fmt)

    # ------------------------------------------------------------------ pieces
    def cite(self, *keys: str) -> None:
        self._cited.update(keys)

    def stage(self, name: str) -> dict | None:
        st = self.stages.get(name)
        return st if st and st.get("status") == STATUS_OK else None

    def num(self, stage: str, key: str, default: Any = None) -> Any:
        st = self.stages.get(stage) or {}
        return st.get("numbers", {}).get(key, default)

    def table(self, stage: str, name: str) -> str:
        st = self.stages.get(stage) or {}
        rec = st.get("tables", {}).get(name)
        if rec is None:
            return ""
        self._tables += 1
        return Table.from_record(name, rec).to_html(self._tables, lang=self.lang)

    def figure(self, stage: str, name: str) -> str:
        st = self.stages.get(stage) or {}
        rec = st.get("figures", {}).get(name)
        if rec is None:
            return ""
        path = self.root / rec["png"]
        if not path.exists():
            return self.unavailable(self.t("r.figure_part", name=name),
                                    self.t("r.figure_missing", file=rec["png"]))
        self._figures += 1
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        note = (f'<p class="apa-note"><em>{self.t("note.label")}</em> {_e(rec["note"])}</p>'
                if rec.get("note") else "")
        return (f'<figure class="apa-figure" id="figure-{_e(name)}">'
                f'<p class="apa-figure-number">{self.t("figure.number", n=self._figures)}</p>'
                f'<p class="apa-figure-title">{_e(rec["title"])}</p>'
                f'<img src="data:image/png;base64,{data}" alt="{_e(rec.get("alt", ""))}">'
                f"{note}</figure>")

    def unavailable(self, part: str, reason: str) -> str:
        return (f'<p class="unavailable"><strong>{_e(self.t("r.unavailable", part=part))}'
                f"</strong> {_e(reason)}</p>")

    def _stage_gaps(self, stage: str) -> str:
        st = self.stages.get(stage)
        if st is None:
            return self.unavailable(self.t("r.stage_part", stage=self.t(f"stage.{stage}")),
                                    self.t("r.stage_not_run"))
        out = []
        if st.get("status") != STATUS_OK:
            out.append(self.unavailable(self.t("r.stage_part", stage=self.t(f"stage.{stage}")),
                                        st.get("status_reason", "")))
        for part, reason in st.get("unavailable", {}).items():
            out.append(self.unavailable(part, reason))
        return "".join(out)

    def _word(self, prefix: str, word: str) -> str:
        """A word of the results (a criterion's name) in the report's language, when the
        catalogue has it (``prefix.word``)."""
        key = f"{prefix}.{word}"
        return self.t(key) if self.lang != "en" and key in MESSAGES else word

    def _jn_text(self, jn: dict) -> str:
        """The Johnson-Neyman sentence: as recorded in English, rebuilt from the recorded
        numbers in the other languages (:func:`ckm_research.report.i18n.jn_text`)."""
        if self.lang == "en":
            return jn["describe"]
        from ckm_research.report.i18n import jn_text

        return jn_text(jn, self.study.get("parameters", {}).get("ci_level", 0.95), self.lang)

    def _wrap(self, body: str) -> str:
        self._produced.append(body)
        return f'<div class="ckm">{body}</div>'

    def _fit_sentence(self, row: dict) -> str:
        if not row:
            return ""
        chi = "χ²" + ("<sub>YB</sub>" if row.get("robust") else "")
        ci = ""
        if row.get("rmsea.ci.lower") is not None:
            ci = self.t("r.ci90", lo=f(row["rmsea.ci.lower"], "r3"),
                        hi=f(row["rmsea.ci.upper"], "r3"))
        robust = self.t("r.robust") if row.get("robust") else ""
        return (f"{chi}({f(row['df'], 'int')}) = {f(row['chisq'])}, {_p(row['pvalue'])}"
                f"{self.t('r.fit_sep')}"
                f"CFI{robust} = {f(row['cfi'], 'r3')}, TLI{robust} = {f(row['tli'], 'r3')}, "
                f"RMSEA{robust} = {f(row['rmsea'], 'r3')}{ci}, SRMR = {f(row['srmr'], 'r3')}")

    def _verdict(self, row: dict) -> str:
        from ckm_research.report.analysis import HU_BENTLER

        if not row:
            return ""
        met = []
        for key, label, better in (("cfi", "CFI", "high"), ("tli", "TLI", "high"),
                                   ("rmsea", "RMSEA", "low"), ("srmr", "SRMR", "low")):
            v = row.get(key)
            if v is None:
                continue
            ok = v >= HU_BENTLER[key] if better == "high" else v <= HU_BENTLER[key]
            met.append((label, ok))
        good = [m for m, ok in met if ok]
        bad = [m for m, ok in met if not ok]
        if not bad:
            return self.t("r.verdict.all")
        sep = self.t("r.list_sep")
        return self.t("r.verdict.mixed", good=sep.join(good) or self.t("r.verdict.none"),
                      good_verb=self.t("r.is" if len(good) == 1 else "r.are"),
                      bad=sep.join(bad), bad_verb=self.t("r.is" if len(bad) == 1 else "r.are"))

    # ------------------------------------------------------------------ sections
    def header(self) -> str:
        self.cite("appelbaum")
        created = self.manifest.get("created", "")[:10]
        ins = self.stages.get("instrument", {}).get("texts", {}).get("instrument_title", "")
        sub = (self.t("r.subtitle", version=_e(self.study.get("ckm_research_version", "")),
                      data=_e(self.study.get("data_file", "")))
               + (self.t("r.subtitle.date", date=created) if created else "")
               + self.t("r.subtitle.end"))
        if ins:
            sub += self.t("r.subtitle.instrument", title=_e(ins))
        return self._wrap(f"<h1>{_e(self.study.get('title', self.t('r.title')))}</h1>"
                          f'<p class="subtitle">{sub}</p>')

    def summary(self) -> str:
        items = []
        n = self.num("data", "n_analysed")
        if n is not None:
            n_read = f(self.num("data", "n_read"), "int")
            items.append(self.t("r.sum.n", n=f(n, "int"), n_read=n_read))
        meas = self.num("measurement", "fit")
        if meas:
            items.append(self.t("r.sum.measurement", fit=self._fit_sentence(meas)))
        if self.num("measurement", "ave_min") is not None:
            items.append(self.t("r.sum.reliability",
                                alpha=f(self.num("measurement", "alpha_min"), "r2"),
                                cr=f(self.num("measurement", "cr_min"), "r2"),
                                ave=f(self.num("measurement", "ave_min"), "r2"),
                                htmt=f(self.num("measurement", "htmt_max"), "r2")))
        for stage, label in (("measurement", "r.model.measurement"),
                             ("structural", "r.model.structural"),
                             ("moderation", "r.model.interactions")):
            for part in (self.stages.get(stage, {}).get("problems") or {}):
                items.append('<span class="problem"><strong>'
                             + self.t("r.sum.problem", label=self.t(label), part=_e(part))
                             + "</span>")
        struct = self.num("structural", "fit")
        if struct:
            r2 = self.num("structural", "r2") or {}
            bad = {c["variable"] for c in self.num("structural", "heywood") or []}
            items.append(self.t(
                "r.sum.structural", fit=self._fit_sentence(struct),
                sig=self.num("structural", "n_significant"), n=self.num("structural", "n_paths"),
                r2=self.t("r.list_sep").join(
                    f"{_e(k)} = {f(v, 'r2')}" + (self.t("r.sum.inadmissible") if k in bad else "")
                    for k, v in r2.items())))
        jn = self.num("moderation", "johnson_neyman") or {}
        if jn:
            tab = (self.stages.get("moderation", {}).get("tables", {}).get("interactions", {})
                   .get("rows", []))
            sig = [r for r in tab if "×" in str(r.get("term", ""))]
            items.append(self.t("r.sum.interactions", terms=self.t("r.fit_sep").join(
                f"{_e(r['outcome'])} ← {_e(r['term'])}: B = {f(r['est'], 'num3')}, "
                f"{_p(r['pvalue'])}" for r in sig)))
        mod = self.num("moderation", "method")
        if mod:
            items.append(self._moderation_method())
        hyp = (self.stages.get("moderation", {}).get("tables", {}).get("hypotheses", {})
               .get("rows", []))
        table = ""
        if hyp:
            yes = [_e(r["hypothesis"]) for r in hyp if r["supported"]]
            no = [_e(r["hypothesis"]) for r in hyp if not r["supported"]]
            none = self.t("r.sum.hyp.none")
            items.append(self.t("r.sum.hyp", t=self._tables + 1, k=len(yes), n=len(hyp),
                                yes=self.t("r.list_sep").join(yes) or none,
                                no=self.t("r.list_sep").join(no) or none))
            table = self.table("moderation", "hypotheses")
        if not items:
            return ""
        body = "".join(f"<li>{i}</li>" for i in items)
        return self._wrap(f'<div class="summary"><p><strong>{self.t("r.summary")}</strong></p>'
                          f"<ul>{body}</ul>{table}"
                          "</div>")

    def _interaction_method(self) -> str:
        """The method that estimated the interactions: the moderation stage's (LMS may
        have given way to product indicators), else the parameter's."""
        n = self.stages.get("moderation", {}).get("numbers", {})
        params = self.study.get("parameters", {})
        return n.get("method") or params.get("interaction_method", "lms")

    def _moderation_method(self) -> str:
        """Which method estimated the interactions, on whom, how long it took, and why
        (no silent choice between LMS and product indicators)."""
        n = self.stages.get("moderation", {}).get("numbers", {})
        method = n.get("method")
        missing = self.t("r.mm.missing.ml" if n.get("missing") == "ml"
                         else "r.mm.missing.listwise")
        why = self.t("r.mm.why.lms" if method == "lms" else "r.mm.why.dblcent")
        if n.get("fallback"):
            why = self.t("r.mm.why.fallback",
                         reason=_e(engine_text(n["fallback"], self.lang)))
        # the stage's time is in the manifest (results.json holds no timings)
        took = next((s.get("seconds") for s in self.manifest.get("stages", [])
                     if s.get("name") == "moderation" and s.get("seconds")), None)
        seconds = self.t("r.mm.seconds", seconds=f(took, "int")) if took else ""
        return self.t("r.mm.method", method=self.t(f"mm.method.{method}"), missing=missing,
                      n=f(n.get("n"), "int"), seconds=seconds, why=why)

    def method_instrument(self) -> str:
        st = self.stages.get("instrument")
        body = f"<h2>{self.t('h.method')}</h2><h3>{self.t('h.instrument')}</h3>"
        if st is None:
            return self._wrap(body + self._stage_gaps("instrument"))
        n = st["numbers"]
        if n.get("instrument_id") == "derived":  # no instrument given: say what is known
            body += "<p>" + self.t("r.ins.derived", n_constructs=n["n_constructs"],
                                   n_items=n["n_items"], points=n["scale_points"],
                                   t=self._tables + 1) + "</p>"
            return self._wrap(body + self.table("instrument", "constructs"))
        body += "<p>" + self.t(
            "r.ins", id=_e(n["instrument_id"]), version=_e(n["instrument_version"]),
            languages=", ".join(_e(x) for x in n["languages"]), n_constructs=n["n_constructs"],
            n_items=n["n_items"], points=n["scale_points"], n_reverse=n["n_reverse_keyed"],
            n_attention=n["n_attention_checks"], t=self._tables + 1) + "</p>"
        body += self.table("instrument", "constructs")
        return self._wrap(body)

    def method_sample(self) -> str:
        body = f"<h3>{self.t('h.sample')}</h3>"
        st = self.stages.get("data")
        if st is None:
            return self._wrap(body + self._stage_gaps("data"))
        n = st["numbers"]
        self.cite("meade", "curran16")
        excluded = n.get("excluded_by", {})
        crit = self.t("r.list_sep").join(
            f"{self._word('criterion', k)} ({v})" for k, v in excluded.items()) or self.t("r.none")
        sample = st.get("tables", {}).get("sample") or {}
        has_profile = bool(sample.get("rows"))
        body += ("<p>" + self.t("r.sample", n_read=f(n["n_read"], "int"),
                                n_excluded=f(n["n_excluded"], "int"), crit=crit,
                                t=self._tables + 1, n_after=f(n["n_after_screening"], "int"))
                 + (self.t("r.sample.subsample", n=f(n["n_analysed"], "int"))
                    if n["n_analysed"] != n["n_after_screening"] else "")
                 + self.t("r.sample.kept")
                 + (self.t("r.sample.profile", t=self._tables + 2) if has_profile
                    else self.t("r.sample.no_profile")) + "</p>")
        body += self.table("data", "screening")
        if has_profile:
            body += self.table("data", "sample")
        for note in st.get("notes", []):
            body += f"<p>{_e(note)}</p>"
        return self._wrap(body)

    def method_missing(self) -> str:
        body = f"<h3>{self.t('h.missing')}</h3>"
        st = self.stages.get("data")
        if st is None:
            return self._wrap(body)
        n = st["numbers"]
        m = n.get("mardia", {})
        self.cite("mardia", "curran", "enders")
        body += "<p>" + self.t(
            "r.missing", pct=f(n["pct_cells_missing"], "num1"),
            max_pct=f(n["max_item_missing_pct"], "num1"), n_complete=f(n["n_complete"], "int"),
            n=f(n["n_analysed"], "int"), patterns=f(n["n_missing_patterns"], "int"),
            t=self._tables + 1) + "</p>"
        body += self.table("data", "missing")
        if m:
            body += "<p>" + self.t(
                "r.normality", skew=f(n["max_abs_skew"]), kurt=f(n["max_abs_kurtosis"]),
                b2p=f(m["b2p"], "num1"), expected=f(m["kurtosis_expected"], "num1"),
                z=f(m["kurtosis_z"]), p=_p(m["kurtosis_pvalue"]), n=f(m["n"], "int"),
                f=self._figures + 1) + "</p>"
        body += self.figure("data", "likert")
        return self._wrap(body)

    def method_estimation(self) -> str:
        body = f"<h3>{self.t('h.estimation')}</h3>"
        meas = self.stages.get("measurement", {}).get("numbers", {})
        params = self.study.get("parameters", {})
        est_text = meas.get("estimator_text")
        if est_text and self.lang != "en" and meas.get("estimator"):
            from ckm_research.report.i18n import estimator_text

            est_text = estimator_text(meas["estimator"], meas.get("missing"), self.lang)
        versions = self.manifest.get("packages", {})
        self.cite("rosseel", "kline")
        if est_text:
            why = ""
            if params.get("estimator") == "MLR":
                self.cite("yuan", "satorra")
                why = self.t("r.est.mlr")
            if params.get("missing") == "ml":
                why += self.t("r.est.fiml")
            body += ("<p>" + self.t("r.est", est=_e(est_text),
                                    version=_e(self.study.get("ckm_research_version", "")),
                                    level=f(params.get("ci_level", 0.95) * 100, "int"), why=why)
                     + (self.t("r.est.interactions", how=self.t(
                         "r.est.dblcent" if self._interaction_method() == "dblcent"
                         else "r.est.lms"))
                        if params.get("interactions", True) else "")
                     + self.t("r.est.seed", seed=_e(self.study.get("seed"))) + "</p>")
            if params.get("interactions", True):
                self.cite("lin" if self._interaction_method() == "dblcent" else "klein")
        if versions:
            body += "<p>" + self.t("r.software", list=", ".join(
                f"{_e(k)} {_e(v)}" for k, v in versions.items() if v and k in (
                    "ckm-research", "numpy", "scipy", "pandas", "papermill"))) + "</p>"
        return self._wrap(body)

    def results_measurement(self) -> str:
        body = f"<h2>{self.t('h.results')}</h2><h3>{self.t('h.measurement')}</h3>"
        st = self.stages.get("measurement")
        if st is None:
            return self._wrap(body + self._stage_gaps("measurement"))
        n = st["numbers"]
        row = n.get("fit", {})
        self.cite("hu", "marsh", "kline")
        if row.get("robust"):
            self.cite("brosseau")
        body += self.problems("measurement")
        body += "<p>" + self.t("r.meas.fit", n=f(n["n"], "int"), fit=self._fit_sentence(row),
                               t1=self._tables + 1, verdict=self._verdict(row),
                               t2=self._tables + 2) + "</p>"
        body += self.table("measurement", "fit_measurement")
        body += self.table("measurement", "residuals")
        if "measurement" in st.get("tables", {}):
            self.cite("fornell", "bagozzi", "hair", "henseler")
            body += "<p>" + self.t(
                "r.meas.loadings", lmin=f(n["loading_min"], "r2"), lmax=f(n["loading_max"], "r2"),
                alpha=f(n["alpha_min"], "r2"), cr=f(n["cr_min"], "r2"),
                ave=f(n["ave_min"], "r2"), t=self._tables + 1, f=self._figures + 1) + "</p>"
            body += self.table("measurement", "measurement")
            body += self.figure("measurement", "loadings")
            if "reliability_ci" in st.get("tables", {}):
                self.cite("cheung24", "feldt")
                body += "<p>" + self.t("r.meas.relci", t=self._tables + 1) + "</p>"
                body += self.table("measurement", "reliability_ci")
            if "cicfa" in st.get("tables", {}):
                body += self._discriminant(st)
            else:
                body += "<p>" + self.t(
                    "r.meas.htmt", method=n.get("htmt_method", "HTMT"),
                    htmt=f(n["htmt_max"], "r2"), t1=self._tables + 1, f=self._figures + 1,
                    t2=self._tables + 2) + "</p>"
                body += self.table("measurement", "htmt")
                body += self.figure("measurement", "htmt")
                body += self.table("measurement", "fornell_larcker")
            if n.get("n_flags"):
                body += "<p>" + self.t("r.meas.flags", n=n["n_flags"], t=self._tables + 1) + "</p>"
                body += self.table("measurement", "validity_flags")
        body += self._cmv(st)
        body += self._stage_gaps_parts("measurement")
        return self._wrap(body)

    def problems(self, stage: str) -> str:
        """The stage's inadmissible results (Heywood cases), each named with what it
        means and what to do, in a box that stands out (see ``StageOutput.problem``)."""
        st = self.stages.get(stage) or {}
        out = []
        for part, message in (st.get("problems") or {}).items():
            self.cite("kolenikov", "chen01")
            out.append(f'<p class="problem"><strong>{_e(part)}.</strong> {_e(message)}</p>')
        return "".join(out)

    def _stage_gaps_parts(self, stage: str) -> str:
        st = self.stages.get(stage) or {}
        return "".join(self.unavailable(p, r) for p, r in st.get("unavailable", {}).items())

    def _discriminant(self, st: dict) -> str:
        """Discriminant validity with inference (issue 12): HTMT with bootstrap intervals and
        tests, CICFA(sys), Fornell-Larcker (cited as insensitive), full collinearity VIFs."""
        n = st["numbers"]
        v = n.get("validity_inference") or {}
        self.cite("henseler", "franke", "ronkko", "kock")
        has_h = "htmt_inference" in st.get("tables", {})
        method = n.get("htmt_method", "HTMT")
        k = 1
        t1 = self._tables + k if has_h else "—"
        k += has_h
        t2, t3, t4 = self._tables + k, self._tables + k + 1, self._tables + k + 2
        worst = v.get("cicfa_worst", "")
        if self.lang != "en" and f"rc.{worst.replace(' ', '_')}" in MESSAGES:
            worst = self.t(f"rc.{worst.replace(' ', '_')}")
        thr = v.get("htmt_threshold", 0.85)
        body = "<p>" + self.t(
            "r.meas.dv", method=method, threshold=f"{thr:.2f}".lstrip("0") if thr < 1 else "1",
            t1=t1, n_ok=v.get("htmt_n_below", "—"), n=v.get("htmt_n_pairs", "—"), t2=t2,
            worst=_e(worst), t3=t3, t4=t4, vif=f(v.get("vif_max"), "num2")) + "</p>"
        body += self.table("measurement", "htmt_inference")
        body += self.table("measurement", "cicfa")
        body += self.table("measurement", "fornell_larcker")
        body += self.table("measurement", "full_collinearity_vif")
        body += self.figure("measurement", "htmt")
        return body

    def _cmv(self, st: dict) -> str:
        if "cmv" not in st.get("tables", {}):
            return ""
        n = st["numbers"]
        self.cite("podsakoff", "lindell")
        parts = []
        cm = n.get("cfa_marker")
        if cm is not None:
            self.cite("williams10", "simmering", "podsakoff24", "howard24")
            parts.append(self.t(
                "r.cmv.cfa_marker",
                detected=self.t("r.cmv.found" if cm["detected"] else "r.cmv.not_found"),
                biased=self.t("r.cmv.found" if cm["biased"] else "r.cmv.not_found"),
                mv=f(cm["method_variance"], "r3"), t=self._tables + 2))
        if n.get("harman_first_share") is not None:
            parts.append(self.t("r.cmv.harman", pct=f(100 * n["harman_first_share"], "num1")))
        if n.get("ulmc_detected") is not None:
            share = (self.t("r.cmv.ulmc.share", v=f(n["ulmc_method_variance"], "r3"))
                     if n.get("ulmc_method_variance") is not None else "")
            parts.append(self.t("r.cmv.ulmc.improves" if n["ulmc_detected"]
                                else "r.cmv.ulmc.not", p=_p(n["ulmc_pvalue"]), share=share))
        if n.get("marker_r") is not None:
            parts.append(self.t("r.cmv.marker", r=f(n["marker_r"], "r3")))
        if cm is not None and n.get("harman_first_share") is not None:  # Harman's test last
            parts.append(parts.pop(1))
        key = "r.cmv.current" if cm is not None else "r.cmv"
        body = (f"<h4>{self.t('h.cmv')}</h4><p>"
                + self.t(key, parts=self.t("r.fit_sep").join(parts), t=self._tables + 1)
                + "</p>")
        body += self.table("measurement", "cmv")
        body += self.table("measurement", "cfa_marker")
        if "marker_adjusted" in st.get("tables", {}):
            body += "<p>" + self.t("r.cmv.appendix") + "</p>"
        return body

    def results_structural(self) -> str:
        body = f"<h3>{self.t('h.structural')}</h3>"
        st = self.stages.get("structural")
        if st is None:
            return self._wrap(body + self._stage_gaps("structural"))
        n = st["numbers"]
        body += self.problems("structural")
        body += "<p>" + self.t(
            "r.struct", fit=self._fit_sentence(n["fit"]), t1=self._tables + 1,
            verdict=self._verdict(n["fit"]), sig=n["n_significant"], n=n["n_paths"],
            t2=self._tables + 2, t3=self._tables + 3, f=self._figures + 1) + "</p>"
        body += self.table("structural", "fit_structural")
        body += self.table("structural", "paths")
        body += self.table("structural", "r2")
        body += self.figure("structural", "path_diagram")
        if "indirect" in st.get("tables", {}):
            self.cite("bollen", "preacher")
            boot = n.get("bootstrap")
            how = (self.t("r.struct.boot", n=boot["n_boot"]) if boot
                   else self.t("r.struct.delta"))
            body += "<p>" + self.t("r.struct.indirect", t=self._tables + 1,
                                   n=n.get("n_indirect", 0), how=how) + "</p>"
            body += self.table("structural", "indirect")
        if "composite_regression" in st.get("tables", {}):  # robustness checks (issue 12)
            self.cite("aiken", "mackinnon85")
            has_cop = "gaussian_copula" in st.get("tables", {})
            if has_cop:
                self.cite("park", "becker22")
            body += f"<h4>{self.t('h.robustness')}</h4><p>" + self.t(
                "r.robustness", t1=self._tables + 1, t2=self._tables + 2 if has_cop else "—",
                t3=self._tables + 3 if has_cop else "—") + "</p>"
            body += self.table("structural", "composite_regression")
            body += self.table("structural", "gaussian_copula")
            body += self.table("structural", "copula_checks")
        body += self._stage_gaps_parts("structural")
        return self._wrap(body)

    def results_moderation(self) -> str:
        body = f"<h3>{self.t('h.moderation')}</h3>"
        st = self.stages.get("moderation")
        if st is None:
            return self._wrap(body + self._stage_gaps("moderation"))
        n = st["numbers"]
        body += self.problems("moderation")
        if "interactions" in st.get("tables", {}):
            self.cite("mccabe", "bauer")
            body += "<p>" + self.t(
                "r.mod", estimator=_e(n.get("estimator")),
                complete=self.t("r.mod.complete") if n.get("missing") == "listwise" else "",
                n=f(n.get("n"), "int"), t1=self._tables + 1, t2=self._tables + 2) + "</p>"
            body += "<p>" + self._moderation_method() + "</p>"
            body += self.table("moderation", "interactions")
            if "interaction_compare" in st.get("tables", {}):
                other = (n.get("compare") or {}).get("method", "dblcent")
                body += "<p>" + self.t("r.mm.compare", t=self._tables + 1,
                                       other=self.t(f"mm.method.{other}")) + "</p>"
                body += self.table("moderation", "interaction_compare")
            body += self.table("moderation", "simple_slopes")
            for key, jn in (n.get("johnson_neyman") or {}).items():
                body += f"<p><strong>{_e(key)}.</strong> {_e(self._jn_text(jn))}</p>"
            if "interaction_std" in st.get("tables", {}):  # stdint (issue 11)
                has_es = "interaction_effect_sizes" in st.get("tables", {})
                self.cite("wen10", *(("aiken", "cohen88", "klein") if has_es else ()))
                body += "<p>" + self.t("r.stdint", t1=self._tables + 1) + (
                    self.t("r.effsize", t2=self._tables + 2) if has_es else "") + "</p>"
                body += self.table("moderation", "interaction_std")
                body += self.table("moderation", "interaction_effect_sizes")
            for name in st.get("figures", {}):
                if not name.startswith("cind_"):
                    body += self.figure("moderation", name)
            if "conditional_indirect" in st.get("tables", {}):
                from ckm_research.report.analysis import _mm_method

                mm = n.get("moderated_mediation") or {}
                self.cite("hayes", "hayes22", "preacher07")
                body += f"<h4>{self.t('part.moderated_mediation')}</h4>"
                body += "<p>" + self.t("r.mm.intro", t1=self._tables + 1, t2=self._tables + 2,
                                       m=_e(mm.get("mediator", "CKM")),
                                       how=_mm_method(mm.get("method", "delta"), self.lang)) \
                    + "</p>"
                body += self.table("moderation", "conditional_indirect")
                body += self.table("moderation", "index_moderated_mediation")
                for name in st.get("figures", {}):
                    if name.startswith("cind_"):
                        body += self.figure("moderation", name)
        groups = n.get("multigroup") or {}
        if groups:
            self.cite("cheung", "chen", "satorra")
            body += f"<h4>{self.t('h.multigroup')}</h4>"
            for factor, g in groups.items():
                sizes = self.t("r.list_sep").join(
                    self.t("r.mg.size", group=_e(self._word("group", k)), n=v)
                    for k, v in (g.get("n_per_group") or {}).items())
                has_inv = f"invariance_{factor.lower()}" in st.get("tables", {})
                has_cmp = f"path_comparison_{factor.lower()}" in st.get("tables", {})
                split = (self.t(f"split.{g['split']}.lower") if self.lang != "en"
                         and g["split"] in ("median", "mean") else g["split"])
                text = "<p>" + self.t("r.mg.split", split=_e(split), factor=_e(factor),
                                      cut=f(g["cut"]), sizes=sizes)
                has_steps = f"invariance_steps_{factor.lower()}" in st.get("tables", {})
                k = 1
                if has_inv:
                    text += self.t("r.mg.invariance", t=self._tables + k)
                    k += 1
                if has_steps:
                    self.cite("byrne89")
                    text += self.t("r.mg.steps", t=self._tables + k)
                    k += 1
                if has_cmp:
                    equal = self.t("comparison.and").join(
                        self.t(f"equal.{e}") if self.lang != "en" and f"equal.{e}" in MESSAGES
                        else e for e in g["group_equal"])
                    text += self.t("r.mg.paths", t=self._tables + k, equal=equal,
                                   p=_p(g["omnibus_pvalue"]))
                text += self.t("r.mg.power") + "</p>"
                body += text
                body += self.table("moderation", f"invariance_{factor.lower()}")
                body += self.table("moderation", f"invariance_steps_{factor.lower()}")
                body += self.table("moderation", f"path_comparison_{factor.lower()}")
        if "interactions" not in st.get("tables", {}) and not groups:
            body += "<p>" + self.t("r.mod.none") + " ".join(
                _e(x) for x in st.get("notes", [])) + "</p>"
        body += self._stage_gaps_parts("moderation")
        return self._wrap(body)

    def results_power(self) -> str:
        body = f"<h3>{self.t('h.power')}</h3>"
        st = self.stages.get("power")
        if st is None:
            return self._wrap(body + self._stage_gaps("power"))
        if st.get("status") == STATUS_SKIPPED and st.get("status_reason", "").startswith(
                "the power stage was switched off"):
            return self._wrap(body + "<p>" + self.t("r.power.off") + "</p>")
        if st.get("status") == STATUS_SKIPPED:
            return self._wrap(body + f'<p class="problem">{_e(st.get("status_reason", ""))}</p>')
        if st.get("status") != STATUS_OK:
            return self._wrap(body + self.unavailable(self.t("r.power.part"),
                                                      st.get("status_reason", "")))
        n = st["numbers"]
        self.cite("muthen", "maccallum", "hoenig")
        body += "<p>" + self.t("r.power", reps=n["replications"], t1=self._tables + 1,
                               f=self._figures + 1, t2=self._tables + 2) + "</p>"
        body += self.table("power", "power")
        body += self.figure("power", "power")
        body += self.table("power", "power_model_test")
        if "power_interactions" in st.get("tables", {}):
            body += "<p>" + self.t("r.power.interactions", t=self._tables + 1) + "</p>"
            body += self.table("power", "power_interactions")
        return self._wrap(body)

    def notes_section(self) -> str:
        notes = []
        for name, st in self.stages.items():
            for note in st.get("notes", []):
                notes.append((name, note))
        if not notes:
            return ""
        body = f"<h3>{self.t('h.notes')}</h3><ul>"
        sep = ": " if self.lang == "en" else "："
        body += "".join(f"<li>{_e(self.t(f'stage.{stage}') if self.lang != 'en' else stage)}"
                        f"{sep}{_e(note)}</li>" for stage, note in notes)
        return self._wrap(body + "</ul>")

    def syntax_section(self) -> str:
        body = f"<h2>{self.t('h.syntax')}</h2><p>{self.t('r.syntax')}</p>"
        ins = self.stages.get("instrument", {}).get("texts", {})
        if "model_syntax" in ins:
            body += f'<pre class="syntax">{_e(ins["model_syntax"])}</pre>'
        for stage in ("measurement", "structural", "moderation"):
            text = self.stages.get(stage, {}).get("texts", {}).get("syntax")
            if text:
                label = self.t(f"r.syntax.{stage}")
                body += f"<h4>{_e(label)}</h4><pre class=\"syntax\">{_e(text)}</pre>"
        return self._wrap(body)

    def provenance(self) -> str:
        m = self.manifest
        inputs = m.get("inputs", {})
        git = m.get("git", {})
        rows = [
            (self.t("prov.created"), m.get("created", "")),
            ("ckm-research", m.get("ckm_research_version", "")),
            ("Python", m.get("python", {}).get("version", "")),
            (self.t("prov.kernel"), m.get("kernel", {}).get("description", "")),
            (self.t("prov.commit"), (git.get("commit") or git.get("note") or "")
             + (self.t("prov.dirty") if git.get("dirty") else "")),
            (self.t("prov.data_file"), self.study.get("data_file", "")),
            (self.t("prov.data_sha"), self.study.get("data_sha256", "")),
            (self.t("prov.model_sha"), self.study.get("model_sha256", "")),
            (self.t("prov.instrument"), "{id} {version} (SHA-256 {sha256})".format(
                **{k: (self.study.get("instrument") or {}).get(k, "") for k in
                   ("id", "version", "sha256")})),
            (self.t("prov.seed"), self.study.get("seed", "")),
            (self.t("prov.params_sha"), self.study.get("parameters_sha256", "")),
        ]
        if inputs.get("data_file", {}).get("bytes"):
            rows.insert(6, (self.t("prov.data_size"),
                            self.t("prov.bytes", n=f"{inputs['data_file']['bytes']:,}")))
        pkgs = ", ".join(f"{k} {v}" for k, v in (m.get("packages") or {}).items() if v)
        if pkgs:
            rows.append((self.t("prov.packages"), pkgs))
        params = self.study.get("parameters", {})
        body = f"<h2>{self.t('h.provenance')}</h2><p>{self.t('r.prov')}</p>"
        body += '<table class="provenance">' + "".join(
            f"<tr><td><strong>{_e(k)}</strong></td><td>{_e(v)}</td></tr>" for k, v in rows)
        body += f"</table><h4>{self.t('h.parameters')}</h4><table class=\"provenance\">" + "".join(
            f"<tr><td><code>{_e(k)}</code></td><td><code>{_e(json.dumps(v))}</code></td></tr>"
            for k, v in params.items()) + "</table>"
        return self._wrap(body)

    def references(self) -> str:
        """The references cited in the sections shown so far (and by :meth:`cite`)."""
        cited = set(self._cited) | set(_cited_in("\n".join(self._produced)))
        keys = sorted(cited, key=lambda k: REFERENCES[k])
        body = f"<h2>{self.t('h.references')}</h2><div class=\"references\">" + "".join(
            f"<p>{REFERENCES[k]}</p>" for k in keys) + "</div>"
        return self._wrap(body)

    def appendix(self) -> str:
        body = f"<h2>{self.t('h.appendix')}</h2><h3>{self.t('h.item_stats')}</h3>"
        body += self.table("data", "items")
        marker = self.table("measurement", "marker_adjusted")
        if marker:
            body += f"<h3>{self.t('h.marker')}</h3>" + marker
        st = self.stages.get("measurement") or {}
        if "cicfa" in st.get("tables", {}):  # the HTMT matrix, beside its tests in the results
            htmt = self.table("measurement", "htmt")
            if htmt:
                body += f"<h3>{self.t('h.htmt_matrix')}</h3>" + htmt
        return self._wrap(body)
