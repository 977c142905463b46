"""Write an instrument out for the field, the analyst and the model.

- :func:`to_xlsform`: an XLSForm workbook (``survey``, ``choices`` and
  ``settings`` sheets) for ODK Collect and KoboToolbox, with one
  ``label::Language (code)`` column per language, ``select_one`` questions,
  one group per section, range constraints on whole-number answers and, for
  attention checks marked ``enforce: true``, a constraint on the expected
  answer (XLSForm specification, https://xlsform.org).
- :func:`to_html`: a printable, self-contained questionnaire (no external
  files, fonts or scripts).
- :func:`to_codebook`: every variable with its wording, coding, reverse flag
  and source, as CSV and Markdown.
- :func:`to_lavaan`: the measurement model in lavaan syntax (Rosseel, 2012).

:func:`export_instrument` dispatches on a format name; it is what
``ckm instrument export`` calls.
"""

from __future__ import annotations

import csv
import html
import io
import os
from pathlib import Path

from ckm_research.instrument.schema import LANGUAGE_NAMES, Instrument, InstrumentError, ItemInfo

__all__ = ["FORMATS", "export_instrument", "to_xlsform", "to_html", "to_codebook", "to_lavaan",
           "codebook_table"]

#: Export formats and what they write.
from ckm_research.instrument.formats import FORMATS  # noqa: E402  (light, for ckm --help)

_ROLE_NAMES = {
    "profile": "key-informant and firm profile",
    "condition": "organisational condition (exogenous)",
    "mediator": "mediator",
    "outcome": "outcome",
    "moderator": "moderator (environmental turbulence)",
    "marker": "marker variable (common-method-variance check)",
    "construct": "construct",
}


def _languages(instrument: Instrument, lang: str) -> list[str]:
    if lang in ("both", "all"):
        return list(instrument.languages)
    if lang not in instrument.languages:
        raise InstrumentError(
            f"The instrument {instrument.id!r} has no {lang!r} wording; its languages are "
            f"{', '.join(instrument.languages)} (or 'both')."
        )
    return [lang]


def _lang_column(prefix: str, lang: str) -> str:
    return f"{prefix}::{LANGUAGE_NAMES.get(lang.split('-')[0], lang)} ({lang})"


