"""Survey instruments: definitions (``surveys/*.yaml``), loading and exports.

The first stage of a study: what is asked, in which words, on which scale.
:func:`load_instrument` reads and checks a definition; the ``to_*`` functions
of :mod:`ckm_research.instrument.export` write it out for the field (XLSForm
for ODK/KoboToolbox, a printable HTML questionnaire), for the analyst (a
codebook) and for the model (lavaan measurement syntax).
"""

from ckm_research.instrument.load import (
    DEFAULT_INSTRUMENT,
    available_instruments,
    instrument_from_dict,
    load_instrument,
)
from ckm_research.instrument.schema import Instrument, InstrumentError, ItemInfo

__all__ = [
    "load_instrument",
    "instrument_from_dict",
    "available_instruments",
    "DEFAULT_INSTRUMENT",
    "Instrument",
    "InstrumentError",
    "ItemInfo",
]
