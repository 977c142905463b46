"""Survey instruments: definitions (``surveys/*.yaml``), loading and exports.

The first stage of a study: what is asked, in which words, on which scale.
:func:`load_instrument` reads and checks a definition; the ``to_*`` functions
of :mod:`ckm_research.instrument.export` write it out for the field (XLSForm
for ODK/KoboToolbox, a printable HTML questionnaire), for the analyst (a
codebook) and for the model (lavaan measurement syntax).
"""

from ckm_research._lazy import lazy_names, names_from

# imported when first used (PEP 562), so ``ckm --help`` does not load scipy and pandas
__getattr__, __dir__ = lazy_names(
    __name__,
    globals(),
    {
        **names_from(
            "ckm_research.instrument.load",
            ["DEFAULT_INSTRUMENT", "available_instruments", "instrument_from_dict",
             "load_instrument"],
        ),
        **names_from(
            "ckm_research.instrument.schema", ["Instrument", "InstrumentError", "ItemInfo"]
        ),
    },
)

__all__ = [
    "load_instrument",
    "instrument_from_dict",
    "available_instruments",
    "DEFAULT_INSTRUMENT",
    "Instrument",
    "InstrumentError",
    "ItemInfo",
]
