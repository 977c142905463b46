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
    "curran16": "Curran, P. G. (2016). Methods for the detection of carelessly invalid "
                "responses in survey data. <i>Journal of Experimental Social Psychology, "
                "66</i>, 4-19.",
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
        return Table.from_record(name, rec).to_html(self._tables)

    def figure(self, stage: str, name: str) -> str:
        st = self.stages.get(stage) or {}
        rec = st.get("figures", {}).get(name)
        if rec is None:
            return ""
        path = self.root / rec["png"]
        if not path.exists():
            return self.unavailable(f"Figure {name}", f"the file {rec['png']} is missing")
        self._figures += 1
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        note = f'<p class="apa-note"><em>Note.</em> {_e(rec["note"])}</p>' if rec.get("note") \
            else ""
        return (f'<figure class="apa-figure" id="figure-{_e(name)}">'
                f'<p class="apa-figure-number">Figure {self._figures}</p>'
                f'<p class="apa-figure-title">{_e(rec["title"])}</p>'
                f'<img src="data:image/png;base64,{data}" alt="{_e(rec.get("alt", ""))}">'
                f"{note}</figure>")

    @staticmethod
    def unavailable(part: str, reason: str) -> str:
        return (f'<p class="unavailable"><strong>{_e(part)}: not available.</strong> '
                f"{_e(reason)}</p>")

    def _stage_gaps(self, stage: str) -> str:
        st = self.stages.get(stage)
        if st is None:
            return self.unavailable(f"The {stage} stage", "it has not been run for this report "
                                                          "(ckm run --only ...).")
        out = []
        if st.get("status") != STATUS_OK:
            out.append(self.unavailable(f"The {stage} stage", st.get("status_reason", "")))
        for part, reason in st.get("unavailable", {}).items():
            out.append(self.unavailable(part, reason))
        return "".join(out)

    def _wrap(self, body: str) -> str:
        self._produced.append(body)
        return f'<div class="ckm">{body}</div>'

    def _fit_sentence(self, row: dict) -> str:
        if not row:
            return ""
        chi = "χ²" + ("<sub>YB</sub>" if row.get("robust") else "")
        ci = ""
        if row.get("rmsea.ci.lower") is not None:
            ci = f", 90% CI [{f(row['rmsea.ci.lower'], 'r3')}, {f(row['rmsea.ci.upper'], 'r3')}]"
        robust = " (robust)" if row.get("robust") else ""
        return (f"{chi}({f(row['df'], 'int')}) = {f(row['chisq'])}, {_p(row['pvalue'])}; "
                f"CFI{robust} = {f(row['cfi'], 'r3')}, TLI{robust} = {f(row['tli'], 'r3')}, "
                f"RMSEA{robust} = {f(row['rmsea'], 'r3')}{ci}, SRMR = {f(row['srmr'], 'r3')}")

    @staticmethod
    def _verdict(row: dict) -> str:
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
            return "All four indices are within the guidelines of Hu and Bentler (1999)."
        return (f"{', '.join(good) or 'No index'} {'is' if len(good) == 1 else 'are'} within "
                f"the guidelines of Hu and Bentler (1999); {', '.join(bad)} "
                f"{'is' if len(bad) == 1 else 'are'} not, which calls for a look at the local "
                "fit below rather than a verdict.")

    # ------------------------------------------------------------------ sections
    def header(self) -> str:
        self.cite("appelbaum")
        created = self.manifest.get("created", "")[:10]
        ins = self.stages.get("instrument", {}).get("texts", {}).get("instrument_title", "")
        sub = (f"Report of <code>ckm run</code> (ckm-research "
               f"{_e(self.study.get('ckm_research_version', ''))}) on "
               f"<code>{_e(self.study.get('data_file', ''))}</code>"
               + (f", {created}" if created else "") + ".")
        if ins:
            sub += f"<br>Instrument: {_e(ins)}."
        return self._wrap(f"<h1>{_e(self.study.get('title', 'Study report'))}</h1>"
                          f'<p class="subtitle">{sub}</p>')

    def summary(self) -> str:
        items = []
        n = self.num("data", "n_analysed")
        if n is not None:
            n_read = f(self.num("data", "n_read"), "int")
            items.append(f"N = {f(n, 'int')} respondents analysed (of {n_read} responses).")
        meas = self.num("measurement", "fit")
        if meas:
            items.append(f"Measurement model: {self._fit_sentence(meas)}.")
        if self.num("measurement", "ave_min") is not None:
            items.append(f"Reliability: α ≥ {f(self.num('measurement', 'alpha_min'), 'r2')}, "
                         f"CR ≥ {f(self.num('measurement', 'cr_min'), 'r2')}; AVE ≥ "
                         f"{f(self.num('measurement', 'ave_min'), 'r2')}; largest HTMT "
                         f"{f(self.num('measurement', 'htmt_max'), 'r2')}.")
        for stage, label in (("measurement", "Measurement model"),
                             ("structural", "Structural model"),
                             ("moderation", "Model with the latent interactions")):
            for part in (self.stages.get(stage, {}).get("problems") or {}):
                items.append(f'<span class="problem"><strong>{label}: {_e(part)}</strong>; its '
                             "results below cannot be interpreted as they stand (see the "
                             "section on the model).</span>")
        struct = self.num("structural", "fit")
        if struct:
            r2 = self.num("structural", "r2") or {}
            bad = {c["variable"] for c in self.num("structural", "heywood") or []}
            items.append(f"Structural model: {self._fit_sentence(struct)}; "
                         f"{self.num('structural', 'n_significant')} of "
                         f"{self.num('structural', 'n_paths')} paths significant; R² "
                         + ", ".join(f"{_e(k)} = {f(v, 'r2')}"
                                     + (" (inadmissible: negative residual variance)"
                                        if k in bad else "") for k, v in r2.items()) + ".")
        jn = self.num("moderation", "johnson_neyman") or {}
        if jn:
            tab = (self.stages.get("moderation", {}).get("tables", {}).get("interactions", {})
                   .get("rows", []))
            sig = [r for r in tab if "×" in str(r.get("term", ""))]
            items.append("Latent interactions: " + "; ".join(
                f"{_e(r['outcome'])} ← {_e(r['term'])}: B = {f(r['est'], 'num3')}, "
                f"{_p(r['pvalue'])}" for r in sig) + ".")
        if not items:
            return ""
        body = "".join(f"<li>{i}</li>" for i in items)
        return self._wrap(f'<div class="summary"><p><strong>Summary</strong></p><ul>{body}</ul>'
                          "</div>")

    def method_instrument(self) -> str:
        st = self.stages.get("instrument")
        body = "<h2>Method</h2><h3>Instrument</h3>"
        if st is None:
            return self._wrap(body + self._stage_gaps("instrument"))
        n = st["numbers"]
        if n.get("instrument_id") == "derived":  # no instrument given: say what is known
            body += (f"<p>No instrument definition was given: the {n['n_constructs']} "
                     f"constructs are the factors of the model, measured by {n['n_items']} "
                     f"items named as the data's columns, answered on a {n['scale_points']}-point "
                     f"scale (Table {self._tables + 1}). Item wording and sources were not "
                     "recorded; no item was reverse-coded.</p>")
            return self._wrap(body + self.table("instrument", "constructs"))
        body += (f"<p>The survey instrument (<code>{_e(n['instrument_id'])}</code>, version "
                 f"{_e(n['instrument_version'])}, in {', '.join(_e(x) for x in n['languages'])}) "
                 f"measures the {n['n_constructs']} constructs of the model with "
                 f"{n['n_items']} items on a {n['scale_points']}-point scale; "
                 f"{n['n_reverse_keyed']} items are reverse-keyed and "
                 f"{n['n_attention_checks']} instructed-response items check attention. Table "
                 f"{self._tables + 1} lists the constructs and the validated scales their items "
                 "are adapted from.</p>")
        body += self.table("instrument", "constructs")
        return self._wrap(body)

    def method_sample(self) -> str:
        body = "<h3>Sample and Data Screening</h3>"
        st = self.stages.get("data")
        if st is None:
            return self._wrap(body + self._stage_gaps("data"))
        n = st["numbers"]
        self.cite("meade", "curran16")
        excluded = n.get("excluded_by", {})
        crit = ", ".join(f"{k} ({v})" for k, v in excluded.items()) or "none"
        sample = st.get("tables", {}).get("sample") or {}
        has_profile = bool(sample.get("rows"))
        body += (f"<p>Of {f(n['n_read'], 'int')} responses read, {f(n['n_excluded'], 'int')} "
                 f"were excluded by the screening criteria chosen in advance ({crit}; Table "
                 f"{self._tables + 1}), leaving {f(n['n_after_screening'], 'int')}"
                 + (f"; the analysed subsample has N = {f(n['n_analysed'], 'int')}"
                    if n["n_analysed"] != n["n_after_screening"] else "")
                 + ". Flagged respondents were otherwise kept"
                 + (f"; Table {self._tables + 2} describes the sample.</p>" if has_profile else
                    ". The instrument has no profile questions (industry, size, informant's "
                    "position ...), so the sample is not described beyond its size.</p>"))
        body += self.table("data", "screening")
        if has_profile:
            body += self.table("data", "sample")
        for note in st.get("notes", []):
            body += f"<p>{_e(note)}</p>"
        return self._wrap(body)

    def method_missing(self) -> str:
        body = "<h3>Missing Data and Distributions</h3>"
        st = self.stages.get("data")
        if st is None:
            return self._wrap(body)
        n = st["numbers"]
        m = n.get("mardia", {})
        self.cite("mardia", "curran", "enders")
        body += (f"<p>{f(n['pct_cells_missing'], 'num1')}% of the answers to the model's items "
                 f"are missing (at most {f(n['max_item_missing_pct'], 'num1')}% for one item); "
                 f"{f(n['n_complete'], 'int')} of {f(n['n_analysed'], 'int')} respondents "
                 f"answered every item, in {f(n['n_missing_patterns'], 'int')} missing-data "
                 f"patterns (Table {self._tables + 1}).</p>")
        body += self.table("data", "missing")
        if m:
            body += (f"<p>Univariate skewness reaches |{f(n['max_abs_skew'])}| and excess "
                     f"kurtosis |{f(n['max_abs_kurtosis'])}| (item statistics in the "
                     "appendix), below the limits of 2 and 7 that Curran, West and Finch (1996) "
                     "give for substantial non-normality; Mardia's (1970) multivariate kurtosis "
                     f"is <i>b</i><sub>2,<i>p</i></sub> = {f(m['b2p'], 'num1')} (expected "
                     f"{f(m['kurtosis_expected'], 'num1')} under normality), <i>z</i> = "
                     f"{f(m['kurtosis_z'])}, {_p(m['kurtosis_pvalue'])}, on the "
                     f"{f(m['n'], 'int')} complete cases. Figure {self._figures + 1} shows the "
                     "answers by construct.</p>")
        body += self.figure("data", "likert")
        return self._wrap(body)

    def method_estimation(self) -> str:
        body = "<h3>Estimation</h3>"
        meas = self.stages.get("measurement", {}).get("numbers", {})
        params = self.study.get("parameters", {})
        est_text = meas.get("estimator_text")
        versions = self.manifest.get("packages", {})
        self.cite("rosseel", "kline")
        if est_text:
            why = ""
            if params.get("estimator") == "MLR":
                self.cite("yuan", "satorra")
                why = (" MLR was chosen because ratings are not multivariate normal "
                       "(see Mardia's coefficient above); its standard errors and scaled test "
                       "do not assume normality (Yuan & Bentler, 2000).")
            if params.get("missing") == "ml":
                why += (" Missing answers were handled by full-information maximum likelihood, "
                        "which uses every answer given and is unbiased when answers are missing "
                        "at random (Enders, 2010).")
            body += (f"<p>The models were estimated by {_e(est_text)} in ckm-research "
                     f"{_e(self.study.get('ckm_research_version', ''))} (Python; its estimators "
                     "reproduce lavaan 0.6, Rosseel, 2012, to the published digits), with "
                     f"{f(params.get('ci_level', 0.95) * 100, 'int')}% Wald confidence "
                     f"intervals.{why}"
                     + (" Latent interactions were estimated by "
                        + ("double-mean-centred product indicators (Lin et al., 2010)"
                           if params.get("interaction_method") == "dblcent"
                           else "latent moderated structural equations (LMS; Klein & "
                                "Moosbrugger, 2000)") + "."
                        if params.get("interactions", True) else "")
                     + f" Seed of all random numbers: {_e(self.study.get('seed'))}.</p>")
            if params.get("interactions", True):
                self.cite("lin" if params.get("interaction_method") == "dblcent" else "klein")
        if versions:
            body += ("<p>Software: " + ", ".join(
                f"{_e(k)} {_e(v)}" for k, v in versions.items() if v and k in (
                    "ckm-research", "numpy", "scipy", "pandas", "papermill")) + ".</p>")
        return self._wrap(body)

    def results_measurement(self) -> str:
        body = "<h2>Results</h2><h3>Measurement Model</h3>"
        st = self.stages.get("measurement")
        if st is None:
            return self._wrap(body + self._stage_gaps("measurement"))
        n = st["numbers"]
        row = n.get("fit", {})
        self.cite("hu", "marsh", "kline")
        if row.get("robust"):
            self.cite("brosseau")
        body += self.problems("measurement")
        body += (f"<p>A confirmatory factor analysis with every factor correlated fitted the "
                 f"data of N = {f(n['n'], 'int')} respondents with {self._fit_sentence(row)} "
                 f"(Table {self._tables + 1}). {self._verdict(row)} The largest correlation "
                 f"residuals (Table {self._tables + 2}) show where the model misses.</p>")
        body += self.table("measurement", "fit_measurement")
        body += self.table("measurement", "residuals")
        if "measurement" in st.get("tables", {}):
            self.cite("fornell", "bagozzi", "hair", "henseler")
            body += (f"<p>Standardized loadings range from {f(n['loading_min'], 'r2')} to "
                     f"{f(n['loading_max'], 'r2')}; Cronbach's α is at least "
                     f"{f(n['alpha_min'], 'r2')}, composite reliability at least "
                     f"{f(n['cr_min'], 'r2')} and the AVE at least {f(n['ave_min'], 'r2')} "
                     f"(Table {self._tables + 1}, Figure {self._figures + 1}).</p>")
            body += self.table("measurement", "measurement")
            body += self.figure("measurement", "loadings")
            body += (f"<p>Discriminant validity: the largest {n.get('htmt_method', 'HTMT')} ratio "
                     f"is {f(n['htmt_max'], 'r2')} (Table {self._tables + 1}, Figure "
                     f"{self._figures + 1}; threshold .85, Henseler et al., 2015), and Table "
                     f"{self._tables + 2} gives the Fornell-Larcker comparison.</p>")
            body += self.table("measurement", "htmt")
            body += self.figure("measurement", "htmt")
            body += self.table("measurement", "fornell_larcker")
            if n.get("n_flags"):
                body += (f"<p>{n['n_flags']} values fall short of the usual thresholds (Table "
                         f"{self._tables + 1}).</p>")
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

    def _cmv(self, st: dict) -> str:
        if "cmv" not in st.get("tables", {}):
            return ""
        n = st["numbers"]
        self.cite("podsakoff", "lindell")
        parts = []
        if n.get("harman_first_share") is not None:
            parts.append(f"the first unrotated component explains "
                         f"{f(100 * n['harman_first_share'], 'num1')}% of the item variance")
        if n.get("ulmc_detected") is not None:
            share = (f"; method variance per item {f(n['ulmc_method_variance'], 'r3')}"
                     if n.get("ulmc_method_variance") is not None else "")
            parts.append("a method factor with equal loadings "
                         + ("improves" if n["ulmc_detected"] else "does not improve")
                         + f" the fit ({_p(n['ulmc_pvalue'])}{share})")
        if n.get("marker_r") is not None:
            parts.append(f"the marker variable's correlation used for the adjustment is "
                         f"r<sub>M</sub> = {f(n['marker_r'], 'r3')}")
        body = ("<h4>Common method variance</h4><p>Following Podsakoff et al. (2003): "
                + "; ".join(parts) + f" (Table {self._tables + 1}).</p>")
        body += self.table("measurement", "cmv")
        if "marker_adjusted" in st.get("tables", {}):
            body += ("<p>The correlations between the constructs before and after the marker "
                     "adjustment are listed in the appendix.</p>")
        return body

    def results_structural(self) -> str:
        body = "<h3>Structural Model</h3>"
        st = self.stages.get("structural")
        if st is None:
            return self._wrap(body + self._stage_gaps("structural"))
        n = st["numbers"]
        body += self.problems("structural")
        body += (f"<p>The structural model fitted with {self._fit_sentence(n['fit'])} "
                 f"(Table {self._tables + 1}, beside the measurement model). "
                 f"{self._verdict(n['fit'])} {n['n_significant']} of its {n['n_paths']} paths "
                 f"are significant (Table {self._tables + 2}); R² is given in Table "
                 f"{self._tables + 3} and the paths are drawn in Figure {self._figures + 1}.</p>")
        body += self.table("structural", "fit_structural")
        body += self.table("structural", "paths")
        body += self.table("structural", "r2")
        body += self.figure("structural", "path_diagram")
        if "indirect" in st.get("tables", {}):
            self.cite("bollen", "preacher")
            boot = n.get("bootstrap")
            how = (f"percentile bootstrap CIs from {boot['n_boot']} resamples"
                   if boot else "delta-method CIs")
            body += (f"<p>Table {self._tables + 1} gives the {n.get('n_indirect', 0)} indirect "
                     f"effects (products of the paths along each chain) with {how}.</p>")
            body += self.table("structural", "indirect")
        body += self._stage_gaps_parts("structural")
        return self._wrap(body)

    def results_moderation(self) -> str:
        body = "<h3>Moderation</h3>"
        st = self.stages.get("moderation")
        if st is None:
            return self._wrap(body + self._stage_gaps("moderation"))
        n = st["numbers"]
        body += self.problems("moderation")
        if "interactions" in st.get("tables", {}):
            self.cite("mccabe", "bauer")
            body += (f"<p>The latent interactions were added to the structural model and "
                     f"estimated with {_e(n.get('estimator'))} "
                     + ("on complete cases " if n.get("missing") == "listwise" else "")
                     + f"(N = {f(n.get('n'), 'int')}; Table {self._tables + 1}). Table "
                     f"{self._tables + 2} probes each with simple slopes; the figures show the "
                     "slopes with confidence bands and the Johnson-Neyman regions.</p>")
            body += self.table("moderation", "interactions")
            body += self.table("moderation", "simple_slopes")
            for key, jn in (n.get("johnson_neyman") or {}).items():
                body += f"<p><strong>{_e(key)}.</strong> {_e(jn['describe'])}</p>"
            for name in st.get("figures", {}):
                body += self.figure("moderation", name)
        groups = n.get("multigroup") or {}
        if groups:
            self.cite("cheung", "chen", "satorra")
            body += "<h4>Multi-group comparison</h4>"
            for factor, g in groups.items():
                sizes = ", ".join(f"{_e(k)} n = {v}" for k, v in
                                  (g.get("n_per_group") or {}).items())
                has_inv = f"invariance_{factor.lower()}" in st.get("tables", {})
                has_cmp = f"path_comparison_{factor.lower()}" in st.get("tables", {})
                text = (f"<p>Respondents were split at the {_e(g['split'])} of the mean of the "
                        f"{_e(factor)} items ({f(g['cut'])}; {sizes}). Within each group the "
                        f"range of {_e(factor)} is restricted by the split, so the group models "
                        f"leave {_e(factor)} out. ")
                k = 1
                if has_inv:
                    text += (f"Table {self._tables + k} tests the measurement invariance of the "
                             "other factors across the groups. ")
                    k += 1
                if has_cmp:
                    text += (f"Table {self._tables + k} compares the structural paths with "
                             f"equal {' and '.join(g['group_equal'])} (joint test of equal "
                             f"paths {_p(g['omnibus_pvalue'])}). ")
                text += ("Splitting a continuous moderator loses power (MacCallum et al., "
                         "2002); the latent interactions above are the test of moderation.</p>")
                body += text
                body += self.table("moderation", f"invariance_{factor.lower()}")
                body += self.table("moderation", f"path_comparison_{factor.lower()}")
        if "interactions" not in st.get("tables", {}) and not groups:
            body += "<p>No moderation analysis was run. " + " ".join(
                _e(x) for x in st.get("notes", [])) + "</p>"
        body += self._stage_gaps_parts("moderation")
        return self._wrap(body)

    def results_power(self) -> str:
        body = "<h3>Power</h3>"
        st = self.stages.get("power")
        if st is None:
            return self._wrap(body + self._stage_gaps("power"))
        if st.get("status") == STATUS_SKIPPED and st.get("status_reason", "").startswith(
                "the power stage was switched off"):
            return self._wrap(body + "<p>No power analysis was run for this report "
                                     "(parameter <code>power: false</code>).</p>")
        if st.get("status") == STATUS_SKIPPED:
            return self._wrap(body + f'<p class="problem">{_e(st.get("status_reason", ""))}</p>')
        if st.get("status") != STATUS_OK:
            return self._wrap(body + self.unavailable("The power analysis",
                                                      st.get("status_reason", "")))
        n = st["numbers"]
        self.cite("muthen", "maccallum", "hoenig")
        body += (f"<p>Monte Carlo power was estimated from {n['replications']} samples per "
                 f"sample size drawn from the fitted model (Muthén & Muthén, 2002; Table "
                 f"{self._tables + 1}, Figure {self._figures + 1}); Table {self._tables + 2} "
                 "gives the power of the tests of model fit (MacCallum et al., 1996). Power at "
                 "the observed estimates plans a replication; it does not explain a "
                 "non-significant result (Hoenig & Heisey, 2001).</p>")
        body += self.table("power", "power")
        body += self.figure("power", "power")
        body += self.table("power", "power_model_test")
        return self._wrap(body)

    def notes_section(self) -> str:
        notes = []
        for name, st in self.stages.items():
            for note in st.get("notes", []):
                notes.append((name, note))
        if not notes:
            return ""
        body = "<h3>Notes From the Estimation</h3><ul>"
        body += "".join(f"<li>{_e(stage)}: {_e(note)}</li>" for stage, note in notes)
        return self._wrap(body + "</ul>")

    def syntax_section(self) -> str:
        body = "<h2>Model Syntax</h2><p>The study model as given (lavaan syntax):</p>"
        ins = self.stages.get("instrument", {}).get("texts", {})
        if "model_syntax" in ins:
            body += f'<pre class="syntax">{_e(ins["model_syntax"])}</pre>'
        for stage, label in (("measurement", "Measurement model (CFA), as fitted"),
                             ("structural", "Structural model with the indirect effects, "
                                            "as fitted"),
                             ("moderation", "Model with the latent interactions, as fitted")):
            text = self.stages.get(stage, {}).get("texts", {}).get("syntax")
            if text:
                body += f"<h4>{_e(label)}</h4><pre class=\"syntax\">{_e(text)}</pre>"
        return self._wrap(body)

    def provenance(self) -> str:
        m = self.manifest
        inputs = m.get("inputs", {})
        git = m.get("git", {})
        rows = [
            ("Created", m.get("created", "")),
            ("ckm-research", m.get("ckm_research_version", "")),
            ("Python", m.get("python", {}).get("version", "")),
            ("Kernel", m.get("kernel", {}).get("description", "")),
            ("Git commit", (git.get("commit") or git.get("note") or "")
             + (" (with uncommitted changes)" if git.get("dirty") else "")),
            ("Data file", self.study.get("data_file", "")),
            ("Data SHA-256", self.study.get("data_sha256", "")),
            ("Model SHA-256", self.study.get("model_sha256", "")),
            ("Instrument", "{id} {version} (SHA-256 {sha256})".format(
                **{k: (self.study.get("instrument") or {}).get(k, "") for k in
                   ("id", "version", "sha256")})),
            ("Seed", self.study.get("seed", "")),
            ("Parameters SHA-256", self.study.get("parameters_sha256", "")),
        ]
        if inputs.get("data_file", {}).get("bytes"):
            rows.insert(6, ("Data size", f"{inputs['data_file']['bytes']:,} bytes"))
        pkgs = ", ".join(f"{k} {v}" for k, v in (m.get("packages") or {}).items() if v)
        if pkgs:
            rows.append(("Packages", pkgs))
        params = self.study.get("parameters", {})
        body = "<h2>Provenance</h2><p>Everything needed to repeat this report: run "
        body += ("<code>ckm run --params params.yaml</code> with the parameters below (they are "
                 "also in <code>manifest.json</code>) on the file with the same SHA-256.</p>")
        body += '<table class="provenance">' + "".join(
            f"<tr><td><strong>{_e(k)}</strong></td><td>{_e(v)}</td></tr>" for k, v in rows)
        body += "</table><h4>Parameters</h4><table class=\"provenance\">" + "".join(
            f"<tr><td><code>{_e(k)}</code></td><td><code>{_e(json.dumps(v))}</code></td></tr>"
            for k, v in params.items()) + "</table>"
        return self._wrap(body)

    def references(self) -> str:
        """The references cited in the sections shown so far (and by :meth:`cite`)."""
        cited = set(self._cited) | set(_cited_in("\n".join(self._produced)))
        keys = sorted(cited, key=lambda k: REFERENCES[k])
        body = "<h2>References</h2><div class=\"references\">" + "".join(
            f"<p>{REFERENCES[k]}</p>" for k in keys) + "</div>"
        return self._wrap(body)

    def appendix(self) -> str:
        body = "<h2>Appendix</h2><h3>Item Statistics</h3>"
        body += self.table("data", "items")
        marker = self.table("measurement", "marker_adjusted")
        if marker:
            body += "<h3>Marker-Variable Adjustment</h3>" + marker
        return self._wrap(body)
