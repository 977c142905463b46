"""The report's words in English and Chinese: one message catalogue.

Every user-facing string of the report (``ckm run``: table titles, column
headers and notes, figure titles and axis labels, the sentences of
:mod:`ckm_research.report.render`) is a key of :data:`MESSAGES` holding the
English and the Chinese text side by side; :func:`text` picks one and fills in
its ``{fields}`` with :meth:`str.format`. A key, not the English text, is the
id, so that a missing translation is a failing test
(``tests/test_report_i18n.py`` checks that every key has both languages and
the same fields in both).

Chinese follows the conventions of Chinese journals that report SEM in APA
style (表1 / 图1 numbering, 注：before the table note, full-width
punctuation in sentences). Citations keep the authors' names and years as
published ("Hu & Bentler, 1999"), and the reference list stays in its
original language.
"""

from __future__ import annotations

import string

__all__ = [
    "LANGUAGES",
    "MESSAGES",
    "text",
    "check_language",
    "fields",
    "jn_text",
    "encoding_text",
    "engine_text",
    "estimator_text",
]

#: The languages the report is written in (the ``language`` parameter of ``ckm run``).
LANGUAGES = ("en", "zh")

#: key -> (English, Chinese).
MESSAGES: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ table frame
    "table.number": ("Table {n}", "表{n}"),
    "table.unnumbered": ("Table", "表"),
    "figure.number": ("Figure {n}", "图{n}"),
    "note.label": ("Note.", "注："),
    "value.yes": ("yes", "是"),
    "value.no": ("no", "否"),
    # ------------------------------------------------------------------ instrument
    "constructs.title": ("Constructs and Items of the Survey Instrument", "问卷的构念与题项"),
    "constructs.note.adapted": (
        "Items adapted (rephrased, not copied) from the sources named; answers on the scale "
        "{scale}. ",
        "题项改编（改写而非照搬）自所列来源；作答量表为 {scale}。",
    ),
    "constructs.note.reverse": (
        "Reverse-keyed items are reverse-coded before analysis.",
        "反向计分题在分析前已反向编码。",
    ),
    "constructs.note.derived": (
        "No instrument was given: the constructs are the factors of the model and the items "
        "the data's columns (wording and sources not recorded); answers from {lowest} to "
        "{highest}.",
        "未提供问卷定义：构念即模型中的因子，题项即数据的各列（未记录题目措辞与来源）；作答范围为 "
        "{lowest} 至 {highest}。",
    ),
    "col.code": ("Code", "代码"),
    "col.construct": ("Construct", "构念"),
    "col.role": ("Role", "角色"),
    "col.items": ("Items", "题项"),
    "col.reverse_keyed": ("Reverse-keyed", "反向计分"),
    "col.adapted_from": ("Adapted from", "改编来源"),
    # ------------------------------------------------------------------ screening
    "screening.title": (
        "Data Screening: Respondents Flagged and Excluded",
        "数据筛查：被标记与被剔除的受访者",
    ),
    "screening.missing": ("More than {share} of items unanswered", "未作答题项超过 {share}"),
    "screening.longstring": (
        "Same answer {n}+ times in a row (longstring; Johnson, 2005)",
        "连续 {n} 次及以上给出相同答案（longstring；Johnson, 2005）",
    ),
    "screening.attention": (
        "Failed an instructed-response item (Meade & Craig, 2012)",
        "未通过指定作答的注意力检测题（Meade & Craig, 2012）",
    ),
    "screening.outlier": (
        "Multivariate outlier, Mahalanobis p < {alpha} (Tabachnick & Fidell, 2013)",
        "多元离群值，马氏距离 p < {alpha}（Tabachnick & Fidell, 2013）",
    ),
    "screening.speed": (
        "Faster than {seconds} s per item (Huang et al., 2012)",
        "每题作答快于 {seconds} 秒（Huang et al., 2012）",
    ),
    "screening.any": ("Any criterion (respondents)", "任一标准（受访者人数）"),
    "screening.excluded": ("excluded", "剔除"),
    "screening.flagged_only": ("flagged only", "仅标记"),
    "screening.note": (
        "N = {n} responses read; a respondent may be flagged by several criteria, so the rows "
        "need not add up to the last one. Criteria not marked 'excluded' were reported but not "
        "acted on (the choice is a parameter, 'drop').",
        "共读取 N = {n} 份答卷；一名受访者可能被多个标准标记，因此各行之和不必等于最后一行。"
        "未标为“剔除”的标准只报告、不处理（由参数 drop 选择）。",
    ),
    "col.criterion": ("Criterion", "标准"),
    "col.flagged": ("Flagged", "标记"),
    "col.excluded": ("Excluded", "剔除"),
    "col.decision": ("Decision", "处理"),
    # ------------------------------------------------------------------ sample
    "sample.title": ("Sample Description", "样本描述"),
    "sample.moments": (
        "M = {mean}, SD = {sd}, range {lo}-{hi}",
        "M = {mean}，SD = {sd}，范围 {lo}-{hi}",
    ),
    "sample.no_answer": ("(no answer)", "（未作答）"),
    "sample.note": (
        "N = {n} respondents analysed; percentages of those who answered.",
        "分析样本 N = {n}；百分比以作答者为基数。",
    ),
    "col.characteristic": ("Characteristic", "特征"),
    "col.category": ("Category", "类别"),
    # ------------------------------------------------------------------ missing
    "missing.title": ("Missing Answers by Construct", "各构念的缺失作答"),
    "missing.all_items": ("All items", "全部题项"),
    "col.cells_missing": ("% answers missing", "缺失作答 %"),
    "col.max_item_missing": ("Max. % missing (item)", "单题最大缺失 %"),
    "col.respondents_incomplete": ("Respondents with a gap", "有缺失的受访者"),
    # ------------------------------------------------------------------ items
    "items.title": ("Item Descriptive Statistics", "题项描述统计"),
    "items.note": (
        "Skewness and excess kurtosis are the adjusted Fisher-Pearson coefficients (G1, G2, as "
        "SPSS reports them); |skewness| > 2 or |kurtosis| > 7 would signal substantial "
        "non-normality (Curran, West & Finch, 1996). Reverse-keyed items after reverse coding.",
        "偏度与超额峰度为校正的 Fisher-Pearson 系数（G1、G2，与 SPSS 报告的一致）；|偏度| > 2 "
        "或 |峰度| > 7 提示明显的非正态（Curran, West & Finch, 1996）。"
        "反向计分题为反向编码后的值。",
    ),
    "col.item": ("Item", "题项"),
    "col.skew": ("Skewness", "偏度"),
    "col.kurtosis": ("Kurtosis", "峰度"),
    # ------------------------------------------------------------------ fit
    "fit.title": ("Model Fit", "模型拟合"),
    "fit.title.measurement": ("Fit of the Measurement Model", "测量模型的拟合"),
    "fit.title.structural": (
        "Fit of the Measurement and Structural Models",
        "测量模型与结构模型的拟合",
    ),
    "fit.model.measurement": ("Measurement model (CFA)", "测量模型（CFA）"),
    "fit.model.structural": ("Structural model", "结构模型"),
    "fit.note.robust": (
        "χ² is the Yuan-Bentler scaled statistic and CFI, TLI and RMSEA their robust versions "
        "(Brosseau-Liard & Savalei, 2014; Savalei, 2018). ",
        "χ² 为 Yuan-Bentler 校正统计量，CFI、TLI 与 RMSEA 为其稳健版本"
        "（Brosseau-Liard & Savalei, 2014; Savalei, 2018）。",
    ),
    "fit.note": (
        "RMSEA with its {level} CI. Guidelines (Hu & Bentler, 1999): CFI and TLI ≥ .95, RMSEA "
        "≤ .06, SRMR ≤ .08 - read as guidelines that depend on the model, not as pass/fail "
        "rules (Marsh, Hau & Wen, 2004).",
        "RMSEA 附其 {level} 置信区间。参考标准（Hu & Bentler, 1999）：CFI 与 TLI ≥ .95，"
        "RMSEA ≤ .06，SRMR ≤ .08；这些标准依模型而定，应作为参考而非通过/不通过的规则"
        "（Marsh, Hau & Wen, 2004）。",
    ),
    "col.model": ("Model", "模型"),
    "col.parameters": ("Parameters", "参数"),
    "col.rmsea_ci": ("RMSEA 90% CI", "RMSEA 90% CI"),
    # ------------------------------------------------------------------ measurement
    "measurement.title": (
        "Measurement Model: Standardized Loadings, Reliability and Convergent Validity",
        "测量模型：标准化载荷、信度与聚合效度",
    ),
    "measurement.note": (
        "λ = standardized loading (std.all) with its delta-method SE and CI; α = Cronbach's "
        "alpha; CR = composite reliability (omega; Bagozzi & Yi, 1988); AVE = average variance "
        "extracted (Fornell & Larcker, 1981). Usual guidelines: λ ≥ .708 (Hair et al., 2019), "
        "α and CR ≥ .70 (Nunnally & Bernstein, 1994), AVE ≥ .50.",
        "λ = 标准化载荷（std.all），附 delta 法标准误与置信区间；α = Cronbach's α 系数；"
        "CR = 组合信度（omega；Bagozzi & Yi, 1988）；AVE = 平均方差抽取量（Fornell & Larcker, "
        "1981）。常用标准：λ ≥ .708（Hair et al., 2019），α 与 CR ≥ .70（Nunnally & Bernstein, "
        "1994），AVE ≥ .50。",
    ),
    "col.ci95": ("95% CI", "95% CI"),
    "htmt.title": (
        "Discriminant Validity: Heterotrait-Monotrait Ratios ({method})",
        "区分效度：异质-单质比率（{method}）",
    ),
    "htmt.note": (
        "{method} (Henseler, Ringle & Sarstedt, 2015; Roemer, Schuberth & Henseler, 2021). "
        "Values below {threshold} support discriminant validity (.90 for conceptually similar "
        "constructs).",
        "{method}（Henseler, Ringle & Sarstedt, 2015; Roemer, Schuberth & Henseler, 2021）。"
        "低于 {threshold} 的值支持区分效度（概念相近的构念为 .90）。",
    ),
    "fornell.title": (
        "Discriminant Validity: Fornell-Larcker Criterion",
        "区分效度：Fornell-Larcker 准则",
    ),
    "fornell.note": (
        "Diagonal: square root of the AVE; below it: correlations between the factors. The "
        "criterion holds when each diagonal value exceeds the correlations in its row and "
        "column (Fornell & Larcker, 1981).",
        "对角线：AVE 的平方根；对角线以下：因子间相关。当每个对角线值均大于其所在行与列的相关"
        "系数时，该准则成立（Fornell & Larcker, 1981）。",
    ),
    "flags.title": ("Measurement Values Below the Usual Thresholds", "低于常用标准的测量指标"),
    "flags.note": (
        "Flags compare each value with the cited threshold; they are prompts for "
        "judgement, not verdicts.",
        "标记将每个值与所引标准比较；它们提示需要判断，而非结论。",
    ),
    "col.severity": ("Severity", "严重程度"),
    "col.check": ("Check", "检验"),
    "col.where": ("Where", "位置"),
    "col.value": ("Value", "值"),
    "col.threshold": ("Threshold", "标准"),
    "col.finding": ("Finding", "发现"),
    "residuals.title": ("Local Fit: Largest Correlation Residuals", "局部拟合：最大的相关残差"),
    "residuals.note": (
        "Observed minus model-implied correlations (Bentler's standardization); {n_big} of "
        "{n} exceed |.10|, the usual signal of local misfit (Kline, 2016, p. 240).",
        "观测相关减去模型隐含相关（Bentler 标准化）；{n} 个中有 {n_big} 个超过 |.10|，"
        "这是局部拟合不佳的常用信号（Kline, 2016, p. 240）。",
    ),
    "col.residual": ("Residual", "残差"),
    "marker.title": (
        "Correlations Between Constructs Adjusted for the Marker Variable",
        "经标记变量校正的构念间相关",
    ),
    "marker.note": (
        "Lindell & Whitney (2001) adjustment with r_M = {r_m} ({rule}); N = {n}.",
        "Lindell & Whitney (2001) 校正，r_M = {r_m}（{rule}）；N = {n}。",
    ),
    "col.r_adjusted": ("r (adjusted)", "r（校正后）"),
    "col.p_adjusted": ("p (adjusted)", "p（校正后）"),
    "col.significant": ("Significant", "显著"),
    "cmv.title": ("Common Method Variance Checks", "共同方法偏差检验"),
    "cmv.harman": (
        "Harman's single factor (Podsakoff et al., 2003)",
        "Harman 单因子检验（Podsakoff et al., 2003）",
    ),
    "cmv.harman.statistic": (
        "first unrotated component: share of variance",
        "未旋转第一主成分：解释方差比例",
    ),
    "cmv.harman.dominant": ("one factor dominates (≥ .50)", "单一因子占主导（≥ .50）"),
    "cmv.harman.not_dominant": (
        "no single factor dominates (< .50)",
        "没有单一因子占主导（< .50）",
    ),
    "cmv.onefactor": ("One-factor CFA vs. the trait model", "单因子 CFA 与特质模型比较"),
    "cmv.onefactor.worse": (
        "one factor fits worse than the trait model",
        "单因子模型拟合差于特质模型",
    ),
    "cmv.onefactor.same": (
        "one factor fits as well as the trait model",
        "单因子模型拟合与特质模型相当",
    ),
    "cmv.ulmc": ("Unmeasured latent method construct (ULMC)", "不可测潜在方法因子（ULMC）"),
    "cmv.ulmc.statistic": (
        "mean method variance per item (equal loadings)",
        "每题平均方法方差（等载荷）",
    ),
    "cmv.ulmc.detected": ("method factor detected", "检测到方法因子"),
    "cmv.ulmc.not_detected": ("no method factor detected", "未检测到方法因子"),
    "cmv.marker": (
        "Marker variable (Lindell & Whitney, 2001)",
        "标记变量（Lindell & Whitney, 2001）",
    ),
    "cmv.marker.statistic": ("r_M (marker correlation used)", "r_M（所用标记变量相关）"),
    "cmv.marker.conclusion": (
        "{lost} of {n} significant correlations lose significance after adjustment",
        "{n} 个显著相关中有 {lost} 个在校正后不再显著",
    ),
    "cmv.note": (
        "Harman's test is insensitive (Podsakoff et al., 2003; Fuller et al., 2016); the ULMC "
        "test compares a model with a method factor loading equally on every item with the "
        "trait model (boundary-corrected p). Procedural remedies matter more than any of these "
        "tests.",
        "Harman 检验不够灵敏（Podsakoff et al., 2003; Fuller et al., 2016）；ULMC 检验将方法"
        "因子等载荷于每个题项的模型与特质模型比较（边界校正的 p）。程序上的补救比上述任何检验"
        "都更重要。",
    ),
    "col.statistic": ("Statistic", "统计量"),
    "col.conclusion": ("Conclusion", "结论"),
    # ------------------------------------------------------------------ structural
    "paths.title": ("Structural Model: Path Coefficients", "结构模型：路径系数"),
    "paths.note": (
        "B = unstandardized coefficient with its {level} Wald CI; β = completely standardized "
        "coefficient (std.all). Estimator {estimator}, N = {n}.",
        "B = 非标准化系数，附 {level} Wald 置信区间；β = 完全标准化系数（std.all）。"
        "估计方法 {estimator}，N = {n}。",
    ),
    "col.outcome": ("Outcome", "结果变量"),
    "col.predictor": ("Predictor", "预测变量"),
    "col.ci_of_b": ("{level} CI of B", "B 的 {level} CI"),
    "r2.title": ("Variance Explained in the Endogenous Factors", "内生因子的被解释方差"),
    "r2.note": ("R² = 1 − standardized residual variance.", "R² = 1 − 标准化残差方差。"),
    "r2.note.bad": (
        " An R² above 1 ({names}) comes from a negative residual variance, a Heywood case: the "
        "solution is inadmissible and these values cannot be interpreted (Chen et al., 2001; "
        "Kolenikov & Bollen, 2012).",
        "大于 1 的 R²（{names}）源于负的残差方差，即 Heywood 案例：该解不可接受，这些值不能解释"
        "（Chen et al., 2001; Kolenikov & Bollen, 2012）。",
    ),
    "r2.flag": ("inadmissible (negative residual variance)", "不可接受（残差方差为负）"),
    "col.factor": ("Factor", "因子"),
    "col.problem": ("Problem", "问题"),
    "indirect.title": ("Indirect Effects", "间接效应"),
    "indirect.note": (
        "Estimate and SE from the structural model; indirect effect = product of the paths "
        "along the chain (Bollen, 1987). Delta-method (Sobel) CIs assume a normal sampling "
        "distribution, which products of coefficients do not have",
        "估计值与标准误来自结构模型；间接效应 = 链上各路径系数之积（Bollen, 1987）。"
        "delta 法（Sobel）置信区间假定抽样分布为正态，而系数之积并不服从正态分布",
    ),
    "indirect.note.boot": (
        "; the percentile bootstrap CIs ({n_boot} resamples, {converged} converged) do not, "
        "and are the ones to interpret (Preacher & Hayes, 2008).",
        "；百分位 bootstrap 置信区间（{n_boot} 次重抽样，{converged} 次收敛）无此假定，应以其为准"
        "（Preacher & Hayes, 2008）。",
    ),
    "indirect.note.complete": (
        " The bootstrap resampled the {n} complete cases and refitted ML from their moments "
        "(parameter boot_missing: listwise); its estimates are shown beside the FIML ones.",
        "bootstrap 对 {n} 个完整个案重抽样，并由其矩重新进行 ML 估计（参数 boot_missing: "
        "listwise）；其估计值列于 FIML 估计值旁。",
    ),
    "indirect.note.no_boot": (
        "; bootstrap CIs are preferable (Preacher & Hayes, 2008).",
        "；bootstrap 置信区间更为可取（Preacher & Hayes, 2008）。",
    ),
    "col.path": ("Path", "路径"),
    "col.estimate": ("Estimate", "估计值"),
    "col.std": ("Std.", "标准化"),
    "col.boot_est": ("Estimate (complete cases)", "估计值（完整个案）"),
    "col.delta_ci": ("Delta-method CI", "delta 法 CI"),
    "col.boot_ci": ("Bootstrap CI", "Bootstrap CI"),
    # ------------------------------------------------------------------ moderation
    "interactions.title": (
        "Latent Interactions: Equations With Product Terms",
        "潜变量交互作用：含乘积项的方程",
    ),
    "interactions.note": (
        "X × Z = latent product term. Estimator {estimator}, N = {n}.",
        "X × Z = 潜变量乘积项。估计方法 {estimator}，N = {n}。",
    ),
    "col.term": ("Term", "项"),
    "slopes.title": (
        "Simple Slopes at Low, Mean and High Moderator Values",
        "调节变量低、中、高水平上的简单斜率",
    ),
    "slopes.note": (
        "Slopes at the model-implied mean of the latent moderator and ±1 SD, with "
        "delta-method SEs (Preacher, Curran & Bauer, 2006).",
        "斜率取于潜调节变量的模型隐含均值及 ±1 SD 处，标准误用 delta 法"
        "（Preacher, Curran & Bauer, 2006）。",
    ),
    "col.moderator": ("Moderator", "调节变量"),
    "col.moderator_at": ("Moderator at", "调节变量取值"),
    "col.slope": ("Slope", "斜率"),
    "slopes.at.low": ("-1 SD", "均值 − 1 SD"),
    "slopes.at.mean": ("Mean", "均值"),
    "slopes.at.high": ("+1 SD", "均值 + 1 SD"),
    "invariance.title": (
        "Measurement Invariance Across the {group} Groups",
        "{group}组间的测量不变性",
    ),
    "invariance.group": ("Low and High {factor}", "低{factor}与高{factor}"),
    "invariance.test.mlr": (
        "Satorra-Bentler (2001) scaled χ² difference",
        "Satorra-Bentler (2001) 校正 χ² 差异检验",
    ),
    "invariance.test.ml": ("χ² difference (likelihood ratio)", "χ² 差异检验（似然比）"),
    "invariance.note": (
        "Groups: {groups}. Each level is compared with the one before by the {test} and the "
        "change in the fit indices; it is supported when ΔCFI ≥ −.010 (Cheung & Rensvold, "
        "2002) and ΔRMSEA ≤ .015 (Chen, 2007).",
        "组别：{groups}。每一层级与前一层级比较，采用{test}及拟合指数的变化；当 ΔCFI ≥ −.010"
        "（Cheung & Rensvold, 2002）且 ΔRMSEA ≤ .015（Chen, 2007）时，该层级得到支持。",
    ),
    "invariance.note.robust": (
        " CFI and RMSEA are the robust versions.",
        "CFI 与 RMSEA 为稳健版本。",
    ),
    "col.level": ("Level", "层级"),
    "invariance.level.configural": ("configural", "形态"),
    "invariance.level.metric": ("metric", "弱（度量）"),
    "invariance.level.scalar": ("scalar", "强（截距）"),
    "invariance.level.strict": ("strict", "严格"),
    "invariance.decision.supported": ("supported", "支持"),
    "invariance.decision.not supported": ("not supported", "不支持"),
    "invariance.decision.baseline": ("baseline", "基线"),
    "comparison.title": ("Structural Paths by {group}", "按{group}分组的结构路径"),
    "comparison.group": ("{factor} Group (Split at the {split})", "{factor}分组（按{split}划分）"),
    "comparison.all": ("All paths jointly", "全部路径联合检验"),
    "comparison.note": (
        "Unstandardized paths estimated in each group with equal {equal}; Wald "
        "tests of equal paths across groups.",
        "各组分别估计非标准化路径，并限定{equal}相等；以 Wald 检验比较各组路径是否相等。",
    ),
    "comparison.and": (" and ", "与"),
    "equal.loadings": ("loadings", "载荷"),
    "equal.intercepts": ("intercepts", "截距"),
    "equal.residuals": ("residuals", "残差"),
    "split.median": ("Median", "中位数"),
    "split.mean": ("Mean", "均值"),
    "split.median.lower": ("median", "中位数"),
    "split.mean.lower": ("mean", "均值"),
    # ------------------------------------------------------------------ power
    "power.title": (
        "Monte Carlo Power of the Structural Paths and Indirect Effects",
        "结构路径与间接效应的 Monte Carlo 统计检验力",
    ),
    "power.note": (
        "Share of {reps} simulated samples per N in which the effect is significant (α = "
        "{alpha}); population values are the estimates of this study (Muthén & Muthén, 2002). "
        "Power computed at observed estimates plans a replication; it does not explain a "
        "non-significant result (Hoenig & Heisey, 2001).",
        "每个 N 下 {reps} 个模拟样本中效应显著的比例（α = {alpha}）；总体值为本研究的估计值"
        "（Muthén & Muthén, 2002）。以观测估计值计算的检验力用于规划重复研究，不能解释不显著的"
        "结果（Hoenig & Heisey, 2001）。",
    ),
    "col.parameter": ("Parameter", "参数"),
    "power_test.title": ("Power of the Tests of Model Fit", "模型拟合检验的统计检验力"),
    "power_test.note": (
        "RMSEA tests of MacCallum, Browne & Sugawara (1996) at df = {df}.",
        "MacCallum, Browne & Sugawara (1996) 的 RMSEA 检验，df = {df}。",
    ),
    "col.mc_reject": ("χ² rejects (simulated)", "χ² 拒绝（模拟）"),
    "col.close_fit": ("Close fit (.05 vs .08)", "近似拟合（.05 对 .08）"),
    "col.not_close_fit": ("Not-close fit (.05 vs .01)", "非近似拟合（.05 对 .01）"),
    # ------------------------------------------------------------------ figures
    "fig.likert.title": ("Distribution of the Answers by Construct", "各构念的作答分布"),
    "fig.likert.note": (
        "Share of answers over the items of each construct (reverse-keyed "
        "items reverse-coded); N = {n}.",
        "各构念所有题项的作答比例（反向计分题已反向编码）；N = {n}。",
    ),
    "fig.likert.xlabel": (
        "Share of answers (%), disagreement to the left of zero",
        "作答比例（%），零点左侧为不同意",
    ),
    "fig.loadings.title": ("Standardized Loadings by Construct", "各构念的标准化载荷"),
    "fig.loadings.note": (
        "Points: standardized loadings; bars: 95% delta-method CIs; dashed "
        "line: .708 (Hair et al., 2019).",
        "点：标准化载荷；误差线：95% delta 法置信区间；虚线：.708（Hair et al., 2019）。",
    ),
    "fig.loadings.xlabel": ("Standardized loading (95% CI)", "标准化载荷（95% CI）"),
    "fig.htmt.title": ("{method} Ratios Between Constructs", "构念间的 {method} 比率"),
    "fig.htmt.note": (
        "Outlined cells reach .85 (Henseler et al., 2015).",
        "加框的单元格达到 .85（Henseler et al., 2015）。",
    ),
    "fig.paths.title": ("Structural Model With Standardized Estimates", "结构模型与标准化估计值"),
    "fig.paths.note": (
        "Standardized coefficients (β); * p < .05, ** p < .01, *** p < .001; dashed grey "
        "arrows are not significant. R² in the endogenous factors. Indicators, residuals and "
        "factor covariances not drawn.",
        "标准化系数（β）；* p < .05，** p < .01，*** p < .001；灰色虚线箭头表示不显著。"
        "内生因子中标有 R²。未画出指标、残差与因子协方差。",
    ),
    "fig.slopes.title": (
        "Simple Slopes of {x} on {y} at Low, Mean and High {z}",
        "{z}低、中、高水平上 {x} 对 {y} 的简单斜率",
    ),
    "fig.slopes.note": (
        "Lines at the model-implied mean of {z} and ±1 SD, with {level} "
        "confidence bands (McCabe, Kim & King, 2018).",
        "直线取于 {z} 的模型隐含均值及 ±1 SD 处，附 {level} 置信带（McCabe, Kim & King, 2018）。",
    ),
    "fig.slopes.xlabel": ("{x} (latent metric)", "{x}（潜变量尺度）"),
    "fig.slopes.ylabel": ("Predicted {y} (centred)", "{y} 预测值（中心化）"),
    "fig.slopes.legend": ("{level} CI bands", "{level} 置信带"),
    "fig.jn.title": (
        "Johnson-Neyman Plot: Slope of {x} on {y} Across {z}",
        "Johnson-Neyman 图：{x} 对 {y} 的斜率随 {z} 的变化",
    ),
    "fig.jn.band": (
        " Band: {level} confidence band (Bauer & Curran, 2005).",
        "阴影带：{level} 置信带（Bauer & Curran, 2005）。",
    ),
    "fig.jn.xlabel": (
        "{z} (latent metric; mean {mean}, SD {sd})",
        "{z}（潜变量尺度；均值 {mean}，SD {sd}）",
    ),
    "fig.jn.ylabel": ("Slope of {x} on {y}", "{x} 对 {y} 的斜率"),
    "fig.jn.significant": ("slope significant", "斜率显著"),
    "fig.jn.slope": ("simple slope of {x}", "{x} 的简单斜率"),
    "fig.jn.ci": ("{level} CI", "{level} CI"),
    "fig.jn.bounds": ("JN bounds: {bounds}", "JN 边界：{bounds}"),
    "fig.power.title": (
        "Monte Carlo Power of the Structural Paths by Sample Size",
        "不同样本量下结构路径的 Monte Carlo 统计检验力",
    ),
    "fig.power.note": (
        "Share of {reps} simulated samples per N with p < {alpha}; population "
        "values = this study's estimates.",
        "每个 N 下 {reps} 个模拟样本中 p < {alpha} 的比例；总体值 = 本研究的估计值。",
    ),
    "fig.power.xlabel": ("Sample size", "样本量"),
    "fig.power.cbar": ("Power", "检验力"),
    "fig.no_cjk_font": (
        "No font with Chinese characters was found for the figures (matplotlib's font list "
        "has none of {fonts}): their Chinese labels would print as empty boxes, so the figures "
        "keep their English labels. Install one (Debian: apt-get install fonts-wqy-microhei; "
        "make setup and .ci/run do this) and rerun.",
        "未找到可显示中文的字体（matplotlib 的字体列表中没有 {fonts} 中的任何一种）：图中的中文"
        "会显示为空白方框，因此各图保留英文标签。请安装中文字体（Debian：apt-get install "
        "fonts-wqy-microhei；make setup 与 .ci/run 会自动安装）后重新运行。",
    ),
    "jn.always": (
        "The simple slope is significant ({level} level) at every moderator value.",
        "简单斜率在调节变量的所有取值上均显著（{level} 水平）。",
    ),
    "jn.never": (
        "The simple slope is not significant ({level} level) at any moderator value.",
        "简单斜率在调节变量的任何取值上均不显著（{level} 水平）。",
    ),
    "jn.between": (
        "The simple slope is significant ({level} level) between moderator value(s) {bounds}.",
        "当调节变量取值介于 {bounds} 之间时，简单斜率显著（{level} 水平）。",
    ),
    "jn.outside": (
        "The simple slope is significant ({level} level) outside moderator value(s) {bounds}.",
        "当调节变量取值在 {bounds} 之外时，简单斜率显著（{level} 水平）。",
    ),
    "jn.one_side": (
        "The simple slope is significant ({level} level) on one side of moderator "
        "value(s) {bounds}.",
        "简单斜率在调节变量取值 {bounds} 的一侧显著（{level} 水平）。",
    ),
    # ------------------------------------------------------------------ stage notes
    "note.encoding": ("{name} was read as {encoding} text.", "{name} 按 {encoding} 编码读取。"),
    "note.encoding.detected": (
        "{name} was read as {encoding} (detected) text.",
        "{name} 按 {encoding} 编码读取（自动检测）。",
    ),
    "note.encoding.given": (
        "{name} was read as {encoding} (given) text.",
        "{name} 按 {encoding} 编码读取（按参数指定）。",
    ),
    "engine.listwise": (
        "{dropped} of {n} cases{where} have missing values and were deleted listwise; use "
        "estimator='FIML' (or missing='ml') to keep them",
        "{n} 个个案中有 {dropped} 个{where}含缺失值，已按列表删除；若要保留这些个案，请使用 "
        "estimator='FIML'（或 missing='ml'）。",
    ),
    "engine.listwise.lms": (
        "{dropped} of {n} cases{where} have missing values and were deleted listwise (LMS here "
        "uses complete cases)",
        "{n} 个个案中有 {dropped} 个{where}含缺失值，已按列表删除（此处 LMS 使用完整个案；"
        "missing='ml'（FIML）可保留这些个案）。",
    ),
    "flag.reliability": ("{what} of {f} is {v} < {lim}", "{f} 的{what}为 {v} < {lim}"),
    "flag.alpha": ("Cronbach's alpha", "Cronbach's α"),
    "flag.cr": ("composite reliability", "组合信度"),
    "flag.ave": (
        "AVE of {f} is {v} < {lim}: the factor explains less than half of its items' variance",
        "{f} 的 AVE 为 {v} < {lim}：该因子解释的题项方差不到一半",
    ),
    "flag.htmt.similar": (
        "HTMT of {a} and {b} is {v} > {lim}: discriminant validity is doubtful even for "
        "conceptually similar constructs",
        "{a} 与 {b} 的 HTMT 为 {v} > {lim}：即使对概念相近的构念，区分效度也值得怀疑",
    ),
    "flag.htmt": (
        "HTMT of {a} and {b} is {v} > {lim}: acceptable only if the constructs are "
        "conceptually similar",
        "{a} 与 {b} 的 HTMT 为 {v} > {lim}：仅当两构念概念相近时可以接受",
    ),
    "flag.fornell": (
        "sqrt(AVE) of {a} ({v}) does not exceed its correlation with {b} ({r})",
        "{a} 的 AVE 平方根（{v}）未超过其与 {b} 的相关（{r}）",
    ),
    "flag.loading": (
        "standardized loading of {item} on {f} is {v} < {lim}",
        "{item} 在 {f} 上的标准化载荷为 {v} < {lim}",
    ),
    "severity.warning": ("warning", "警告"),
    "severity.note": ("note", "提示"),
    "check.alpha": ("alpha", "α 系数"),
    "check.omega": ("omega", "组合信度"),
    "check.ave": ("ave", "AVE"),
    "check.htmt": ("htmt", "HTMT"),
    "check.fornell_larcker": ("fornell_larcker", "Fornell-Larcker"),
    "check.loading": ("loading", "载荷"),
    "check.single_indicator": ("single_indicator", "单一指标"),
    "role.condition": ("condition", "前因"),
    "role.mediator": ("mediator", "中介"),
    "role.outcome": ("outcome", "结果"),
    "role.moderator": ("moderator", "调节"),
    "role.marker": ("marker", "标记变量"),
    "role.control": ("control", "控制变量"),
    "criterion.missing": ("missing", "缺失过多"),
    "criterion.longstring": ("longstring", "连续相同作答"),
    "criterion.attention": ("attention", "注意力检测"),
    "criterion.outlier": ("outlier", "离群值"),
    "criterion.speed": ("speed", "作答过快"),
    "estimator.mlr": (
        "robust maximum likelihood (MLR: Huber-White standard errors and the Yuan-Bentler "
        "scaled chi-square)",
        "稳健最大似然法（MLR：Huber-White 标准误与 Yuan-Bentler 校正卡方）",
    ),
    "estimator.ml": ("maximum likelihood (ML)", "最大似然法（ML）"),
    "estimator.fiml": (
        " with full-information ML for missing answers (FIML, assuming MAR)",
        "，缺失作答采用全信息最大似然（FIML，假定随机缺失）",
    ),
    "estimator.listwise": (" on complete cases (listwise deletion)", "，基于完整个案（列表删除）"),
    "engine.in_group": (" in group {group}", "（组 {group}）"),
    "params.no_interactions": (
        "The CKM study's latent interactions ({terms}) were not estimated: the model has no "
        "such factors. List the interactions of this model in the 'interactions' parameter "
        "(OUTCOME ~ PREDICTOR:MODERATOR).",
        "未估计 CKM 研究的潜变量交互作用（{terms}）：模型中没有这些因子。请在参数 interactions "
        "中列出本模型的交互作用（OUTCOME ~ PREDICTOR:MODERATOR）。",
    ),
    "params.no_multigroup": (
        "The CKM study's multi-group comparison (low vs. high {factors}) was not run: the "
        "model has no such factor. Name a moderating factor of this model in the 'multigroup' "
        "parameter.",
        "未进行 CKM 研究的多组比较（低与高 {factors}）：模型中没有该因子。请在参数 multigroup "
        "中指定本模型的调节因子。",
    ),
    "params.no_marker": (
        "The marker-variable check of common method variance was not run: the survey has no "
        "marker items (theoretically unrelated to the model). Name them in the 'marker_items' "
        "parameter to run it.",
        "未进行共同方法偏差的标记变量检验：问卷中没有标记题项（理论上与模型无关的题项）。"
        "如需进行，请在参数 marker_items 中指定。",
    ),
    "params.derived": (
        "No instrument was given: it was derived from the model and the data (the constructs "
        "of the model, its items named as the data's columns, answers on the scale {lo}-{hi}"
        "{how}), and written to {path} in the output folder.",
        "未提供问卷定义：已根据模型与数据推导（构念为模型中的构念，题项以数据列命名，作答量表为 "
        "{lo}-{hi}{how}），并写入输出文件夹中的 {path}。",
    ),
    "params.derived.scale": (" set by the 'scale' parameter", "，由参数 scale 设定"),
    "params.derived.data": (" observed in the data", "，取自数据中的观测范围"),
    "note.multigroup_model": (
        "Multi-group model ({factor}): {message}",
        "多组模型（{factor}）：{message}",
    ),
    "note.invariance": ("Invariance ({factor}): {message}", "测量不变性（{factor}）：{message}"),
    "part.validity": ("Reliability and validity", "信度与效度"),
    "part.bootstrap": ("Bootstrap confidence intervals", "Bootstrap 置信区间"),
    "part.path_diagram": ("Path diagram", "路径图"),
    "part.interactions": ("Latent interactions", "潜变量交互作用"),
    "part.slopes": ("Simple slopes and Johnson-Neyman intervals", "简单斜率与 Johnson-Neyman 区间"),
    "part.invariance": (
        "Measurement invariance across {factor} groups",
        "{factor}组间的测量不变性",
    ),
    "part.invariance.error": (
        "the invariance models could not be estimated: {error}",
        "无法估计测量不变性模型：{error}",
    ),
    "part.comparison": ("Paths compared across {factor} groups", "{factor}组间的路径比较"),
    "part.comparison.error": (
        "the two-group model could not be estimated: {error}",
        "无法估计两组模型：{error}",
    ),
    "group.low": ("low", "低分组"),
    "group.high": ("high", "高分组"),
    "note.no_indirect": (
        "Indirect effects were not requested (indirect_effects: false) or the "
        "model has no chain of paths.",
        "未要求估计间接效应（indirect_effects: false），或模型中没有路径链。",
    ),
    "note.no_interaction": (
        "No latent interaction was requested (interactions: []).",
        "未要求估计潜变量交互作用（interactions: []）。",
    ),
    "note.measurement_fit_missing": (
        "The measurement model's fit is not shown next to the structural model's: {error}",
        "结构模型的拟合旁未列出测量模型的拟合：{error}",
    ),
    "note.measurement_model": ("Measurement model: {message}", "测量模型：{message}"),
    "note.structural_model": ("Structural model: {message}", "结构模型：{message}"),
    "note.interaction_model": ("Interaction model: {message}", "交互作用模型：{message}"),
    # --- LMS fallback (session 4) ---
    "note.lms_fallback": (
        "LMS could not fit the interaction model ({reason}); the product-indicator method "
        "(double-mean-centred, Lin et al., 2010) was used as the main method instead.",
        "LMS 法无法拟合交互作用模型（{reason}）；改以乘积指标法（双重均值中心化，Lin et al., "
        "2010）作为主要方法。",
    ),
    "note.compare_failed": (
        "Robustness check: {method} could not fit the interaction model ({reason}).",
        "稳健性检验：{method}无法拟合交互作用模型（{reason}）。",
    ),
    "note.boot_listwise_failed": (
        "the bootstrap refits the model to the complete cases only (boot_missing: listwise; "
        "-p boot_missing ml refits every resample by FIML), and there: {reason}",
        "自助法仅以完整个案重新拟合模型（boot_missing: listwise；-p boot_missing ml 则以 FIML "
        "重新拟合每个样本），而在完整个案上：{reason}",
    ),
    "hyp.kind.1.generic": ("predictor → {focal}", "预测变量 → {focal}"),
    "hyp.kind.2.generic": ("{focal} → outcome", "{focal} → 结果变量"),
    "hyp.note.generic": (
        "The hypotheses read from the model: the paths into {focal} (the focal predictor of "
        "the product terms), the paths from {focal} and from the outcomes it reaches, the "
        "indirect effects through {focal}, and each product term. {rule}",
        "由模型读出的假设：进入 {focal}（乘积项的焦点预测变量）的路径、由 {focal} 及其影响的"
        "结果变量出发的路径、经由 {focal} 的间接效应，以及每个乘积项。{rule}",
    ),
    "r.mm.why.fallback": (
        "LMS with FIML, the pipeline's default, could not fit this model ({reason}), so "
        "product indicators were used.",
        "流程默认的 LMS（FIML）无法拟合此模型（{reason}），因此采用乘积指标法。",
    ),
    # ------------------------------------------------------------------ report (render.py)
    "r.unavailable": ("{part}: not available.", "{part}：不可用。"),
    "r.figure_part": ("Figure {name}", "图 {name}"),
    "r.figure_missing": ("the file {file} is missing", "文件 {file} 缺失"),
    "r.stage_part": ("The {stage} stage", "{stage} 阶段"),
    "r.stage_not_run": (
        "it has not been run for this report (ckm run --only ...).",
        "本报告未运行该阶段（ckm run --only ...）。",
    ),
    "r.robust": (" (robust)", "（稳健）"),
    "r.ci90": (", 90% CI [{lo}, {hi}]", "，90% CI [{lo}, {hi}]"),
    "r.fit_sep": ("; ", "；"),
    "r.verdict.all": (
        "All four indices are within the guidelines of Hu and Bentler (1999).",
        "四项指标均符合 Hu 和 Bentler (1999) 的参考标准。",
    ),
    "r.verdict.mixed": (
        "{good} {good_verb} within the guidelines of Hu and Bentler (1999); {bad} {bad_verb} "
        "not, which calls for a look at the local fit below rather than a verdict.",
        "{good}{good_verb}符合 Hu 和 Bentler (1999) 的参考标准；{bad}{bad_verb}不符合，"
        "这提示应查看下文的局部拟合，"
        "而不是直接下结论。",
    ),
    "r.verdict.none": ("No index", "没有指标"),
    "r.is": ("is", ""),
    "r.are": ("are", ""),
    "r.list_sep": (", ", "、"),
    "r.colon": (": ", "："),
    "r.title": ("Study report", "研究报告"),
    "r.subtitle": (
        "Report of <code>ckm run</code> (ckm-research {version}) on <code>{data}</code>",
        "<code>ckm run</code>（ckm-research {version}）对 <code>{data}</code> 的分析报告",
    ),
    "r.subtitle.date": (", {date}", "，{date}"),
    "r.subtitle.end": (".", "。"),
    "r.subtitle.instrument": ("<br>Instrument: {title}.", "<br>问卷：{title}。"),
    "r.summary": ("Summary", "摘要"),
    "r.sum.n": (
        "N = {n} respondents analysed (of {n_read} responses).",
        "分析样本 N = {n}（共 {n_read} 份答卷）。",
    ),
    "r.sum.measurement": ("Measurement model: {fit}.", "测量模型：{fit}。"),
    "r.sum.reliability": (
        "Reliability: α ≥ {alpha}, CR ≥ {cr}; AVE ≥ {ave}; largest HTMT {htmt}.",
        "信度：α ≥ {alpha}，CR ≥ {cr}；AVE ≥ {ave}；HTMT 最大值 {htmt}。",
    ),
    "r.model.measurement": ("Measurement model", "测量模型"),
    "r.model.structural": ("Structural model", "结构模型"),
    "r.model.interactions": ("Model with the latent interactions", "含潜变量交互作用的模型"),
    "r.sum.problem": (
        "{label}: {part}</strong>; its results below cannot be interpreted as they "
        "stand (see the section on the model).",
        "{label}：{part}</strong>；其下文结果不能按原样解释（见该模型一节）。",
    ),
    "r.sum.structural": (
        "Structural model: {fit}; {sig} of {n} paths significant; R² {r2}.",
        "结构模型：{fit}；{n} 条路径中 {sig} 条显著；R² {r2}。",
    ),
    "r.sum.inadmissible": (
        " (inadmissible: negative residual variance)",
        "（不可接受：残差方差为负）",
    ),
    "r.sum.interactions": ("Latent interactions: {terms}.", "潜变量交互作用：{terms}。"),
    "h.method": ("Method", "研究方法"),
    "h.instrument": ("Instrument", "测量工具"),
    "r.ins.derived": (
        "No instrument definition was given: the {n_constructs} constructs are the factors of "
        "the model, measured by {n_items} items named as the data's columns, answered on a "
        "{points}-point scale (Table {t}). Item wording and sources were not recorded; no item "
        "was reverse-coded.",
        "未提供问卷定义：{n_constructs} 个构念即模型中的因子，由 {n_items} 个以数据列命名的题项"
        "测量，采用 {points} 点量表作答（表{t}）。未记录题目措辞与来源；没有题项被反向编码。",
    ),
    "r.ins": (
        "The survey instrument (<code>{id}</code>, version {version}, in {languages}) measures "
        "the {n_constructs} constructs of the model with {n_items} items on a {points}-point "
        "scale; {n_reverse} items are reverse-keyed and {n_attention} instructed-response items "
        "check attention. Table {t} lists the constructs and the validated scales their items "
        "are adapted from.",
        "调查问卷（<code>{id}</code>，版本 {version}，语言 {languages}）以 {n_items} 个题项测量"
        "模型的 {n_constructs} 个构念，采用 {points} 点量表；其中 {n_reverse} 个题项为反向计分，"
        "{n_attention} 个指定作答题用于检测注意力。表{t}列出各构念及其题项所改编的成熟量表。",
    ),
    "h.sample": ("Sample and Data Screening", "样本与数据筛查"),
    "r.none": ("none", "无"),
    "r.sample": (
        "Of {n_read} responses read, {n_excluded} were excluded by the screening criteria "
        "chosen in advance ({crit}; Table {t}), leaving {n_after}",
        "在读取的 {n_read} 份答卷中，{n_excluded} 份按事先选定的筛查标准被剔除（{crit}；表{t}），"
        "剩余 {n_after} 份",
    ),
    "r.sample.subsample": ("; the analysed subsample has N = {n}", "；分析的子样本 N = {n}"),
    "r.sample.kept": (". Flagged respondents were otherwise kept", "。其余被标记的受访者均予保留"),
    "r.sample.profile": ("; Table {t} describes the sample.", "；表{t}描述了样本。"),
    "r.sample.no_profile": (
        ". The instrument has no profile questions (industry, size, informant's position ...), "
        "so the sample is not described beyond its size.",
        "。问卷没有背景信息题（行业、规模、填答者职位等），因此除样本量外未对样本作进一步描述。",
    ),
    "h.missing": ("Missing Data and Distributions", "缺失数据与分布"),
    "r.missing": (
        "{pct}% of the answers to the model's items are missing (at most {max_pct}% for one "
        "item); {n_complete} of {n} respondents answered every item, in {patterns} "
        "missing-data patterns (Table {t}).",
        "模型题项的作答中有 {pct}% 缺失（单题最多 {max_pct}%）；{n} 名受访者中有 {n_complete} 名"
        "回答了全部题项，共有 {patterns} 种缺失模式（表{t}）。",
    ),
    "r.normality": (
        "Univariate skewness reaches |{skew}| and excess kurtosis |{kurt}| (item statistics in "
        "the appendix), below the limits of 2 and 7 that Curran, West and Finch (1996) give for "
        "substantial non-normality; Mardia's (1970) multivariate kurtosis is "
        "<i>b</i><sub>2,<i>p</i></sub> = {b2p} (expected {expected} under normality), "
        "<i>z</i> = {z}, {p}, on the {n} complete cases. Figure {f} shows the answers by "
        "construct.",
        "单变量偏度最大为 |{skew}|，超额峰度最大为 |{kurt}|（题项统计见附录），低于 Curran, West "
        "和 Finch (1996) 给出的明显非正态界限 2 和 7；Mardia (1970) 多元峰度为 "
        "<i>b</i><sub>2,<i>p</i></sub> = {b2p}（正态时期望值为 {expected}），<i>z</i> = {z}，"
        "{p}，基于 {n} 个完整个案。图{f}展示了各构念的作答分布。",
    ),
    "h.estimation": ("Estimation", "模型估计"),
    "r.est.mlr": (
        " MLR was chosen because ratings are not multivariate normal (see Mardia's coefficient "
        "above); its standard errors and scaled test do not assume normality (Yuan & Bentler, "
        "2000).",
        "选择 MLR 是因为评分不服从多元正态（见上文 Mardia 系数）；其标准误与校正检验不假定正态"
        "（Yuan & Bentler, 2000）。",
    ),
    "r.est.fiml": (
        " Missing answers were handled by full-information maximum likelihood, which uses "
        "every answer given and is unbiased when answers are missing at random (Enders, 2010).",
        "缺失作答采用全信息最大似然法处理，该方法利用所有已给出的作答，在随机缺失时无偏"
        "（Enders, 2010）。",
    ),
    "r.est": (
        "The models were estimated by {est} in ckm-research {version} (Python; its estimators "
        "reproduce lavaan 0.6, Rosseel, 2012, to the published digits), with {level}% Wald "
        "confidence intervals.{why}",
        "模型采用 {est} 估计，软件为 ckm-research {version}（Python；其估计量在公布的精度上"
        "重现 lavaan 0.6 的结果，Rosseel, 2012），置信区间为 {level}% Wald 区间。{why}",
    ),
    "r.est.interactions": (
        " Latent interactions were estimated by {how}.",
        "潜变量交互作用采用{how}估计。",
    ),
    "r.est.dblcent": (
        "double-mean-centred product indicators (Lin et al., 2010)",
        "双重均值中心化乘积指标法（Lin et al., 2010）",
    ),
    "r.est.lms": (
        "latent moderated structural equations (LMS; Klein & Moosbrugger, 2000)",
        "潜调节结构方程法（LMS；Klein & Moosbrugger, 2000）",
    ),
    "r.est.seed": (" Seed of all random numbers: {seed}.", "所有随机数的种子：{seed}。"),
    "r.software": ("Software: {list}.", "软件：{list}。"),
    "h.results": ("Results", "研究结果"),
    "h.measurement": ("Measurement Model", "测量模型"),
    "r.meas.fit": (
        "A confirmatory factor analysis with every factor correlated fitted the data of N = {n} "
        "respondents with {fit} (Table {t1}). {verdict} The largest correlation residuals "
        "(Table {t2}) show where the model misses.",
        "所有因子两两相关的验证性因子分析对 N = {n} 名受访者数据的拟合为 {fit}（表{t1}）。"
        "{verdict}最大的相关残差（表{t2}）显示了模型拟合不足之处。",
    ),
    "r.meas.loadings": (
        "Standardized loadings range from {lmin} to {lmax}; Cronbach's α is at least {alpha}, "
        "composite reliability at least {cr} and the AVE at least {ave} (Table {t}, Figure {f}).",
        "标准化载荷介于 {lmin} 至 {lmax} 之间；Cronbach's α 不低于 {alpha}，组合信度不低于 {cr}，"
        "AVE 不低于 {ave}（表{t}，图{f}）。",
    ),
    "r.meas.htmt": (
        "Discriminant validity: the largest {method} ratio is {htmt} (Table {t1}, Figure {f}; "
        "threshold .85, Henseler et al., 2015), and Table {t2} gives the Fornell-Larcker "
        "comparison.",
        "区分效度：{method} 比率的最大值为 {htmt}（表{t1}，图{f}；临界值 .85，Henseler et al., "
        "2015），表{t2}给出 Fornell-Larcker 比较。",
    ),
    "r.meas.flags": (
        "{n} values fall short of the usual thresholds (Table {t}).",
        "有 {n} 个值未达到常用标准（表{t}）。",
    ),
    "h.cmv": ("Common method variance", "共同方法偏差"),
    "r.cmv.harman": (
        "the first unrotated component explains {pct}% of the item variance",
        "未旋转的第一主成分解释了题项方差的 {pct}%",
    ),
    "r.cmv.ulmc.share": ("; method variance per item {v}", "；每题方法方差 {v}"),
    "r.cmv.ulmc.improves": (
        "a method factor with equal loadings improves the fit ({p}{share})",
        "加入等载荷方法因子改善了拟合（{p}{share}）",
    ),
    "r.cmv.ulmc.not": (
        "a method factor with equal loadings does not improve the fit ({p}{share})",
        "加入等载荷方法因子未改善拟合（{p}{share}）",
    ),
    "r.cmv.marker": (
        "the marker variable's correlation used for the adjustment is r<sub>M</sub> = {r}",
        "用于校正的标记变量相关为 r<sub>M</sub> = {r}",
    ),
    "r.cmv": (
        "Following Podsakoff et al. (2003): {parts} (Table {t}).",
        "依据 Podsakoff et al. (2003)：{parts}（表{t}）。",
    ),
    "r.cmv.appendix": (
        "The correlations between the constructs before and after the marker "
        "adjustment are listed in the appendix.",
        "标记变量校正前后的构念间相关列于附录。",
    ),
    "h.structural": ("Structural Model", "结构模型"),
    "r.struct": (
        "The structural model fitted with {fit} (Table {t1}, beside the measurement model). "
        "{verdict} {sig} of its {n} paths are significant (Table {t2}); R² is given in Table "
        "{t3} and the paths are drawn in Figure {f}.",
        "结构模型的拟合为 {fit}（表{t1}，与测量模型并列）。{verdict}其 {n} 条路径中 {sig} 条"
        "显著（表{t2}）；R² 见表{t3}，路径图见图{f}。",
    ),
    "r.struct.boot": (
        "percentile bootstrap CIs from {n} resamples",
        "基于 {n} 次重抽样的百分位 bootstrap 置信区间",
    ),
    "r.struct.delta": ("delta-method CIs", "delta 法置信区间"),
    "r.struct.indirect": (
        "Table {t} gives the {n} indirect effects (products of the paths "
        "along each chain) with {how}.",
        "表{t}给出 {n} 个间接效应（各路径链上系数之积）及{how}。",
    ),
    "h.moderation": ("Moderation", "调节效应"),
    "r.mod.complete": ("on complete cases ", "基于完整个案"),
    "r.mod": (
        "The latent interactions were added to the structural model and estimated with "
        "{estimator} {complete}(N = {n}; Table {t1}). Table {t2} probes each with simple "
        "slopes; the figures show the slopes with confidence bands and the Johnson-Neyman "
        "regions.",
        "将潜变量交互作用加入结构模型，采用 {estimator} {complete}估计（N = {n}；表{t1}）。"
        "表{t2}以简单斜率分析逐一探查；各图展示带置信带的简单斜率与 Johnson-Neyman 区域。",
    ),
    "h.multigroup": ("Multi-group comparison", "多组比较"),
    "r.mg.split": (
        "Respondents were split at the {split} of the mean of the {factor} items ({cut}; "
        "{sizes}). Within each group the range of {factor} is restricted by the split, so the "
        "group models leave {factor} out. ",
        "按 {factor} 题项均分的{split}（{cut}；{sizes}）将受访者分组。由于分组限制了组内 {factor} "
        "的取值范围，各组模型不含 {factor}。",
    ),
    "r.mg.invariance": (
        "Table {t} tests the measurement invariance of the other factors across the groups. ",
        "表{t}检验其余因子在各组间的测量不变性。",
    ),
    "r.mg.paths": (
        "Table {t} compares the structural paths with equal {equal} (joint test of "
        "equal paths {p}). ",
        "表{t}在{equal}相等的条件下比较结构路径（路径相等的联合检验 {p}）。",
    ),
    "r.mg.power": (
        "Splitting a continuous moderator loses power (MacCallum et al., 2002); the "
        "latent interactions above are the test of moderation.",
        "将连续调节变量分组会损失检验力（MacCallum et al., 2002）；上文的潜变量交互作用"
        "才是调节效应的检验。",
    ),
    "r.mg.size": ("{group} n = {n}", "{group} n = {n}"),
    "r.mod.none": ("No moderation analysis was run. ", "未进行调节效应分析。"),
    "h.power": ("Power", "统计检验力"),
    "r.power.off": (
        "No power analysis was run for this report (parameter <code>power: false</code>).",
        "本报告未进行检验力分析（参数 <code>power: false</code>）。",
    ),
    "r.power.part": ("The power analysis", "检验力分析"),
    "r.power": (
        "Monte Carlo power was estimated from {reps} samples per sample size drawn from the "
        "fitted model (Muthén & Muthén, 2002; Table {t1}, Figure {f}); Table {t2} gives the "
        "power of the tests of model fit (MacCallum et al., 1996). Power at the observed "
        "estimates plans a replication; it does not explain a non-significant result (Hoenig "
        "& Heisey, 2001).",
        "Monte Carlo 检验力基于从拟合模型中抽取的每个样本量 {reps} 个样本估计（Muthén & Muthén, "
        "2002；表{t1}，图{f}）；表{t2}给出模型拟合检验的检验力（MacCallum et al., 1996）。"
        "以观测估计值计算的检验力用于规划重复研究，不能解释不显著的结果（Hoenig & Heisey, "
        "2001）。",
    ),
    "h.notes": ("Notes From the Estimation", "估计过程说明"),
    "h.syntax": ("Model Syntax", "模型语法"),
    "r.syntax": ("The study model as given (lavaan syntax):", "研究模型原文（lavaan 语法）："),
    "r.syntax.measurement": ("Measurement model (CFA), as fitted", "测量模型（CFA），实际拟合"),
    "r.syntax.structural": (
        "Structural model with the indirect effects, as fitted",
        "含间接效应的结构模型，实际拟合",
    ),
    "r.syntax.moderation": (
        "Model with the latent interactions, as fitted",
        "含潜变量交互作用的模型，实际拟合",
    ),
    "h.provenance": ("Provenance", "来源与可重复性信息"),
    "r.prov": (
        "Everything needed to repeat this report: run <code>ckm run --params "
        "params.yaml</code> with the parameters below (they are also in "
        "<code>manifest.json</code>) on the file with the same SHA-256.",
        "重复本报告所需的全部信息：用下列参数（也记录在 <code>manifest.json</code> 中）"
        "对 SHA-256 相同的文件运行 <code>ckm run --params params.yaml</code>。",
    ),
    "prov.created": ("Created", "创建时间"),
    "prov.kernel": ("Kernel", "内核"),
    "prov.commit": ("Git commit", "Git 提交"),
    "prov.dirty": (" (with uncommitted changes)", "（含未提交的修改）"),
    "prov.data_file": ("Data file", "数据文件"),
    "prov.data_sha": ("Data SHA-256", "数据 SHA-256"),
    "prov.model_sha": ("Model SHA-256", "模型 SHA-256"),
    "prov.instrument": ("Instrument", "问卷"),
    "prov.seed": ("Seed", "随机种子"),
    "prov.params_sha": ("Parameters SHA-256", "参数 SHA-256"),
    "prov.data_size": ("Data size", "数据大小"),
    "prov.bytes": ("{n} bytes", "{n} 字节"),
    "prov.packages": ("Packages", "软件包"),
    "h.parameters": ("Parameters", "参数"),
    "h.references": ("References", "参考文献"),
    "h.appendix": ("Appendix", "附录"),
    "h.item_stats": ("Item Statistics", "题项统计"),
    "h.marker": ("Marker-Variable Adjustment", "标记变量校正"),
    "stage.instrument": ("instrument", "问卷"),
    "stage.data": ("data", "数据"),
    "stage.measurement": ("measurement", "测量模型"),
    "stage.structural": ("structural", "结构模型"),
    "stage.moderation": ("moderation", "调节效应"),
    "stage.power": ("power", "检验力"),
    "stage.report": ("report", "报告"),
    "default.title": (
        "Organisational Conditions of Customer Knowledge Management: A Structural Equation Study",
        "客户知识管理的组织条件：一项结构方程模型研究",
    ),
    # ------------------------------------------------------------------ issue 12 (rep12):
    # discriminant validity with inference, reliability intervals, current CMV practice,
    # partial invariance, robustness of the structural model
    "col.ci": ("{level} CI", "{level} 置信区间"),
    "col.ci_feldt": ("{level} CI (Feldt)", "{level} 置信区间（Feldt）"),
    "col.ci_delta": ("{level} CI (delta)", "{level} 置信区间（delta 法）"),
    "col.ci_boot": ("{level} CI (bootstrap)", "{level} 置信区间（bootstrap）"),
    "col.htmt_below": ("< {c}?", "是否 < {c}"),
    "col.vif_above": ("> {threshold}?", "是否 > {threshold}"),
    "col.comparison": ("Comparison", "模型比较"),
    "col.step": ("Step", "步骤"),
    "col.released": ("Constraint released", "释放的约束"),
    "col.candidates": ("Candidates", "候选约束数"),
    "col.holds": ("Level holds", "该层级成立"),
    "col.b_latent": ("B (latent)", "B（潜变量）"),
    "col.beta_latent": ("β (latent)", "β（潜变量）"),
    "col.b_ols": ("B (OLS)", "B（普通最小二乘）"),
    "col.b_copula": ("B (with copula)", "B（含 copula 项）"),
    "col.nonnormal": ("Non-normal", "非正态"),
    "col.large_n": ("n ≥ 1000", "样本量 ≥ 1000"),
    "col.usable": ("Usable", "可用"),
    "rc.no_problem": ("no problem", "无问题"),
    "rc.marginal": ("marginal", "轻微"),
    "rc.moderate": ("moderate", "中度"),
    "rc.severe": ("severe", "严重"),
    "relci.title": (
        "Reliability and Convergent Validity With Confidence Intervals",
        "带置信区间的信度与聚合效度",
    ),
    "relci.note": (
        "ω = McDonald's omega (composite reliability) and AVE = average variance extracted, "
        "both functions of the CFA's parameters with model-implied item variances, with "
        "delta-method intervals from the fit's (robust) covariance matrix of the estimates, as "
        "measureQ (Cheung et al., 2024); Cronbach's α with the interval of Feldt, Woodruff & "
        "Salih (1987). The usual thresholds (ω and α ≥ .70, AVE ≥ .50; Hair et al., 2019) are "
        "judged by the interval, not by the point estimate.",
        "ω 为 McDonald's omega（组合信度），AVE 为平均方差提取量，二者均为 CFA 参数的函数"
        "（采用模型隐含的题项方差），其置信区间按 delta 法由估计值的（稳健）协方差矩阵求得，"
        "与 measureQ（Cheung et al., 2024）相同；Cronbach's α 的区间采用 Feldt, Woodruff & "
        "Salih（1987）的方法。常用标准（ω 与 α ≥ .70，AVE ≥ .50；Hair et al., 2019）以区间"
        "而非点估计来判断。",
    ),
    "relci.note.noboot": (
        " Bootstrap intervals of ω and AVE were not computed (they need an ML or MLR fit of "
        "complete data and validity_boot > 0); the delta method is given.",
        "未计算 ω 与 AVE 的 bootstrap 区间（需要对完整数据进行 ML 或 MLR 估计且 validity_boot "
        "> 0）；表中给出 delta 法区间。",
    ),
    "htmtci.title": (
        "Discriminant Validity: {method} With Bootstrap Confidence Intervals",
        "区分效度：带 bootstrap 置信区间的 {method}",
    ),
    "htmtci.note": (
        "{method} of each pair of constructs with the {level} percentile bootstrap interval "
        "({n_valid} of {n_boot} resamples, N = {n}). '< c?' is the one-sided test of H0: "
        "{method} ≥ c at α = {alpha} (rejected, 'yes', when the upper limit is below c; "
        "Henseler, Ringle & Sarstedt, 2015; Franke & Sarstedt, 2019). The decision criterion "
        "of this report is c = {threshold} (the conservative HTMT.85 for conceptually distinct "
        "constructs; .90 is shown for conceptually similar ones, 1 as the liberal limit).",
        "各构念对的 {method} 及其 {level} 百分位 bootstrap 区间（{n_boot} 次重抽样中有效 "
        "{n_valid} 次，N = {n}）。“是否 < c”为单侧检验 H0：{method} ≥ c（α = {alpha}；区间上限"
        "低于 c 时拒绝，记为“是”；Henseler, Ringle & Sarstedt, 2015；Franke & Sarstedt, "
        "2019）。本报告的判断标准为 c = {threshold}（概念上相互区分的构念采用较保守的 "
        "HTMT.85；概念相近的构念参考 .90，1 为最宽松的界限）。",
    ),
    "cicfa.title": (
        "Discriminant Validity: CFA Factor Correlations With Confidence Intervals (CICFA(sys))",
        "区分效度：CFA 因子相关及其置信区间（CICFA(sys)）",
    ),
    "cicfa.note": (
        "φ = correlation of the two factors in the CFA with unit factor variances ({estimator}, "
        "N = {n}), with its Wald interval. CICFA(sys) classifies each pair by the upper limit "
        "against the cutoffs {cuts}: no problem, marginal, moderate, severe (Rönkkö & Cho, "
        "2022).",
        "φ 为因子方差固定为 1 的 CFA 中两因子的相关（{estimator}，N = {n}）及其 Wald 区间。"
        "CICFA(sys) 依区间上限与临界值 {cuts} 的比较将每对构念归为：无问题、轻微、中度、严重"
        "（Rönkkö & Cho, 2022）。",
    ),
    "cicfa.note.chi2": (
        " χ²(sys): the class from the chi-square difference tests of the CFA with the "
        "correlation fixed at each cutoff.",
        "χ²(sys)：将相关固定于各临界值的 CFA 卡方差异检验所得的分类。",
    ),
    "cicfa.note.nochi2": (
        " χ²(sys), one constrained CFA per pair and cutoff, was not run (parameter "
        "chi2_sys: true runs it).",
        "χ²(sys)（每对构念、每个临界值各拟合一次受限 CFA）未运行（设参数 chi2_sys: true "
        "可运行）。",
    ),
    "vif.title": (
        "Full Collinearity Variance Inflation Factors of the Construct Scores",
        "构念得分的完全共线性方差膨胀因子",
    ),
    "vif.note": (
        "Each construct's regression factor score (lavPredict) regressed on all the other "
        "scores; VIF = 1/(1 − R²). A VIF above {threshold} signals pathological collinearity "
        "or common method bias (Kock, 2015).",
        "将每个构念的回归法因子得分（lavPredict）对其余所有得分回归；VIF = 1/(1 − R²)。"
        "VIF 高于 {threshold} 提示病态共线性或共同方法偏差（Kock, 2015）。",
    ),
    "cfamarker.title": (
        "Common Method Variance: CFA Marker Technique",
        "共同方法偏差：CFA 标记变量技术",
    ),
    "cfamarker.note": (
        "CFA marker technique of Williams, Hartman & Cavazotte (2010): a latent marker factor "
        "measured by {markers} (a scale theoretically unrelated to the constructs, chosen "
        "before data collection, as Simmering et al., 2015, require), its measurement fixed "
        "at the CFA values (CFI = {cfi}). Baseline vs Method-C tests whether method variance "
        "is present (here: {detected}), Method-C vs Method-U whether it is equal across items "
        "(retained: {retained}; mean method variance per item {mv}), and the retained model "
        "vs Method-R whether it biases the factor correlations (here: {biased}).",
        "Williams, Hartman & Cavazotte（2010）的 CFA 标记变量技术：以 {markers}（一个理论上"
        "与研究构念无关、在数据收集前选定的量表，符合 Simmering et al., 2015 的要求）测量的"
        "潜在标记因子，其测量部分固定为 CFA 估计值（CFI = {cfi}）。Baseline 与 Method-C 比较"
        "检验是否存在方法方差（本研究：{detected}），Method-C 与 Method-U 比较检验其在各题项"
        "间是否相等（保留：{retained}；每题平均方法方差 {mv}），保留模型与 Method-R 比较检验"
        "其是否使因子相关产生偏差（本研究：{biased}）。",
    ),
    "cmv.cfa_marker": ("CFA marker technique", "CFA 标记变量技术"),
    "cmv.cfa_marker.statistic": ("Mean method variance per item", "每题平均方法方差"),
    "cmv.cfa_marker.conclusion": (
        "method variance: {detected}; correlations biased: {biased}",
        "存在方法方差：{detected}；因子相关有偏：{biased}",
    ),
    "cmv.harman.last": (
        "Harman's single-factor test (reported last)",
        "Harman 单因子检验（最后报告）",
    ),
    "cmvc.note": (
        "The checks in the order of current practice: the CFA marker technique (Williams, "
        "Hartman & Cavazotte, 2010) and the unmeasured latent method construct (ULMC; "
        "Podsakoff et al., 2003) model method variance; the Lindell-Whitney marker adjustment "
        "partials it out of the correlations. Harman's single-factor test is reported last and "
        "only for comparison: it detects only a method factor that dominates all items and "
        "cannot show its absence (Podsakoff et al., 2024; Howard et al., 2024). ",
        "各项检验按当前做法排序：CFA 标记变量技术（Williams, Hartman & Cavazotte, 2010）与"
        "不可测潜在方法因子（ULMC；Podsakoff et al., 2003）对方法方差建模；Lindell-Whitney "
        "标记变量校正将其从相关中剔除。Harman 单因子检验仅作对照并最后报告：它只能发现支配"
        "所有题项的方法因子，无法证明方法偏差不存在（Podsakoff et al., 2024；Howard et al., "
        "2024）。",
    ),
    "cmvc.note.markers": (
        "Marker items: {markers} (a scale unrelated to the model's constructs, as Simmering "
        "et al., 2015, recommend choosing and reporting it).",
        "标记题项：{markers}（与模型构念无关的量表，其选择与报告遵循 Simmering et al., 2015 "
        "的建议）。",
    ),
    "invsteps.title": (
        "Partial Invariance Across {group}: Constraints Released by Score Test",
        "跨 {group} 的部分不变性：按分数检验释放的约束",
    ),
    "invsteps.note": (
        "When a level failed, the equality constraint with the largest univariate score test "
        "(lavaan's lavTestScore) was released, one at a time, until the change criteria held "
        "(Byrne, Shavelson & Muthén, 1989); the next level is then tested against the partial "
        "model. Levels after one that does not hold are not tested.",
        "当某一层级不成立时，逐一释放单变量分数检验（lavaan 的 lavTestScore）最大的等值约束，"
        "直至变化标准满足（Byrne, Shavelson & Muthén, 1989）；下一层级随后以部分不变模型为"
        "基准检验。不成立层级之后的层级不再检验。",
    ),
    "invariance.status.baseline": ("baseline", "基准"),
    "invariance.status.supported": ("supported", "成立"),
    "invariance.status.not supported": ("not supported", "不成立"),
    "invariance.status.not tested": ("not tested", "未检验"),
    "col.status": ("Status", "状态"),
    "h.robustness": ("Robustness checks", "稳健性检验"),
    "r.robustness": (
        "As robustness checks, Table {t1} re-estimates the structural equations as the "
        "composite-score regressions most published studies report (item means, mean-centred "
        "products, HC3 standard errors) beside the latent estimates; composites carry "
        "measurement error, so their slopes are attenuated. Table {t2} adds Gaussian copula "
        "control functions for endogeneity (Park & Gupta, 2012) and Table {t3} the checks "
        "Becker, Proksch & Ringle (2022) require before the copula may be interpreted.",
        "作为稳健性检验，表{t1}将结构方程按多数已发表研究所用的合成得分回归重新估计（题项均值、"
        "均值中心化的乘积项、HC3 标准误），并与潜变量估计并列；合成得分含测量误差，斜率因而"
        "被低估。表{t2}加入处理内生性的高斯 copula 控制函数（Park & Gupta, 2012），表{t3}列出"
        "Becker, Proksch & Ringle（2022）要求在解释 copula 结果前完成的检验。",
    ),
    "composite.title": (
        "Robustness: Composite-Score Regressions Beside the Latent Estimates",
        "稳健性：合成得分回归与潜变量估计对照",
    ),
    "composite.note": (
        "OLS regressions of item-mean composites with mean-centred predictors and products "
        "of the centred components (Aiken & West, 1991), HC3 standard errors (MacKinnon & "
        "White, 1985). B (latent) and β (latent): the structural model's estimates. R²: {r2}.",
        "以题项均值合成得分进行 OLS 回归，预测变量均值中心化，乘积项由中心化后的成分构成"
        "（Aiken & West, 1991），标准误为 HC3（MacKinnon & White, 1985）。B（潜变量）与 β"
        "（潜变量）为结构模型的估计值。R²：{r2}。",
    ),
    "copula.title": (
        "Robustness: Gaussian Copula Control Functions for Endogeneity",
        "稳健性：处理内生性的高斯 copula 控制函数",
    ),
    "copula.note": (
        "Each structural equation on item-mean composites with a copula term cop(X) = "
        "Φ⁻¹(H(X)) added for every regressor (Park & Gupta, 2012); B (OLS) without the terms, "
        "B (with copula) with them; bootstrap SEs and percentile intervals ({n_boot} resamples "
        "recomputing the copula terms). A significant cop(X) suggests endogeneity of X. "
        "Limits: the copula needs non-normal regressors and normal errors, large samples, "
        "does not correct the attenuation of composites by measurement error, and is a "
        "robustness check, not an instrumental-variable estimate (Becker, Proksch & Ringle, "
        "2022).",
        "在题项均值合成得分的各结构方程中为每个回归变量加入 copula 项 cop(X) = Φ⁻¹(H(X))"
        "（Park & Gupta, 2012）；B（OLS）为不含该项的估计，B（含 copula 项）为加入后的估计；"
        "标准误与百分位区间来自 bootstrap（{n_boot} 次重抽样，每次重新计算 copula 项）。"
        "cop(X) 显著提示 X 具有内生性。局限：copula 要求回归变量非正态、误差正态且样本量大，"
        "不能校正合成得分因测量误差造成的衰减，只是稳健性检验而非工具变量估计（Becker, "
        "Proksch & Ringle, 2022）。",
    ),
    "copulachk.title": (
        "Checks Before the Gaussian Copula May Be Interpreted",
        "解释高斯 copula 结果前的检验",
    ),
    "copulachk.note": (
        "Becker, Proksch & Ringle (2022): each regressor with a copula term must be clearly "
        "non-normal (here both the Shapiro-Wilk and the Cramér-von Mises test reject "
        "normality at .05), and the sample should be large (about 1,000 or more). {usable} "
        "of {n} regressors pass both checks; the copula estimates of the others are not to be "
        "interpreted.",
        "Becker, Proksch & Ringle（2022）：加入 copula 项的每个回归变量必须明显非正态（此处要求 "
        "Shapiro-Wilk 与 Cramér-von Mises 检验均在 .05 水平拒绝正态），且样本量应足够大（约 "
        "1,000 以上）。{n} 个回归变量中有 {usable} 个通过两项检验；其余变量的 copula 估计不应"
        "解释。",
    ),
    "r.meas.relci": (
        "Table {t} gives ω, AVE and α with their confidence intervals.",
        "表{t}给出 ω、AVE 与 α 及其置信区间。",
    ),
    "r.meas.dv": (
        "Discriminant validity is judged with inference: the {method} of every pair with its "
        "bootstrap interval and the test of H0: {method} ≥ {threshold} (Table {t1}; Henseler, "
        "Ringle & Sarstedt, 2015), which rejects it for {n_ok} of {n} pairs, and the CFA's "
        "factor correlations with their intervals against Rönkkö & Cho's (2022) cutoffs "
        "(CICFA(sys), Table {t2}; largest class: {worst}). The Fornell-Larcker comparison "
        "(Table {t3}) is kept for comparability, although it rarely detects a lack of "
        "discriminant validity (Henseler et al., 2015). Full collinearity VIFs of the "
        "construct scores (Table {t4}) are at most {vif} (threshold 3.3; Kock, 2015).",
        "区分效度采用推断方法判断：各构念对的 {method} 及其 bootstrap 区间与 H0：{method} ≥ "
        "{threshold} 的检验（表{t1}；Henseler, Ringle & Sarstedt, 2015），在 {n} 对中有 {n_ok} "
        "对拒绝该假设；以及 CFA 因子相关及其区间与 Rönkkö & Cho（2022）临界值的比较（CICFA(sys)，"
        "表{t2}；最严重的分类：{worst}）。Fornell-Larcker 比较（表{t3}）仅为可比性而保留，"
        "它很少能发现区分效度的不足（Henseler et al., 2015）。构念得分的完全共线性 VIF"
        "（表{t4}）最大为 {vif}（临界值 3.3；Kock, 2015）。",
    ),
    "r.cmv.current": (
        "Common method variance was examined first with the model-based checks, the CFA "
        "marker technique (Williams, Hartman & Cavazotte, 2010) and, when run, the unmeasured "
        "latent method construct, and with Harman's single-factor test last, only for "
        "comparison, given its critiques (Podsakoff et al., 2024; Howard et al., 2024): "
        "{parts} (Table {t}).",
        "共同方法偏差首先以基于模型的方法检验，即 CFA 标记变量技术（Williams, Hartman & "
        "Cavazotte, 2010）以及（若运行）不可测潜在方法因子；鉴于 Harman 单因子检验所受的批评"
        "（Podsakoff et al., 2024；Howard et al., 2024），该检验仅作对照并最后报告：{parts}"
        "（表{t}）。",
    ),
    "r.cmv.cfa_marker": (
        "the CFA marker technique {detected} method variance (mean {mv} per item) and "
        "{biased} bias in the factor correlations (Table {t})",
        "CFA 标记变量技术{detected}方法方差（每题平均 {mv}），{biased}因子相关的偏差（表{t}）",
    ),
    "r.cmv.found": ("finds", "发现"),
    "r.cmv.not_found": ("finds no", "未发现"),
    "r.mg.steps": (
        " Where a level failed, Table {t} lists the constraints released to reach partial "
        "invariance.",
        "某一层级不成立时，表{t}列出为达到部分不变性而释放的约束。",
    ),
    "invariance.freed": ("freed: {params}", "释放：{params}"),
    "invariance.not_tested": ("not tested: {why}", "未检验：{why}"),
    "h.htmt_matrix": ("HTMT Matrix", "HTMT 矩阵"),
    # --- rep11 (issue 11): the study's moderation, moderated mediation, hypotheses ---------
    "mm.method.dblcent": ("product indicators", "乘积指标法"),
    "mm.method.lms": ("LMS", "LMS 法"),
    "mm.compare.title": (
        "Robustness Check: Product Terms Estimated by Two Methods",
        "稳健性检验：两种方法估计的乘积项",
    ),
    "mm.compare.note": (
        "B = unstandardized coefficient of the latent product term. Main method: {main} "
        "(N = {n_main}); beside it: {other} (N = {n_other}). Both estimate the same latent "
        "interaction (Klein & Moosbrugger, 2000; Lin et al., 2010); similar estimates mean the "
        "conclusion does not hinge on the method.",
        "B = 潜变量乘积项的非标准化系数。主要方法：{main}（N = {n_main}）；对照方法：{other}"
        "（N = {n_other}）。两者估计同一潜变量交互作用（Klein & Moosbrugger, 2000；Lin et al., "
        "2010）；估计值相近说明结论不依赖于估计方法。",
    ),
    "mm.jn.none": ("nowhere within ±{k} SD", "在 ±{k} SD 范围内均不显著"),
    "mm.jn.all": ("everywhere within ±{k} SD", "在 ±{k} SD 范围内处处显著"),
    "mm.cond.at": ("Effect at {at}", "{at}处的效应"),
    "mm.cond.ci": ("{level} CI at {at}", "{at}处的 {level} CI"),
    "mm.cond.title": (
        "Conditional Indirect Effects of Each Condition Through CKM, by Moderator",
        "各组织条件经 CKM 的条件间接效应（按调节变量）",
    ),
    "mm.cond.note": (
        "Indirect effect ω(w) = a(b + b₃w) of the condition on the outcome through the "
        "mediator at the moderator's mean and ±1 SD (model-implied, latent metric; other "
        "moderators at their means), second-stage moderation (Preacher, Rucker & Hayes, 2007; "
        "Hayes, 2015). Intervals: {how}.",
        "组织条件经中介变量对结果变量的间接效应 ω(w) = a(b + b₃w)，取调节变量的均值及 ±1 SD"
        "（模型隐含值，潜变量尺度；其他调节变量取均值），第二阶段调节（Preacher, Rucker & "
        "Hayes, 2007；Hayes, 2015）。区间：{how}。",
    ),
    "mm.how.delta": (
        "delta method (Wald intervals; the bootstrap is available with -p moderation_se "
        "bootstrap)",
        "Delta 法（Wald 区间；可用 -p moderation_se bootstrap 改用 bootstrap）",
    ),
    "mm.how.boot": (
        "percentile bootstrap of the interaction model ({converged} of {requested} resamples "
        "converged)",
        "交互作用模型的百分位 bootstrap（{requested} 次重抽样中 {converged} 次收敛）",
    ),
    "mm.index.title": ("Index of Moderated Mediation", "有调节的中介效应指数"),
    "mm.index.col": ("Index (a·b₃)", "指数（a·b₃）"),
    "mm.index.per_sd": ("Index per SD", "每 SD 的指数"),
    "mm.index.jn": (
        "Indirect effect significant (JN region)",
        "间接效应显著的区域（JN）",
    ),
    "mm.index.note": (
        "Index of moderated mediation a·b₃ (Hayes, 2015): the change of the indirect effect "
        "per unit of the moderator (latent metric; per SD in the next column); an interval "
        "excluding 0 means the indirect effects at any two moderator values differ. JN region: "
        "moderator values (in SDs from its mean, examined within ±3 SD) where the {level} "
        "interval of the conditional indirect effect excludes 0 (Johnson-Neyman; Hayes, "
        "2022, section 12.4). Intervals: {how}.",
        "有调节的中介效应指数 a·b₃（Hayes, 2015）：调节变量每变化一个单位时间接效应的变化量"
        "（潜变量尺度；下一列为每 SD 的变化）；区间不含 0 表示调节变量任意两个取值下的间接"
        "效应不同。JN 区域：条件间接效应的 {level} 区间不含 0 的调节变量取值（以距均值的 SD "
        "表示，考察范围 ±3 SD；Johnson-Neyman；Hayes, 2022，第 12.4 节）。区间：{how}。",
    ),
    "hyp.title": ("Hypotheses and Whether the Data Support Them", "研究假设及其检验结果"),
    "hyp.kind.1": ("condition → CKM", "组织条件 → CKM"),
    "hyp.kind.2": ("CKM → outcome", "CKM → 结果变量"),
    "hyp.kind.3": ("mediation (indirect)", "中介（间接效应）"),
    "hyp.kind.4": ("moderation", "调节"),
    "hyp.col.statement": ("Hypothesis", "假设"),
    "hyp.col.kind": ("Type", "类型"),
    "hyp.col.supported": ("Supported", "是否支持"),
    "hyp.note": (
        "The hypotheses of the study's model (conditions → CKM → outcomes, moderated by "
        "turbulence). {rule}",
        "研究模型的假设（组织条件 → CKM → 结果变量，受环境动荡调节）。{rule}",
    ),
    "hyp.rule": (
        "(+): a positive effect is hypothesised; supported when the {level} interval lies "
        "above 0. Moderation (direction not stated by the model): supported when the interval "
        "excludes 0. Paths and product terms: Wald intervals of the structural and the "
        "interaction model; indirect effects: the bootstrap interval when there is one, else "
        "the delta-method interval. A non-significant result is not evidence of no effect.",
        "(+)：假设为正向效应；{level} 区间整体大于 0 时视为支持。调节效应（模型未规定方向）："
        "区间不含 0 时视为支持。路径与乘积项：结构模型与交互作用模型的 Wald 区间；间接效应："
        "有 bootstrap 区间时用之，否则用 Delta 法区间。不显著并不等于没有效应。",
    ),
    "mm.power.title": (
        "Power of the Moderation Hypotheses: Product Terms and Indices of Moderated Mediation",
        "调节假设的检验力：乘积项与有调节的中介效应指数",
    ),
    "mm.power.mc": ("N={n} (MC)", "N={n}（蒙特卡洛）"),
    "mm.power.analytic": ("N={n} (analytic)", "N={n}（解析）"),
    "mm.power.note": (
        "Population: the moderation model at its estimates (product terms included). MC: "
        "share of {reps} simulated samples per N, analysed with product indicators by ML, "
        "whose Wald test rejects 0 at α = {alpha} (Monte Carlo SE up to {mcse} with so "
        "few samples: raise power_interaction_replications for a plan); analytic: the "
        "large-sample power of the same test. IMM X → M → Y | W: the index of moderated "
        "mediation. Power of about .80 is the usual target.",
        "总体：以估计值设定的调节模型（含乘积项）。蒙特卡洛：每个 N 下 {reps} 个模拟样本"
        "（乘积指标法，ML 估计）中 Wald 检验在 α = {alpha} 拒绝 0 的比例（样本如此之少时"
        "蒙特卡洛标准误可达 {mcse}：制定研究计划时请增大 power_interaction_replications）；"
        "解析：同一检验的大样本检验力。IMM X → M → Y | W：有调节的中介效应指数。通常以约 "
        ".80 的检验力为目标。",
    ),
    "fig.cind.title": (
        "Conditional Indirect Effect of {x} on {y} Through {m}, by {z}",
        "{x} 经 {m} 对 {y} 的条件间接效应（按 {z}）",
    ),
    "fig.cind.note": (
        "Shown for {x}, the condition with the strongest path to {m} (the others' curves are "
        "the same up to the factor a). Band: {level} interval ({how}); purple: moderator values "
        "where it excludes 0; grey: moderator values beyond the observed scores.",
        "以 {x}（与 {m} 路径最强的组织条件）为例（其他条件的曲线仅相差系数 a）。色带：{level} "
        "区间（{how}）；紫色：区间不含 0 的调节变量取值；灰色：超出观测得分范围的调节变量取值。",
    ),
    "fig.range.none": ("no observed scores", "无观测得分"),
    "fig.range.note": (
        " Observed {z} scores (centred item means) range from {lo} to {hi}; grey: beyond them; "
        "ticks: the respondents' scores.",
        "{z} 的观测得分（中心化题项均值）范围为 {lo} 至 {hi}；灰色：超出该范围；刻度线："
        "各受访者的得分。",
    ),
    "fig.range.note.x": (
        " Observed {x} scores (centred item means) range from {lo} to {hi} (grey: beyond "
        "them); the moderator {z}'s from {zlo} to {zhi}, so the lines at ±1 SD ({zm}, {zp}) "
        "are {inside}.",
        "{x} 的观测得分（中心化题项均值）范围为 {lo} 至 {hi}（灰色：超出该范围）；调节变量 "
        "{z} 的范围为 {zlo} 至 {zhi}，因此 ±1 SD 处的直线（{zm}、{zp}）{inside}。",
    ),
    "fig.range.inside": ("within the data", "位于数据范围之内"),
    "fig.range.outside": ("partly beyond the data", "部分超出数据范围"),
    "r.mm.method": (
        "Main method of the latent interactions: {method} with {missing} (N = {n}).{seconds} "
        "{why}",
        "潜变量交互作用的主要方法：{method}，{missing}（N = {n}）。{seconds}{why}",
    ),
    "r.mm.seconds": (
        " The moderation stage took {seconds} s on this machine.",
        "调节效应阶段在本机用时 {seconds} 秒。",
    ),
    "r.mm.missing.ml": (
        "full-information ML on every respondent (FIML, assuming MAR)",
        "对全部受访者采用完全信息极大似然（FIML，假定 MAR）",
    ),
    "r.mm.missing.listwise": (
        "complete cases only (listwise deletion)",
        "仅用完整个案（列删法）",
    ),
    "r.mm.why.dblcent": (
        "Product indicators were asked for (interaction_method: dblcent); LMS with FIML, the "
        "pipeline's default, is shown beside when interaction_compare is true.",
        "按参数要求采用乘积指标法（interaction_method: dblcent）；流程默认的 LMS（FIML）在 "
        "interaction_compare 为 true 时并列展示。",
    ),
    "r.mm.why.lms": (
        "LMS with FIML is the pipeline's default (interaction_method: lms): the mixture "
        "likelihood of every respondent's observed answers, with adaptive quadrature "
        "(Klein & Moosbrugger, 2000); product indicators are shown beside as a robustness "
        "check (-p interaction_compare false leaves them out; -p interaction_method dblcent "
        "makes them the main method).",
        "LMS（FIML）是流程的默认方法（interaction_method: lms）：以自适应求积计算每位受访者已作答"
        "题项的混合似然（Klein & Moosbrugger, 2000）；乘积指标法的结果并列作为稳健性检验"
        "（-p interaction_compare false 可略去；-p interaction_method dblcent 则以其为主要方法）。",
    ),
    "r.mm.compare": (
        "Table {t} compares the product terms with those of {other}.",
        "表{t}将乘积项与{other}的结果进行比较。",
    ),
    "r.mm.intro": (
        "Moderated mediation (Hayes, 2015): Table {t1} gives the conditional indirect effects "
        "of each condition through {m} on each outcome at -1 SD, the mean and +1 SD of each "
        "moderator; Table {t2} the index of moderated mediation and the Johnson-Neyman region "
        "of the indirect effect. Intervals: {how}.",
        "有调节的中介（Hayes, 2015）：表{t1}给出各组织条件经 {m} 对各结果变量的条件间接效应"
        "（各调节变量取 -1 SD、均值与 +1 SD）；表{t2}给出有调节的中介效应指数及间接效应的 "
        "Johnson-Neyman 区域。区间：{how}。",
    ),
    "r.sum.hyp": (
        "Hypotheses (Table {t}): {k} of {n} supported. Supported: {yes}. Not supported: {no}.",
        "研究假设（表{t}）：{n} 项中 {k} 项得到支持。支持：{yes}。不支持：{no}。",
    ),
    "r.sum.hyp.none": ("none", "无"),
    "r.sum.moderation": (
        "Moderation: {terms} estimated by {method} with {missing} (N = {n}).",
        "调节效应：{terms}，采用{method}估计，{missing}（N = {n}）。",
    ),
    "r.power.interactions": (
        "Table {t} gives the power of the moderation hypotheses (the product terms and the "
        "indices of moderated mediation), with the moderation model at its estimates as the "
        "population: how many firms the turbulence hypotheses need.",
        "表{t}给出调节假设（乘积项与有调节的中介效应指数）的检验力，以按估计值设定的调节模型"
        "为总体：即检验环境动荡假设需要多少家企业。",
    ),
    "part.moderated_mediation": ("Moderated mediation", "有调节的中介"),
    "part.hypotheses": ("The hypotheses table", "假设检验汇总表"),
    "part.interaction_compare": ("The robustness check of the interactions",
                                 "交互作用的稳健性检验"),
    "part.power_interactions": ("Power of the moderation hypotheses", "调节假设的检验力"),
    "fig.cind.significant": ("interval excludes 0", "区间不含 0"),
    "fig.cind.mean": ("mean", "均值"),
    "fig.cind.line": ("indirect effect of {x} via {m}", "{x} 经 {m} 的间接效应"),
    "fig.cind.ylabel": ("Indirect effect {x} → {m} → {y}", "间接效应 {x} → {m} → {y}"),
    "fig.cind.ci": ("{level} CI ({band})", "{level} 置信区间（{band}）"),
    "fig.cind.band.delta": ("delta method", "Delta 法"),
    "fig.cind.band.perc": ("percentile", "百分位法"),
    "fig.cind.band.bca": ("BCa", "BCa 法"),
    "note.power_interactions.none": (
        "The moderation stage left no interaction model, so the power of the moderation "
        "hypotheses is not estimated.",
        "调节效应阶段未产生交互作用模型，因此未估计调节假设的检验力。",
    ),
    # ------------------------------------------------------------------ generated texts (zh2)
    # Heywood cases (ckm_research.structural.admissibility); the English text is built there.
    "heywood.problem": ("Inadmissible solution (Heywood case: {names})",
                        "不可接受解（Heywood 案例：{names}）"),
    "heywood.model.structural": ("The structural model", "结构模型"),
    "heywood.model": ("The model", "该模型"),
    "heywood.model.measurement": ("The measurement model", "测量模型"),
    "heywood.model.interactions": ("The model with the latent interactions",
                                   "含潜变量交互作用的模型"),
    "heywood.in_group": (" in group {group}", "（组 {group}）"),
    "heywood.case.correlation": ("the correlation {variable}{where} is {std}, beyond ±1",
                                 "{variable}{where}的相关为 {std}，超出 ±1"),
    "heywood.kind.latent": ("factor", "因子"),
    "heywood.kind.observed": ("observed variable", "观测变量"),
    "heywood.what.variance": ("variance", "方差"),
    "heywood.what.residual variance": ("residual variance", "残差方差"),
    "heywood.case.negative": ("the {what} of the {kind} {variable}{where} is negative ({est}",
                              "{kind} {variable}{where}的{what}为负（{est}"),
    "heywood.case.se": (", SE {se}", "，SE {se}"),
    "heywood.case.close": (")", "）"),
    "heywood.case.r2": (", so its R² is {r2} (above 1)", "，因此其 R² 为 {r2}（大于 1）"),
    "heywood.case.sep": ("; ", "；"),
    "heywood.intro": (
        "{model} has an inadmissible solution (a Heywood case: {names}): {cases}. A variance "
        "cannot be negative nor a correlation exceed ±1 (a negative residual variance means the "
        "model explains more than all of the variable's variance), so the estimates, standard "
        "errors and fit measures cannot be interpreted as they stand.",
        "{model}的解不可接受（Heywood 案例：{names}）：{cases}。方差不能为负，相关也不能超出 ±1"
        "（残差方差为负意味着模型解释的方差超过了该变量的全部方差），因此估计值、标准误和拟合指标"
        "均不能按原样解释。",
    ),
    "heywood.significant": (
        " The negative variance of {names} is significantly below zero (one-sided Wald test), "
        "which points to a misspecified model rather than sampling error (Kolenikov & Bollen, "
        "2012).",
        "{names} 的负方差显著小于零（单侧 Wald 检验），表明问题在于模型设定错误而非抽样误差"
        "（Kolenikov & Bollen, 2012）。",
    ),
    "heywood.near": (
        " The negative variance of {names} is within sampling error of zero (one-sided Wald "
        "test): the true variance may be close to zero (Kolenikov & Bollen, 2012).",
        "{names} 的负方差与零的差异在抽样误差范围内（单侧 Wald 检验）：真实方差可能接近于零"
        "（Kolenikov & Bollen, 2012）。",
    ),
    "heywood.todo": (
        " What to do: check the model for a structural misspecification (a missing path or "
        "residual covariance, predictors so strongly correlated that they explain everything), "
        "empirical under-identification (a factor with two indicators or a near-zero loading), "
        "outliers and too small a sample (Chen et al., 2001); revise the model where theory "
        "allows. Fixing the variance at zero or bounding it hides a misspecification and is "
        "defensible only when the test above finds it within sampling error (Kolenikov & "
        "Bollen, 2012).",
        "处理建议：检查模型是否存在结构性设定错误（遗漏的路径或残差协方差、预测变量之间高度相关"
        "以致解释了全部方差）、经验性识别不足（只有两个指标的因子或接近零的载荷）、异常值以及样本"
        "过小（Chen et al., 2001）；在理论允许的范围内修正模型。将方差固定为零或对其设限会掩盖设定"
        "错误，仅当上述检验表明其在抽样误差范围内时才站得住脚（Kolenikov & Bollen, 2012）。",
    ),
    "heywood.power": (
        "The power analysis was not run: it simulates samples from the fitted structural model, "
        "whose solution is inadmissible (Heywood case: {names}; {cases}). Such a model has no "
        "covariance matrix to draw samples from, and power at an inadmissible solution would "
        "mean nothing. Resolve the Heywood case first (see the structural model), then rerun "
        "the power stage (ckm run --only power).",
        "未进行检验力分析：该分析从拟合的结构模型中模拟样本，而该模型的解不可接受（Heywood 案例："
        "{names}；{cases}）。这样的模型没有可供抽样的协方差矩阵，在不可接受解上计算的检验力也"
        "没有意义。请先解决 Heywood 案例（见结构模型），再重新运行检验力阶段"
        "（ckm run --only power）。",
    ),
    # A part of the toolkit not installed (ckm_research.report.inputs.feature).
    "feature.missing": (
        "{what} is not part of this installation of ckm-research yet ({module}.{attr} is "
        "missing), so this part is left out rather than estimated some other way.",
        "此 ckm-research 安装尚不包含{what}（缺少 {module}.{attr}），因此略去这一部分，"
        "而不以其他方法估计。",
    ),
    "feature.measurement": ("reliability and validity (ckm_research.measurement, issue 4)",
                            "信度与效度（ckm_research.measurement，issue 4）"),
    "feature.cmv": ("common-method checks (ckm_research.measurement, issue 4)",
                    "共同方法偏差检验（ckm_research.measurement，issue 4）"),
    "feature.invariance": ("measurement invariance (ckm_research.measurement, issue 4)",
                           "测量不变性（ckm_research.measurement，issue 4）"),
    "feature.interactions": ("latent interactions (ckm_research.moderation, issue 4)",
                             "潜变量交互作用（ckm_research.moderation，issue 4）"),
    "feature.simple_slopes": (
        "simple slopes and Johnson-Neyman (ckm_research.moderation, issue 4)",
        "简单斜率与 Johnson-Neyman 区域（ckm_research.moderation，issue 4）",
    ),
    "feature.bootstrap": ("the bootstrap (ckm_research.inference, issue 6)",
                          "Bootstrap 法（ckm_research.inference，issue 6）"),
    "feature.power": ("Monte Carlo power analysis (ckm_research.inference, issue 6)",
                      "蒙特卡洛检验力分析（ckm_research.inference，issue 6）"),
    # The subsample analysed (ckm_research.data.subset.apply_subset).
    "subset.part": ("{column} in {{{values}}}", "{column} 属于 {{{values}}}"),
    "subset.and": (" and ", "且"),
    "subset.note": ("Subsample analysed: respondents with {parts}.",
                    "分析的子样本：{parts} 的受访者。"),
    # --- stdint (issue 11): standardized interaction effects and their effect sizes ---------
    "stdint.title": (
        "Standardized Effects in the Equations With Product Terms",
        "含乘积项方程的标准化效应",
    ),
    "stdint.col.se": ("SE (β)", "SE（β）"),
    "stdint.col.ci": ("{level} CI of β", "β 的 {level} 置信区间"),
    "stdint.note": (
        "β of a product term X × Z = B · SD(X) · SD(Z) / SD(Y), with the model-implied SDs; "
        "Var(Y) includes the variance of the product, Var(X)Var(Z) + Cov(X, Z)² for centred "
        "normal factors (Wen, Marsh & Hau, 2010). β of the other terms = B · SD(X) / SD(Y). "
        "Standard errors by the delta method.",
        "乘积项 X × Z 的 β = B · SD(X) · SD(Z) / SD(Y)，各 SD 为模型隐含值；Var(Y) 包含乘积项的"
        "方差，中心化正态因子下为 Var(X)Var(Z) + Cov(X, Z)²（Wen, Marsh & Hau, 2010）。其他项的 "
        "β = B · SD(X) / SD(Y)。标准误采用 delta 法。",
    ),
    "stdint.note.dblcent": (
        " lavaan's std.all of a product-indicator model divides by the SD of the product "
        "factor instead, i.e. gives the product a variance of 1.",
        "lavaan 对乘积指标模型给出的 std.all 则除以乘积因子的 SD，即把乘积项的方差设为 1。",
    ),
    "effsize.title": (
        "Effect Sizes of the Latent Interactions",
        "潜变量交互作用的效应量",
    ),
    "effsize.col.r2": ("R² with the interaction", "含交互作用的 R²"),
    "effsize.col.r2_h0": ("R² without it", "不含交互作用的 R²"),
    "effsize.col.dr2_term": ("ΔR² of the term", "该项的 ΔR²"),
    "effsize.col.f2_term": ("f² of the term", "该项的 f²"),
    "effsize.note": (
        "R² = 1 − ψ/Var(Y) of the outcome in the interaction model and in the model without "
        "product terms refitted by maximum likelihood; ΔR² = their difference (Aiken & West, "
        "1991); f² = ΔR²/(1 − R²), 0.02, 0.15 and 0.35 small, medium and large (Cohen, 1988). "
        "ΔR² and f² of the term: the term's own share, the squared multiple correlation of Y "
        "on all its predictors minus that without this product term, from the model-implied "
        "moments. D = likelihood-ratio test of the interaction model against the model "
        "without product terms (Klein & Moosbrugger, 2000).",
        "R² = 1 − ψ/Var(Y)，分别为交互作用模型与以最大似然重新估计的无乘积项模型中结果变量的 R²；"
        "ΔR² 为两者之差（Aiken & West, 1991）；f² = ΔR²/(1 − R²)，0.02、0.15、0.35 分别为小、中、"
        "大效应（Cohen, 1988）。该项的 ΔR² 与 f²：该乘积项自身的贡献，即依据模型隐含矩，Y 对其全部"
        "预测项的复相关平方减去去掉该乘积项后的复相关平方。D 为交互作用模型相对于无乘积项模型的"
        "似然比检验（Klein & Moosbrugger, 2000）。",
    ),
    "effsize.note.joint": (
        " The model without product terms drops all product terms of an outcome together, so "
        "ΔR² and f² are those of the outcome's product terms jointly, and D tests all product "
        "terms of the model jointly.",
        "无乘积项模型同时去掉一个结果变量的全部乘积项，故 ΔR² 与 f² 为该结果变量全部乘积项的"
        "联合效应；D 为模型全部乘积项的联合检验。",
    ),
    "r.stdint": (
        "Table {t1} gives the standardized effects of these equations, the product terms "
        "scaled by the SDs of both factors.",
        "表{t1}给出这些方程的标准化效应，乘积项按两个因子的标准差标准化。",
    ),
    "r.effsize": (
        " Table {t2} gives the variance of each outcome that its product terms explain "
        "(ΔR², Cohen's f²) and the likelihood-ratio test D.",
        "表{t2}给出乘积项对各结果变量额外解释的方差（ΔR²、Cohen f²）及似然比检验 D。",
    ),
    # --- qmlfx: effect sizes of QML fits ---
    "qmlfx.effsize.note.qml": (
        " The interaction model was fitted by QML (Klein & Muthén, 2007), so D is a "
        "quasi-likelihood ratio: twice the quasi-log-likelihood of the interaction model minus "
        "the log-likelihood of the model without product terms. Its chi-square p-value holds "
        "under the null hypothesis of no interaction, where the QML density is the exact normal "
        "one; D is not the LMS likelihood ratio.",
        "交互作用模型采用 QML 估计（Klein & Muthén, 2007），故 D 为拟似然比：交互作用模型的拟对数"
        "似然减去无乘积项模型的对数似然，再乘以 2。在无交互作用的原假设下 QML 密度即为精确的正态"
        "密度，故其卡方 p 值在原假设下成立；D 并非 LMS 的似然比。",
    ),
    # --- boot (issue 11): how the moderation bootstrap refitted its resamples ---
    "note.boot_path.moments": (
        "Bootstrap of the interaction model: each resample was refitted by ML from its "
        "sample moments, warm-started at the estimates; the product indicators were "
        "recentred in each resample.",
        "交互作用模型的 bootstrap：每个重抽样样本由其样本矩重新进行 ML 估计（以全样本估计值为"
        "初值）；乘积指标在每个重抽样样本中重新中心化。",
    ),
    "note.boot_path.fiml_patterns": (
        "Bootstrap of the interaction model: each resample was refitted by FIML from its "
        "weighted missing-data pattern moments, warm-started at the estimates; the product "
        "indicators were recentred in each resample.",
        "交互作用模型的 bootstrap：每个重抽样样本由其加权缺失模式矩重新进行 FIML 估计（以全样本"
        "估计值为初值）；乘积指标在每个重抽样样本中重新中心化。",
    ),
    "note.boot_path.full_refit": (
        "Bootstrap of the interaction model: each resample was refitted from the start "
        "(slower), because {reason}.",
        "交互作用模型的 bootstrap：每个重抽样样本均从头重新估计（较慢），原因：{reason}。",
    ),
}


