"""The screening report of ``ckm data import``, as Markdown.

It states what was read, what was removed for privacy (column names only:
no value of a removed column ever reaches the report), missingness by item and
by respondent, and each screening flag with its cut-off and reference, listing
flagged respondents by data row and pseudonym.
"""

from __future__ import annotations

import numpy as np

__all__ = ["render_report"]

_MAX_LISTED = 40


def _rows(screening, flag: str, data_ids) -> str:
    hit = screening.index[screening[flag].to_numpy(dtype=bool)]
    if len(hit) == 0:
        return "none"
    parts = []
    for i in hit[:_MAX_LISTED]:
        pid = data_ids[i] if data_ids is not None else None
        parts.append(f"{i + 1}" + (f" ({pid})" if isinstance(pid, str) and pid else ""))
    more = f", ... ({len(hit)} in all)" if len(hit) > _MAX_LISTED else ""
    return ", ".join(parts) + more


def render_report(result) -> str:
    """Markdown text of the screening report of an :class:`ImportResult`."""
    m, s, scr = result.manifest, result.summary, result.screening
    ins = result.instrument
    rules = s["rules"]
    raw = m["raw_file"]
    counts = m["counts"]
    privacy = m["rules"]["personal_data"]
    # pseudonyms by raw row (the processed data may have dropped rows)
    ids = None
    if "respondent" in result.data.columns:
        ids = {int(r) - 1: p for r, p in zip(result.data["row"], result.data["respondent"],
                                             strict=True)}
        ids = [ids.get(i) for i in range(len(scr))]
    lines = []
    w = lines.append
    w("# Screening report")
    w("")
    w(f"- Raw file: `{raw['name']}` ({raw['format']} layout, {raw['bytes']} bytes), "
      f"sha256 `{raw['sha256']}`; read only, never modified.")
    w(f"- Instrument: `{ins.id}` version {ins.version}"
      + (f" (sha256 `{ins.sha256}`)" if ins.sha256 else "") + ".")
    w(f"- Respondents read: {counts['rows_read']}; written: {counts['rows_written']}"
      + (f"; dropped: {counts['rows_dropped']} (criteria: {', '.join(m['rules']['drop'])})"
         if m["rules"]["drop"] else " (screening flags only; nothing dropped)") + ".")
    w(f"- Created by {m['created_by']} on {m['created']}.")
    w("")
    w("Data rows count from 1 (the first respondent), as in the processed data's `row` "
      "column; respondents are named by row and pseudonym.")
    w("")
    w("## Personal data")
    w("")
    removed = privacy["removed_columns"]
    if removed:
        w(f"Removed (identifying metadata; values not copied anywhere): "
          f"{', '.join(f'`{c}`' for c in removed)}.")
    else:
        w("No identifying metadata columns were found.")
    if privacy["pseudonymised_id_column"]:
        w("")
        w(f"Respondent ids (`{privacy['pseudonymised_id_column']}`) replaced by pseudonyms: "
          f"{privacy['pseudonym']}.")
    not_carried = m["rules"]["columns_not_carried"]
    if not_carried:
        w("")
        w(f"Other columns not in the instrument, not carried over: "
          f"{', '.join(f'`{c}`' for c in not_carried)}.")
    w("")
    w("## Rules applied")
    w("")
    for rule in m["rules"]["applied"] or ["(none besides validation)"]:
        w(f"- {rule}")
    codes = m["rules"]["missing_values"]
    shown = [c if isinstance(c, str) else f"{c:g}" for c in codes]
    also = f" and codes {', '.join(shown)}" if codes else ""
    w(f"- Missing answers: empty cells{also}.")
    if m["rules"]["column_mapping"]:
        mapped = ", ".join(f"`{v}` -> {k}" for k, v in m["rules"]["column_mapping"].items())
        w(f"- Columns mapped to items: {mapped}.")
    w("")
    w("## Missing answers")
    w("")
    mr = s["missing_by_respondent"]
    share = mr["cells_missing"] / mr["cells"] if mr["cells"] else 0.0
    w(f"{mr['cells_missing']} of {mr['cells']} answers missing ({share:.1%}); "
      f"{mr['complete']} of {s['n']} respondents answered every item.")
    w("")
    w("By respondent (number of unanswered items: respondents): "
      + ", ".join(f"{k}: {v}" for k, v in mr["distribution"].items()) + ".")
    w("")
    mi = s["missing_by_item"]
    with_missing = mi[mi["missing"] > 0]
    if len(with_missing):
        w("| Item | Missing | Share |")
        w("|---|---|---|")
        for _, r in with_missing.iterrows():
            w(f"| {r['item']} | {r['missing']} | {r['share']:.1%} |")
        w("")
        w(f"Items with no missing answers: {len(mi) - len(with_missing)} of {len(mi)}.")
    else:
        w("No item has missing answers.")
    w("")
    w(f"Flag: more than {rules['missing_max_share']:.0%} of the items unanswered: "
      f"{_rows(scr, 'flag_missing', ids)}.")
    w("")
    w("## Straight-lining (longstring)")
    w("")
    ls = scr["longstring"].astype(float)
    w(f"Longest run of identical consecutive answers over {len(s['items_longstring'])} "
      f"agreement-scale items (Johnson, 2005; Curran, 2016): median {np.nanmedian(ls):.0f}, "
      f"maximum {np.nanmax(ls):.0f}. Flag at {rules['longstring_min']} or more: "
      f"{_rows(scr, 'flag_longstring', ids)}.")
    w("")
    w("## Attention checks")
    w("")
    if s["attention_checks"]:
        w("| Item | Correct answer | Failed | Unanswered |")
        w("|---|---|---|---|")
        for item, info in s["attention_checks"].items():
            w(f"| {item} | {', '.join(map(str, info['expected']))} | {info['failed']} | "
              f"{info['unanswered']} |")
        w("")
        w(f"Flag: one failed check or more (Meade & Craig, 2012): "
          f"{_rows(scr, 'flag_attention', ids)}.")
    else:
        w("The instrument has no attention checks.")
    w("")
    w("## Multivariate outliers (Mahalanobis distance)")
    w("")
    w(f"Squared distance of each respondent's reverse-coded answers on "
      f"{len(s['items_mahalanobis'])} indicators from the sample mean (pairwise-complete "
      f"covariance), against chi-square with df = answered items; flag at p < "
      f"{rules['outlier_alpha']} (Tabachnick & Fidell, 2013): "
      f"{_rows(scr, 'flag_outlier', ids)}.")
    w("")
    w("## Completion time")
    w("")
    if s["has_duration"]:
        w(f"Durations from `{m['rules']['duration_source']}`. Flag when faster than "
          f"{rules['seconds_per_item']:g} s per item ({s['speed_cutoff_seconds']:g} s for "
          f"{len(ins.item_ids())} items; Huang et al., 2012): {_rows(scr, 'flag_speed', ids)}.")
    else:
        w("The file has no completion times; speed was not screened.")
    w("")
    w("## Summary")
    w("")
    w("| Criterion | Flagged |")
    w("|---|---|")
    for name, k in s["flag_counts"].items():
        w(f"| {name} | {k} |")
    w(f"| any | {s['flagged']} |")
    w("")
    w("Flags are information, not verdicts: inspect flagged respondents, and drop them only "
      "with a stated rule (`ckm data import --drop CRITERIA`), reporting the analysis with "
      "and without them.")
    w("")
    w("## References")
    w("")
    w("- Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in "
      "survey data. Journal of Experimental Social Psychology, 66, 4-19.")
    w("- Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., & DeShon, R. P. (2012). "
      "Detecting and deterring insufficient effort responding to surveys. Journal of "
      "Business and Psychology, 27(1), 99-114.")
    w("- Johnson, J. A. (2005). Ascertaining the validity of individual protocols from "
      "web-based personality inventories. Journal of Research in Personality, 39(1), 103-129.")
    w("- Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data. "
      "Psychological Methods, 17(3), 437-455.")
    w("- Tabachnick, B. G., & Fidell, L. S. (2013). Using multivariate statistics (6th ed.). "
      "Pearson.")
    return "\n".join(lines) + "\n"