def _prepare(path: str | os.PathLike, suffix: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise InstrumentError(f"The output {path} is a folder; give a file name.")
    if not path.suffix:
        path = path.with_suffix(suffix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstrumentError(f"Cannot create the folder {path.parent}: {exc.strerror}.") from None
    return path


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise InstrumentError(f"Cannot write {path}: {exc.strerror}.") from None


# ---------------------------------------------------------------------------
# XLSForm


def _xpath_in(values: tuple[int, ...]) -> str:
    return " or ".join(f". = '{v}'" for v in values)


def xlsform_sheets(instrument: Instrument, lang: str = "both") -> dict[str, list[list]]:
    """The XLSForm as ``{sheet: rows}`` (first row = header), before writing.

    ``pyxform`` can convert this structure directly; :func:`to_xlsform`
    writes it as a workbook.
    """
    langs = _languages(instrument, lang)
    label = [_lang_column("label", g) for g in langs]
    hint = [_lang_column("hint", g) for g in langs]
    cmsg = [_lang_column("constraint_message", g) for g in langs]
    header = ["type", "name", *label, *hint, "required", "appearance", "constraint", *cmsg]

    def row(type_, name, labels=None, hints=None, required="", appearance="", constraint="",
            messages=None) -> list:
        labels = labels or {}
        hints = hints or {}
        messages = messages or {}
        return [type_, name,
                *[labels.get(g, "") for g in langs], *[hints.get(g, "") for g in langs],
                required, appearance, constraint, *[messages.get(g, "") for g in langs]]

    survey = [header]
    if instrument.introduction:
        survey.append(row("note", "introduction",
                          {g: instrument.text(instrument.introduction, g) for g in langs}))
    items = instrument.items()
    by_section: dict[str, list[ItemInfo]] = {}
    for info in items:
        by_section.setdefault(info.section, []).append(info)
    for section in instrument.sections:
        survey.append(row("begin_group", section.id,
                          {g: instrument.text(section.title, g) for g in langs},
                          appearance="field-list"))
        instructions = section.instructions or (
            instrument.instructions if section.role != "profile" else None)
        if instructions:
            survey.append(row("note", f"{section.id}_instructions",
                              {g: instrument.text(instructions, g) for g in langs}))
        for info in by_section[section.id]:
            labels = {g: instrument.text(info.text, g) for g in langs}
            required = "yes" if info.required else ""
            if info.scale.type == "integer":
                sc = info.scale
                unit = {g: instrument.text(sc.unit, g) for g in langs} if sc.unit else {}
                msg = {g: (f"{sc.min}-{sc.max}" + (f" {unit[g]}" if unit else "")) for g in langs}
                survey.append(row("integer", info.id, labels,
                                  hints={g: msg[g] for g in langs}, required=required,
                                  constraint=f". >= {sc.min} and . <= {sc.max}",
                                  messages=msg))
                continue
            constraint, messages = "", {}
            if info.kind == "attention" and info.enforce:
                constraint = _xpath_in(info.expected)
                messages = {
                    g: " / ".join(
                        next(instrument.text(c.label, g) for c in info.scale.choices
                             if c.value == v) for v in info.expected)
                    for g in langs
                }
            appearance = "likert" if info.scale.type == "ordinal" else ""
            survey.append(row(f"select_one {info.scale_name}", info.id, labels,
                              required=required, appearance=appearance,
                              constraint=constraint, messages=messages))
        survey.append(row("end_group", ""))

    choices = [["list_name", "name", *label]]
    used = dict.fromkeys(i.scale_name for i in items if i.scale.type != "integer")
    for name in used:
        for choice in instrument.scales[name].choices:
            choices.append([name, str(choice.value),
                            *[instrument.text(choice.label, g) for g in langs]])

    default_language = _lang_column("label", langs[0]).split("::", 1)[1]
    settings = [
        ["form_title", "form_id", "version", "default_language"],
        [instrument.text(instrument.title, langs[0]), instrument.id, instrument.version,
         default_language],
    ]
    # drop columns that are empty in every row (XLSForm tools ignore them anyway)
    cols = [j for j in range(len(header)) if any(r[j] for r in survey[1:]) or j < 2]
    survey = [[r[j] for j in cols] for r in survey]
    return {"survey": survey, "choices": choices, "settings": settings}


def to_xlsform(instrument: Instrument, path: str | os.PathLike, lang: str = "both") -> Path:
    """Write the instrument as an XLSForm workbook (``.xlsx``).

    Parameters
    ----------
    instrument : Instrument
    path : str or path-like
        The workbook to write (``.xlsx`` is added when there is no extension).
    lang : str, default "both"
        A language code of the instrument, or ``"both"`` for every language.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    Choice names are the numeric codes (``"1"`` ... ``"7"``), so exports from
    KoboToolbox or ODK Central carry the same codes as the codebook. Groups
    are named after the sections, so an export's columns read
    ``cip/cip1``; ``ckm data import`` strips the group prefix.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = _prepare(path, ".xlsx")
    if path.suffix.lower() != ".xlsx":
        raise InstrumentError(f"An XLSForm is an .xlsx workbook; {path} has another extension.")
    sheets = xlsform_sheets(instrument, lang)
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r in rows:
            sheet.append(r)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    try:
        book.save(path)
    except OSError as exc:
        raise InstrumentError(f"Cannot write {path}: {exc.strerror}.") from None
    return path


# ---------------------------------------------------------------------------
# HTML

_CSS = """
body { font-family: "Helvetica Neue", Arial, "Noto Sans CJK SC", "Microsoft YaHei",
       "PingFang SC", sans-serif; font-size: 10.5pt; line-height: 1.35; margin: 2em; color: #111; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
h2 { font-size: 12.5pt; margin-top: 1.6em; border-bottom: 1px solid #444; }
.zh { color: #333; }
.meta { color: #555; font-size: 9pt; }
.intro { border: 1px solid #999; padding: 0.6em 0.9em; margin: 1em 0; }
table.grid { border-collapse: collapse; width: 100%; margin-top: 0.5em; }
table.grid th, table.grid td { border: 1px solid #999; padding: 0.3em; vertical-align: top; }
table.grid th.code { width: 3.2em; font-weight: normal; font-size: 8pt; text-align: center; }
table.grid td.box { text-align: center; font-size: 13pt; }
table.grid td.num { width: 2.2em; text-align: right; color: #555; }
ul.options { list-style: none; padding-left: 1em; margin: 0.3em 0 0.8em 0; }
.question { margin-top: 0.8em; page-break-inside: avoid; }
tr { page-break-inside: avoid; }
@page { margin: 1.6cm; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; } }
"""


def _bi(instrument: Instrument, value: dict | None, langs: list[str], block: bool = False) -> str:
    """The texts of ``value`` in ``langs``, one span (or div) per language."""
    if not value:
        return ""
    tag = "div" if block else "span"
    parts = []
    for k, g in enumerate(langs):
        text = html.escape(instrument.text(value, g))
        sep = "" if block or k == 0 else "<br>"
        parts.append(f'{sep}<{tag} lang="{g}" class="{g}">{text}</{tag}>')
    return "".join(parts)


def to_html(instrument: Instrument, path: str | os.PathLike, lang: str = "both") -> Path:
    """Write a printable questionnaire as one self-contained HTML file.

    Construct items appear as a grid (one row per statement, one box per
    answer); profile questions as lists of boxes or a blank for whole numbers.
    Reverse keying and sources are *not* shown to respondents (they are in the
    codebook).
    """
    langs = _languages(instrument, lang)
    path = _prepare(path, ".html")
    out = io.StringIO()
    w = out.write
    title = " / ".join(instrument.text(instrument.title, g) for g in langs)
    w("<!DOCTYPE html>\n")
    w(f'<html lang="{langs[0]}">\n<head>\n<meta charset="utf-8">\n')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">\n')
    w(f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n")
    w(f"<h1>{_bi(instrument, instrument.title, langs)}</h1>\n")
    w(f'<p class="meta">{html.escape(instrument.id)} v{html.escape(instrument.version)}</p>\n')
    if instrument.introduction:
        w(f'<div class="intro">{_bi(instrument, instrument.introduction, langs, block=True)}'
          "</div>\n")
    number = 0
    items = instrument.items()
    for section in instrument.sections:
        w(f'<section id="{section.id}">\n<h2>{_bi(instrument, section.title, langs)}</h2>\n')
        instructions = section.instructions or (
            instrument.instructions if section.role != "profile" else None)
        if instructions:
            w(f"<p>{_bi(instrument, instructions, langs)}</p>\n")
        open_scale = None  # the scale of the answer grid being written, if any
        for info in (i for i in items if i.section == section.id):
            number += 1
            if info.scale.type == "ordinal" and info.kind != "profile":
                if open_scale != info.scale_name:
                    if open_scale is not None:
                        w("</tbody>\n</table>\n")
                    open_scale = info.scale_name
                    w('<table class="grid">\n<thead><tr><th></th><th></th>')
                    for c in info.scale.choices:
                        w(f'<th class="code">{c.value}<br>{_bi(instrument, c.label, langs)}</th>')
                    w("</tr></thead>\n<tbody>\n")
                w(f'<tr id="q-{info.id}"><td class="num">{number}</td>'
                  f"<td>{_bi(instrument, info.text, langs)}</td>")
                w('<td class="box">&#9744;</td>' * len(info.scale.choices))
                w("</tr>\n")
                continue
            if open_scale is not None:
                w("</tbody>\n</table>\n")
                open_scale = None
            w(f'<div class="question" id="q-{info.id}"><p>{number}. '
              f"{_bi(instrument, info.text, langs)}</p>\n")
            if info.scale.type == "integer":
                unit = _bi(instrument, info.scale.unit, langs) if info.scale.unit else ""
                w(f"<p>&#9633; ________ {unit}</p>\n")
            else:
                w('<ul class="options">\n')
                for c in info.scale.choices:
                    w(f"<li>&#9744; {c.value}. {_bi(instrument, c.label, langs)}</li>\n")
                w("</ul>\n")
            w("</div>\n")
        if open_scale is not None:
            w("</tbody>\n</table>\n")
        w("</section>\n")
    origin = Path(instrument.path).name if instrument.path else instrument.id
    w('<p class="meta">' + html.escape(
        f"Questionnaire generated by ckm-research from {origin} (version "
        f"{instrument.version}).") + "</p>\n")
    w("</body>\n</html>\n")
    _write_text(path, out.getvalue())
    return path


# ---------------------------------------------------------------------------
# codebook


def codebook_table(instrument: Instrument, lang: str = "both") -> list[dict]:
    """One dict per variable (questionnaire order): the codebook's rows."""
    langs = _languages(instrument, lang)
    rows = []
    for info in instrument.items():
        sc = info.scale
        if info.reverse:
            processed = (f"reverse-coded by ckm data import: {sc.lowest + sc.highest} - raw "
                         "(high = more of the construct)")
        elif info.kind == "attention":
            processed = "as answered; screening checks it against 'expected'"
        else:
            processed = "as answered"
        row = {
            "position": info.position,
            "variable": info.id,
            "section": info.section,
            "construct": info.construct or "",
            "role": info.role,
            "kind": info.kind,
        }
        for g in langs:
            row[f"text_{g}"] = instrument.text(info.text, g)
        row.update({
            "scale": info.scale_name,
            "type": sc.type,
            "values": sc.describe(langs[0]),
            "expected": ", ".join(str(v) for v in info.expected) if info.expected else "",
            "reverse": "yes" if info.reverse else "no",
            "processed_coding": processed,
            "missing": "empty cell",
            "source": info.source or "",
            "citation": (instrument.sources[info.source].citation if info.source else ""),
            "note": info.note or "",
        })
        rows.append(row)
    return rows


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_codebook(instrument: Instrument, path: str | os.PathLike,
                lang: str = "both") -> list[Path]:
    """Write the codebook as CSV (UTF-8 with BOM, for Excel) and Markdown.

    ``path`` names either file (``codebook.csv`` or ``codebook.md``); both
    ``<stem>.csv`` and ``<stem>.md`` are written. Returns both paths.
    """
    langs = _languages(instrument, lang)
    base = _prepare(path, ".csv")
    csv_path, md_path = base.with_suffix(".csv"), base.with_suffix(".md")
    rows = codebook_table(instrument, lang)

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        csv_path.write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InstrumentError(f"Cannot write {csv_path}: {exc.strerror}.") from None

    out = io.StringIO()
    w = out.write
    w(f"# Codebook: {instrument.text(instrument.title, langs[0])}\n\n")
    w(f"Instrument `{instrument.id}` version {instrument.version}"
      + (f", file `{Path(instrument.path).name}` (sha256 `{instrument.sha256}`)"
         if instrument.path else "") + ".\n\n")
    w("Raw answers are coded as in *Values*. In the data written by `ckm data import`, "
      "reverse-keyed items are reverse-coded (see *Processed*); empty cells are missing "
      "answers.\n\n")
    w("## Variables\n\n")
    for section in instrument.sections:
        name = instrument.text(section.title, langs[0])
        construct = f" (`{section.factor}`)" if section.factor else ""
        w(f"### {name}{construct}\n\n")
        w(f"Role: {_ROLE_NAMES[section.role]}.\n\n")
        head = ["#", "Variable", *[f"Wording ({g})" for g in langs], "Values", "Reverse",
                "Source"]
        w("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            if r["section"] != section.id:
                continue
            kind = "" if r["kind"] in ("indicator", "profile") else \
                f" (attention check; correct: {r['expected']})"
            cells = [r["position"], f"`{r['variable']}`{kind}",
                     *[r[f"text_{g}"] for g in langs],
                     f"{r['scale']}" + (f" ({r['values']})" if r["type"] == "integer" else ""),
                     "yes" if r["reverse"] == "yes" else "", r["source"]]
            w("| " + " | ".join(_md_cell(c) for c in cells) + " |\n")
        w("\n")
    w("## Scales\n\n")
    for name, sc in instrument.scales.items():
        w(f"- `{name}` ({sc.type}): {_md_cell(sc.describe(langs[0]))}\n")
    w("\n## Sources\n\n")
    for key, src in instrument.sources.items():
        w(f"- `{key}`: {_md_cell(src.citation)}\n")
    _write_text(md_path, out.getvalue())
    return [csv_path, md_path]


# ---------------------------------------------------------------------------
# lavaan


def to_lavaan(instrument: Instrument, path: str | os.PathLike | None = None,
              lang: str = "en", include_marker: bool = False) -> str:
    """The measurement model in lavaan syntax (one ``=~`` line per construct).

    Parameters
    ----------
    instrument : Instrument
    path : str or path-like, optional
        Also write the syntax to this file.
    lang : str, default "en"
        Language of the comments (``"both"`` for all).
    include_marker : bool, default False
        Add the marker-variable factor as a model line; by default it is
        written as a comment, since the marker is not part of the study's
        model (add it for the CFA marker technique, Williams et al., 2010).

    Returns
    -------
    str
        The syntax. The item names are the processed data's columns
        (reverse-keyed items already reverse-coded by ``ckm data import``).
    """
    langs = _languages(instrument, lang)
    lines = [
        f"# Measurement model of the instrument {instrument.id!r} version {instrument.version}",
        "# (written by ckm-research). Fit it to the data written by `ckm data import`,",
        "# in which reverse-keyed items are already reverse-coded"
        + (f": {', '.join(instrument.reverse_keyed)}." if instrument.reverse_keyed else "."),
    ]
    marker_lines = []
    for section in instrument.sections:
        if section.role == "profile":
            continue
        ids = [i.id for i in instrument.items()
               if i.section == section.id and i.kind == "indicator"]
        label = " / ".join(instrument.text(section.title, g) for g in langs)
        line = f"{section.factor} =~ " + " + ".join(ids)
        if section.role == "marker" and not include_marker:
            marker_lines += [f"# {label}: marker variable for common-method-variance checks,",
                             "# not part of the study's model. Uncomment for the CFA marker "
                             "technique:", f"# {line}"]
            continue
        lines += [f"# {label}", line]
    lines += marker_lines
    text = "\n".join(lines) + "\n"
    if path is not None:
        _write_text(_prepare(path, ".lav"), text)
    return text


# ---------------------------------------------------------------------------


def export_instrument(instrument: Instrument, fmt: str, output: str | os.PathLike,
                      lang: str = "both") -> list[Path]:
    """Export ``instrument`` in format ``fmt`` (a key of :data:`FORMATS`) to ``output``.

    Returns the files written.
    """
    fmt = fmt.lower()
    if fmt == "xlsform":
        return [to_xlsform(instrument, output, lang)]
    if fmt == "html":
        return [to_html(instrument, output, lang)]
    if fmt == "codebook":
        return to_codebook(instrument, output, lang)
    if fmt == "lavaan":
        path = _prepare(output, ".lav")
        to_lavaan(instrument, path, lang=lang)
        return [path]
    raise InstrumentError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
