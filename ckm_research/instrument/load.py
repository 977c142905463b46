"""Find, read and check survey instrument definitions (``surveys/*.yaml``).

:func:`load_instrument` accepts a file path or the name of an instrument in a
``surveys/`` folder (the current directory's, then the project's: the CKM
study's instrument is ``ckm``, the default). Every problem raises an
:class:`~ckm_research.instrument.schema.InstrumentError` whose message names the
file, the section and item (by id and position) and the field at fault.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml
from pydantic import ValidationError

from ckm_research.instrument.schema import Instrument, InstrumentError
from ckm_research.textfile import decode

__all__ = ["load_instrument", "instrument_from_dict", "survey_dirs", "available_instruments",
           "DEFAULT_INSTRUMENT"]

#: The instrument used when none is named.
DEFAULT_INSTRUMENT = "ckm"

_PROJECT_SURVEYS = Path(__file__).resolve().parents[2] / "surveys"


def survey_dirs() -> list[Path]:
    """Folders searched for instruments given by name, in order.

    ``./surveys`` (the current directory), then the ``surveys/`` folder of the
    ckm-research checkout (which holds the default ``ckm`` instrument).
    """
    dirs = [Path.cwd() / "surveys", _PROJECT_SURVEYS]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def available_instruments() -> list[str]:
    """Names of the instruments found in :func:`survey_dirs`."""
    names: list[str] = []
    for d in survey_dirs():
        names += [p.stem for p in sorted(d.glob("*.y*ml"))]
    return list(dict.fromkeys(names))


def _resolve(name_or_path: str | os.PathLike | None) -> Path:
    if name_or_path is None:
        name_or_path = DEFAULT_INSTRUMENT
    text = str(name_or_path)
    path = Path(text)
    looks_like_path = path.suffix.lower() in (".yaml", ".yml") or os.sep in text or "/" in text
    if path.is_file():
        return path
    if looks_like_path:
        if path.is_dir():
            raise InstrumentError(f"The instrument {path} is a folder, not a YAML file.")
        raise InstrumentError(f"The instrument file {path} does not exist.")
    for d in survey_dirs():
        for suffix in (".yaml", ".yml"):
            candidate = d / f"{text}{suffix}"
            if candidate.is_file():
                return candidate
    known = available_instruments()
    raise InstrumentError(
        f"No instrument named {text!r}: give the path of a YAML file, or one of "
        f"{', '.join(known) if known else '(none found)'} "
        f"(searched {', '.join(str(d) for d in survey_dirs()) or 'no surveys/ folder'})."
    )


def load_instrument(name_or_path: str | os.PathLike | None = None) -> Instrument:
    """Read and check an instrument definition.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        A YAML file, or the name of an instrument in a ``surveys/`` folder
        (see :func:`survey_dirs`). Default: ``"ckm"``, the CKM study's.

    Returns
    -------
    Instrument
        With ``path`` and ``sha256`` (of the file's bytes) set.

    Raises
    ------
    InstrumentError
        The file cannot be found or parsed, or breaks the schema; the message
        names the file, section, item and field.

    Examples
    --------
    >>> from ckm_research.instrument import load_instrument
    >>> ckm = load_instrument()            # surveys/ckm.yaml
    >>> ckm.constructs()["CKM"]
    ['ckm1', 'ckm2', 'ckm3', 'ckm4', 'ckm5']
    """
    path = _resolve(name_or_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InstrumentError(f"Cannot read the instrument file {path}: {exc.strerror}.") from None
    text = decode(raw, path, what="instrument file", error=InstrumentError,
                  advice="Save it as UTF-8 text.")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError(
            f"The instrument file {path} is not valid YAML{where}: {problem}."
        ) from None
    instrument = instrument_from_dict(data, source=str(path))
    instrument._path = str(path)
    instrument._sha256 = hashlib.sha256(raw).hexdigest()
    return instrument


def instrument_from_dict(data, source: str = "<instrument>") -> Instrument:
    """Build and check an :class:`Instrument` from parsed YAML (a dict).

    ``source`` names the origin in error messages.
    """
    if not isinstance(data, dict):
        raise InstrumentError(
            f"{source}: an instrument definition is a mapping with id, version, languages, "
            f"title, scales, sources and sections; got {type(data).__name__}."
        )
    try:
        instrument = Instrument.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(data, err['loc'])}: {_message(err)}" for err in exc.errors()]
        raise InstrumentError(_join(source, problems)) from None
    problems = _cross_check(instrument)
    if problems:
        raise InstrumentError(_join(source, problems))
    return instrument


# ---------------------------------------------------------------------------
# error messages


def _join(source: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"Invalid instrument {source}: {problems[0]}"
    shown = problems[:20]
    more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
    return (f"Invalid instrument {source} ({len(problems)} problems):\n"
            + "\n".join(f"  - {p}" for p in shown) + more)


def _message(err: dict) -> str:
    msg = err.get("msg", "invalid")
    msg = msg.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        return "unknown field (check its spelling)"
    if err.get("type") == "missing":
        return "required field is missing"
    if err.get("type") == "string_pattern_mismatch":
        return (f"{err.get('input')!r} is not a valid id (lowercase letters, digits and _, "
                "starting with a letter; at most 32 characters; item ids and factor names may "
                "use capitals)")
    return msg


def _where(data: dict, loc: tuple) -> str:
    """``section 'cul' (sections[5]) > item 'cul3' (items[4]) > field 'text.zh'``."""
    parts: list[str] = []
    node = data
    fields: list[str] = []
    i = 0
    loc = list(loc)
    while i < len(loc):
        key = loc[i]
        if key in ("sections", "items") and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            idx = loc[i + 1]
            entry = None
            if isinstance(node, dict) and isinstance(node.get(key), list) \
                    and idx < len(node[key]):
                entry = node[key][idx]
            label = "section" if key == "sections" else "item"
            ident = entry.get("id") if isinstance(entry, dict) else None
            parts.append(f"{label} {ident!r} ({key}[{idx + 1}])" if ident
                         else f"{label} {key}[{idx + 1}]")
            node = entry
            i += 2
            continue
        if key == "choices" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            fields.append(f"choices[{loc[i + 1] + 1}]")
            node = None
            i += 2
            continue
        if key == "scales" and i + 1 < len(loc):
            parts.append(f"scale {loc[i + 1]!r}")
            node = node.get("scales", {}).get(loc[i + 1]) if isinstance(node, dict) else None
            i += 2
            continue
        if key == "sources" and i + 1 < len(loc):
            parts.append(f"source {loc[i + 1]!r}")
            node = None
            i += 2
            continue
        fields.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
        i += 1
    where = " > ".join(parts)
    if fields:
        where = (where + " > " if where else "") + f"field {'.'.join(fields)!r}"
    return where or "top level"


# ---------------------------------------------------------------------------
# checks across fields


def _cross_check(ins: Instrument) -> list[str]:
    problems: list[str] = []
    langs = ins.languages

    def check_langs(value: dict | None, where: str, required: bool = True) -> None:
        if value is None:
            if required:
                problems.append(f"{where}: missing (give it in {', '.join(langs)})")
            return
        missing = [lang for lang in langs if lang not in value]
        extra = [lang for lang in value if lang not in langs]
        if missing:
            problems.append(f"{where}: no {', '.join(missing)} text (the instrument's "
                            f"languages are {', '.join(langs)})")
        if extra:
            problems.append(f"{where}: language {', '.join(extra)} is not in 'languages' "
                            f"({', '.join(langs)})")

    check_langs(ins.title, "field 'title'")
    check_langs(ins.introduction, "field 'introduction'", required=False)
    check_langs(ins.instructions, "field 'instructions'", required=False)
    for name, scale in ins.scales.items():
        for k, choice in enumerate(scale.choices or []):
            check_langs(choice.label, f"scale {name!r} > field 'choices[{k + 1}].label'")
        if scale.unit is not None:
            check_langs(scale.unit, f"scale {name!r} > field 'unit'")
    if ins.default_scale is not None and ins.default_scale not in ins.scales:
        problems.append(f"field 'default_scale': no scale named {ins.default_scale!r} "
                        f"(scales: {', '.join(ins.scales)})")

    seen_items: dict[str, str] = {}
    seen_sections: set[str] = set()
    seen_constructs: dict[str, str] = {}
    for s_idx, section in enumerate(ins.sections, start=1):
        s_where = f"section {section.id!r} (sections[{s_idx}])"
        if section.id in seen_sections:
            problems.append(f"{s_where}: the section id {section.id!r} is used twice")
        seen_sections.add(section.id)
        if section.factor:
            if section.factor in seen_constructs:
                other = seen_constructs[section.factor]
                problems.append(f"{s_where} > field 'construct': {section.factor!r} is "
                                f"also the construct of section {other!r}")
            seen_constructs[section.factor] = section.id
        check_langs(section.title, f"{s_where} > field 'title'")
        check_langs(section.instructions, f"{s_where} > field 'instructions'", required=False)
        if section.scale is not None and section.scale not in ins.scales:
            problems.append(f"{s_where} > field 'scale': no scale named {section.scale!r} "
                            f"(scales: {', '.join(ins.scales)})")
        n_indicators = 0
        for i_idx, item in enumerate(section.items, start=1):
            where = f"{s_where} > item {item.id!r} (items[{i_idx}])"
            same = next((k for k in seen_items if k.lower() == item.id.lower()), None)
            if same is not None:
                problems.append(f"{where} > field 'id': {item.id!r} is also an item of "
                                f"section {seen_items[same]!r}"
                                + (f" (as {same!r})" if same != item.id else "")
                                + "; item ids must be unique (ignoring case, as data columns "
                                "are matched)")
            seen_items[item.id] = section.id
            check_langs(item.text, f"{where} > field 'text'")
            kind = item.kind or ("profile" if section.role == "profile" else "indicator")
            if section.role == "profile" and kind == "indicator":
                problems.append(f"{where} > field 'kind': a profile section has no indicators")
            if section.role != "profile" and kind == "profile":
                problems.append(f"{where} > field 'kind': profile items belong in a section "
                                "with role 'profile'")
            n_indicators += kind == "indicator"
            scale_name = item.scale or section.scale or ins.default_scale
            scale = ins.scales.get(scale_name) if scale_name else None
            if scale_name is None:
                problems.append(f"{where} > field 'scale': no scale given, and no section "
                                "scale or default_scale")
            elif scale is None:
                if item.scale is not None:
                    problems.append(f"{where} > field 'scale': no scale named {scale_name!r} "
                                    f"(scales: {', '.join(ins.scales)})")
                continue
            if item.source is None:
                if kind == "indicator":
                    problems.append(f"{where} > field 'source': every indicator names the "
                                    "validated scale it is adapted from (a key of 'sources')")
            elif item.source not in ins.sources:
                problems.append(f"{where} > field 'source': no source named {item.source!r} "
                                f"in 'sources'")
            if item.reverse:
                if kind != "indicator":
                    problems.append(f"{where} > field 'reverse': only indicators can be "
                                    "reverse keyed")
                elif scale is not None and scale.type != "ordinal":
                    problems.append(f"{where} > field 'reverse': only items on an ordinal "
                                    f"scale can be reverse keyed (scale {scale_name!r} is "
                                    f"{scale.type})")
            if kind == "attention":
                if not item.expected:
                    problems.append(f"{where} > field 'expected': an attention check lists "
                                    "its correct answer(s)")
                elif scale is not None:
                    if scale.type == "integer":
                        bad = [v for v in item.expected if not scale.min <= v <= scale.max]
                    else:
                        bad = [v for v in item.expected if v not in scale.codes]
                    if bad:
                        problems.append(f"{where} > field 'expected': {bad} not codes of "
                                        f"scale {scale_name!r}")
            else:
                if item.expected is not None:
                    problems.append(f"{where} > field 'expected': only attention checks have "
                                    "expected answers")
                if item.enforce:
                    problems.append(f"{where} > field 'enforce': only attention checks can "
                                    "be enforced")
            if scale is not None and kind == "indicator" and scale.type != "ordinal":
                problems.append(f"{where} > field 'scale': an indicator needs an ordinal "
                                f"scale ({scale_name!r} is {scale.type})")
        if section.role != "profile" and n_indicators == 0:
            problems.append(f"{s_where}: the construct {section.factor!r} has no indicators")
    clash = sorted(set(seen_constructs) & set(seen_items))
    if clash:
        problems.append(f"construct names and item ids must differ: {', '.join(clash)}")
    return problems
