"""The registry of scoring instruments, by name.

>>> [i.name for i in list_instruments()]
['pppasi', 'pga', 'pga_composite', 'dlqi', 'pain_nrs', 'itch_nrs']
>>> get_instrument("pppasi").total_range
(0.0, 72.0)
"""

from __future__ import annotations

from pustula.errors import UnknownInstrumentError
from pustula.scoring.dlqi import DLQI
from pustula.scoring.instrument import Instrument
from pustula.scoring.nrs import ITCH_NRS, PAIN_NRS
from pustula.scoring.pga import PGA, PGA_COMPOSITE
from pustula.scoring.pppasi import PPPASI

__all__ = ["get_instrument", "list_instruments"]

_INSTRUMENTS: dict[str, Instrument] = {
    i.name: i for i in (PPPASI, PGA, PGA_COMPOSITE, DLQI, PAIN_NRS, ITCH_NRS)
}


def list_instruments() -> list[Instrument]:
    """Every registered instrument, in a stable order.

    Examples
    --------
    >>> [instrument.name for instrument in list_instruments()]
    ['pppasi', 'pga', 'pga_composite', 'dlqi', 'pain_nrs', 'itch_nrs']
    """
    return list(_INSTRUMENTS.values())


def get_instrument(name: str) -> Instrument:
    """The instrument registered as ``name``; a misspelt name is refused, never guessed.

    Examples
    --------
    >>> get_instrument("pppasi").name
    'pppasi'
    >>> get_instrument("ppasi")
    Traceback (most recent call last):
    ...
    pustula.errors.UnknownInstrumentError: no instrument named 'ppasi'; registered instruments are
    pppasi, pga, pga_composite, dlqi, pain_nrs, itch_nrs
    """
    try:
        return _INSTRUMENTS[name]
    except KeyError:
        known = ", ".join(_INSTRUMENTS)
        raise UnknownInstrumentError(
            f"no instrument named {name!r}; registered instruments are {known}",
            field="instrument",
            value=name,
        ) from None
