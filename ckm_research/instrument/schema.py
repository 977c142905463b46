"""What a survey instrument definition may say: the schema of ``surveys/*.yaml``.

An instrument is a list of *sections* (a profile block, then one section per
construct), each a list of *items*; every item has an id, its wording in every
language of the instrument, a response scale, the scale it is adapted from and
a reverse-keyed flag. The schema is written with pydantic (v2) so that a
definition written by hand is checked field by field; :func:`load_instrument`
turns pydantic's errors into one :class:`InstrumentError` that names the file,
the section, the item and the field at fault.

Roles of sections (``role``):

- ``profile``: key-informant and firm profile (industry, size, role, ...); no
  construct;
- ``condition``, ``mediator``, ``outcome``, ``moderator``: a latent construct of
  the study (``construct`` is its factor name in the lavaan model);
- ``marker``: a marker-variable scale, theoretically unrelated to the model,
  for common-method-variance checks (Lindell & Whitney, 2001);
- ``construct``: any other latent construct.

Kinds of items (``kind``): ``indicator`` (measures the section's construct;
the default outside the profile), ``attention`` (an instructed-response item,
Meade & Craig 2012, with its ``expected`` answers) and ``profile``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ckm_research.errors import CkmError

__all__ = [
    "InstrumentError",
    "Choice",
    "Scale",
    "Source",
    "Item",
    "Section",
    "Instrument",
    "ItemInfo",
    "LANGUAGE_NAMES",
    "CONSTRUCT_ROLES",
]

#: Display names of language codes (XLSForm columns are ``label::English (en)``).
LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese", "fr": "French", "de": "German", "es": "Spanish",
    "pt": "Portuguese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "ru": "Russian",
    "it": "Italian", "nl": "Dutch", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian",
}

#: Section roles that measure a latent construct.
CONSTRUCT_ROLES = ("condition", "mediator", "outcome", "moderator", "marker", "construct")

_ID = r"^[a-z][a-z0-9_]{0,31}$"
# item ids are column names: capitals allowed (as in a data file's header), unique ignoring case
_ITEM_ID = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
_FACTOR = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class InstrumentError(CkmError):
    """An instrument definition cannot be found, read or used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Text = dict[str, str]


def _check_text(value: dict[str, str]) -> dict[str, str]:
    for lang, text in value.items():
        if not _LANG.match(lang):
            raise ValueError(f"{lang!r} is not a language code (such as en, zh, pt-BR)")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {lang!r} text is empty")
    return value


class Choice(_Strict):
    """One answer of a closed question: its numeric code and its labels."""

    value: int
    label: Text

    _labels = field_validator("label")(_check_text)


class Scale(_Strict):
    """A response scale.

    ``ordinal`` and ``nominal`` scales list their ``choices`` (integer codes
    with labels); an ``integer`` scale takes whole numbers in ``[min, max]``.
    """

    type: Literal["ordinal", "nominal", "integer"]
    choices: list[Choice] | None = None
    min: int | None = None
    max: int | None = None
    unit: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        if self.type == "integer":
            if self.choices:
                raise ValueError("an integer scale has no choices (give min and max)")
            if self.min is None or self.max is None:
                raise ValueError("an integer scale needs both min and max")
            if self.min > self.max:
                raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        else:
            if not self.choices or len(self.choices) < 2:
                raise ValueError(f"an {self.type} scale needs at least two choices")
            values = [c.value for c in self.choices]
            if len(set(values)) != len(values):
                raise ValueError(f"two choices share a value: {values}")
            if self.min is not None or self.max is not None:
                raise ValueError(f"an {self.type} scale takes its range from its choices; "
                                 "remove min and max")
        return self

    @property
    def codes(self) -> list[int] | None:
        """The valid codes of a closed scale (``None`` for an integer scale)."""
        return None if self.choices is None else [c.value for c in self.choices]

    @property
    def lowest(self) -> int:
        return self.min if self.type == "integer" else min(self.codes)

    @property
    def highest(self) -> int:
        return self.max if self.type == "integer" else max(self.codes)

    def describe(self, lang: str = "en") -> str:
        """``'1 = Strongly disagree; ...; 7 = Strongly agree'`` or ``'0-60 (years)'``."""
        if self.type == "integer":
            unit = f" ({self.unit.get(lang, next(iter(self.unit.values())))})" if self.unit else ""
            return f"whole number {self.min}-{self.max}{unit}"
        return "; ".join(
            f"{c.value} = {c.label.get(lang, next(iter(c.label.values())))}" for c in self.choices
        )


class Source(_Strict):
    """A validated scale (or paper) that items are adapted from."""

    citation: str
    url: str | None = None


class Item(_Strict):
    """One question of the instrument."""

    id: str = Field(pattern=_ITEM_ID)
    text: Text
    kind: Literal["indicator", "attention", "profile"] | None = None
    scale: str | None = None
    source: str | None = None
    reverse: bool = False
    expected: list[int] | None = None
    enforce: bool = False
    required: bool = False
    note: str | None = None

    _text = field_validator("text")(_check_text)