def check_language(lang: str) -> str:
    """``lang`` if the report can be written in it, else a clear error."""
    if lang not in LANGUAGES:
        from ckm_research.errors import CkmError

        raise CkmError(
            f"The report language must be one of {', '.join(LANGUAGES)}; got {lang!r} instead."
        )
    return lang


def text(key: str, lang: str = "en", **fmt) -> str:
    """The message ``key`` in ``lang`` (``"en"`` or ``"zh"``), its fields filled in.

    Examples
    --------
    >>> text("table.number", "zh", n=3)
    '表3'
    >>> text("table.number", "en", n=3)
    'Table 3'
    """
    try:
        pair = MESSAGES[key]
    except KeyError:
        raise KeyError(f"the report's message catalogue has no key {key!r}") from None
    message = pair[LANGUAGES.index(check_language(lang))]
    return message.format(**fmt) if fmt else message


def fields(message: str) -> set[str]:
    """The ``{fields}`` of a message (for the catalogue's tests)."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def jn_text(jn: dict, level: float, lang: str = "en") -> str:
    """The Johnson-Neyman sentence of
    :meth:`ckm_research.moderation.simple_slopes.JohnsonNeyman.describe`, rebuilt in
    ``lang`` from the numbers the moderation stage records (``bounds``,
    ``significant_inside``, ``always_significant``, ``never_significant``, ``mean``,
    ``sd``) and the confidence ``level``."""
    pct = f"{100 * level:g}%"
    if jn.get("always_significant"):
        return text("jn.always", lang, level=pct)
    if jn.get("never_significant"):
        return text("jn.never", lang, level=pct)
    bounds = list(jn.get("bounds") or [])
    sep = text("r.list_sep", lang)
    b = sep.join(f"{v:.3f} ({(v - jn['mean']) / jn['sd']:+.2f} SD)" for v in bounds)
    key = "jn.between" if jn.get("significant_inside") else "jn.outside"
    if len(bounds) == 1:
        key = "jn.one_side"
    return text(key, lang, level=pct, bounds=b)


def encoding_text(name: str, note: str, lang: str = "en") -> str:
    """The data stage's note on how the CSV file ``name`` was decoded; ``note`` is
    :attr:`ckm_research.data.encoding.Decoded.description` (``'GBK (detected)'``)."""
    import re

    m = re.fullmatch(r"(.*) \((detected|given)\)", note)
    if lang == "en" or m is None:
        return text("note.encoding", "en" if m is None else lang, name=name, encoding=note)
    return text(f"note.encoding.{m.group(2)}", lang, name=name, encoding=m.group(1))


#: The messages of the estimation engine and of the validity checks the report translates
#: (the others are printed as they were written, in English): pattern -> catalogue key.
_DELETED = (
    r"(?P<dropped>\d+) of (?P<n>\d+) cases(?: in group (?P<group>.+?))? have missing "
    r"values and were deleted listwise"
)
_ENGINE = {
    _DELETED + r"; use estimator='FIML' \(or missing='ml'\) to keep them": "engine.listwise",
    _DELETED + r" \(LMS here uses complete cases(?:; missing='ml' keeps them)?\)": (
        "engine.listwise.lms"
    ),
    r"(?P<what>Cronbach's alpha|composite reliability) of (?P<f>.+?) is (?P<v>\S+) < "
    r"(?P<lim>\S+)": "flag.reliability",
    r"AVE of (?P<f>.+?) is (?P<v>\S+) < (?P<lim>\S+): the factor explains less than half of "
    r"its items' variance": "flag.ave",
    r"HTMT of (?P<a>.+?) and (?P<b>.+?) is (?P<v>\S+) > (?P<lim>\S+): discriminant validity "
    r"is doubtful even for conceptually similar constructs": "flag.htmt.similar",
    r"HTMT of (?P<a>.+?) and (?P<b>.+?) is (?P<v>\S+) > (?P<lim>\S+): acceptable only if the "
    r"constructs are conceptually similar": "flag.htmt",
    r"sqrt\(AVE\) of (?P<a>.+?) \((?P<v>\S+)\) does not exceed its correlation with "
    r"(?P<b>.+?) \((?P<r>\S+)\)": "flag.fornell",
    r"standardized loading of (?P<item>.+?) on (?P<f>.+?) "
    r"is (?P<v>\S+) < (?P<lim>\S+)": "flag.loading",
}


def engine_text(message: str, lang: str = "en") -> str:
    """A message of the estimation engine or of the validity checks
    (:func:`ckm_research.measurement.validity_flags`) in ``lang`` when :data:`_ENGINE`
    knows it; any other message as it is."""
    import re

    if lang == "en":
        return message
    level = re.fullmatch(r"(configural|metric|scalar|strict): (.*)", message, flags=re.S)
    if level:  # an invariance level's message
        return (
            text(f"invariance.level.{level.group(1)}", lang)
            + text("r.colon", lang)
            + engine_text(level.group(2), lang)
        )
    for pattern, key in _ENGINE.items():
        m = re.fullmatch(pattern, message)
        if m:
            found = {k: v for k, v in m.groupdict().items() if v is not None}
            group = found.pop("group", None)
            if group in ("low", "high"):
                group = text(f"group.{group}", lang)
            found["where"] = text("engine.in_group", lang, group=group) if group else ""
            if "what" in found:
                found["what"] = text(
                    "flag.alpha" if found["what"].startswith("Cron") else "flag.cr", lang
                )
            return text(key, lang, **found)
    return message
    for pattern, key in _ENGINE.items():
        m = re.fullmatch(pattern, message)
        if m:
            group = m.group("group")
            where = text("engine.in_group", lang, group=group) if group else ""
            return text(key, lang, dropped=m.group("dropped"), n=m.group("n"), where=where)
    return message


def estimator_text(estimator: str, missing: str, lang: str = "en") -> str:
    """How the model was estimated, in words: the text of
    :func:`ckm_research.structural.estimator_text` in ``lang``."""
    base = text("estimator.mlr" if estimator == "MLR" else "estimator.ml", lang)
    if estimator == "FIML" or missing == "ml":
        return base + text("estimator.fiml", lang)
    return base + text("estimator.listwise", lang)
