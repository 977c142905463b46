"""Export formats of ``ckm instrument export``, in a module without pandas or scipy.

``ckm --help`` builds the parser that lists them; :mod:`ckm_research.instrument.export`
re-exports :data:`FORMATS`.
"""

__all__ = ["FORMATS"]

#: Export formats and what they write.
FORMATS = {
    "xlsform": "XLSForm workbook (.xlsx) for ODK Collect / KoboToolbox",
    "html": "printable self-contained questionnaire (.html)",
    "codebook": "codebook (.csv and .md)",
    "lavaan": "measurement model in lavaan syntax (.lav)",
}