class Section(_Strict):
    """A block of items: the profile block or one construct."""

    id: str = Field(pattern=_ID)
    role: Literal["profile", "condition", "mediator", "outcome", "moderator", "marker",
                  "construct"]
    # "construct" in the YAML; named factor here (BaseModel.construct is a method)
    factor: str | None = Field(default=None, pattern=_FACTOR, alias="construct")
    title: Text
    instructions: Text | None = None
    scale: str | None = None
    note: str | None = None
    items: list[Item] = Field(min_length=1)

    _title = field_validator("title", "instructions")(
        lambda v: v if v is None else _check_text(v)
    )

    @model_validator(mode="after")
    def _construct_matches_role(self) -> Section:
        if self.role == "profile" and self.factor is not None:
            raise ValueError("a profile section measures no construct; remove 'construct'")
        if self.role != "profile" and self.factor is None:
            raise ValueError(f"a section with role {self.role!r} needs a 'construct' "
                             "(its factor name in the lavaan model, e.g. CKM)")
        return self


@dataclass(frozen=True)
class ItemInfo:
    """An item with everything its section implies, resolved.

    Attributes
    ----------
    id, text, source, reverse, expected, enforce, required, note
        As in the definition.
    kind : {"indicator", "attention", "profile"}
    section : str
        The id of its section.
    construct : str or None
        The factor the item measures (``None`` for attention and profile items).
    role : str
        The role of its section.
    scale_name : str
    scale : Scale
    position : int
        1-based position in the questionnaire.
    """

    id: str
    kind: str
    section: str
    construct: str | None
    role: str
    text: dict
    scale_name: str
    scale: Scale
    source: str | None
    reverse: bool
    expected: tuple[int, ...] | None
    enforce: bool
    required: bool
    note: str | None
    position: int

    def reverse_code(self, value):
        """The reverse-keyed code of ``value`` (``lowest + highest - value``)."""
        return self.scale.lowest + self.scale.highest - value


class Instrument(_Strict):
    """A complete survey instrument (one YAML file)."""

    id: str = Field(pattern=_ID)
    version: str
    languages: list[str] = Field(min_length=1)
    title: Text
    introduction: Text | None = None
    instructions: Text | None = None
    default_scale: str | None = None
    scales: dict[str, Scale] = Field(min_length=1)
    sources: dict[str, Source] = Field(default_factory=dict)
    sections: list[Section] = Field(min_length=1)

    _path: str | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    _texts = field_validator("title", "introduction", "instructions")(
        lambda v: v if v is None else _check_text(v)
    )

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for lang in value:
            if not _LANG.match(lang):
                raise ValueError(f"{lang!r} is not a language code (such as en, zh, pt-BR)")
        if len(set(value)) != len(value):
            raise ValueError(f"a language is listed twice: {value}")
        return value

    # -- derived views ------------------------------------------------------------------

    @property
    def path(self) -> str | None:
        """The file the instrument was read from (``None`` if built in memory)."""
        return self._path

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the definition file's bytes."""
        return self._sha256

    def items(self) -> list[ItemInfo]:
        """Every item in questionnaire order, resolved (see :class:`ItemInfo`)."""
        out = []
        for section in self.sections:
            for item in section.items:
                kind = item.kind or ("profile" if section.role == "profile" else "indicator")
                scale_name = item.scale or section.scale or self.default_scale
                out.append(ItemInfo(
                    id=item.id, kind=kind, section=section.id,
                    construct=section.factor if kind == "indicator" else None,
                    role=section.role, text=dict(item.text), scale_name=scale_name,
                    scale=self.scales[scale_name], source=item.source, reverse=item.reverse,
                    expected=tuple(item.expected) if item.expected else None,
                    enforce=item.enforce, required=item.required, note=item.note,
                    position=len(out) + 1,
                ))
        return out

    def item(self, item_id: str) -> ItemInfo:
        """One item by id."""
        for info in self.items():
            if info.id == item_id:
                return info
        raise InstrumentError(f"The instrument {self.id!r} has no item {item_id!r}.")

    def item_ids(self, kind: str | None = None) -> list[str]:
        """Item ids in questionnaire order, optionally of one kind."""
        return [i.id for i in self.items() if kind is None or i.kind == kind]

    def constructs(self, include_marker: bool = True) -> dict[str, list[str]]:
        """``{factor: [indicator ids]}`` in questionnaire order."""
        out: dict[str, list[str]] = {}
        for info in self.items():
            if info.kind != "indicator":
                continue
            if info.role == "marker" and not include_marker:
                continue
            out.setdefault(info.construct, []).append(info.id)
        return out

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise InstrumentError(f"The instrument {self.id!r} has no section {section_id!r}.")

    def text(self, value: dict | None, lang: str) -> str:
        """The ``lang`` wording of a text field (the first language as a fallback)."""
        if not value:
            return ""
        return value.get(lang) or value.get(self.languages[0]) or next(iter(value.values()))

    @property
    def reverse_keyed(self) -> list[str]:
        return [i.id for i in self.items() if i.reverse]
