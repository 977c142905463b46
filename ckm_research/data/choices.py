"""Names the ``ckm data`` parsers offer as choices, in a module without pandas or scipy.

``ckm --help`` builds every subcommand's parser; the lists it shows live here
so that building them imports nothing heavy. :mod:`ckm_research.data.screening`
and :mod:`ckm_research.data.formats` re-export them.
"""

__all__ = ["CRITERIA", "WRITE_FORMATS"]

#: Screening criteria, as named by ``--drop`` and the ``flag_*`` columns.
CRITERIA = ("missing", "longstring", "attention", "outlier", "speed")

#: Formats :func:`~ckm_research.data.formats.write_responses` writes, with their usual
#: extensions.
WRITE_FORMATS = {
    "csv": (".csv",),
    "excel": (".xlsx",),
    "spss": (".sav",),
    "stata": (".dta",),
    "qualtrics": (".csv",),
    "kobo": (".csv", ".xlsx"),
}
