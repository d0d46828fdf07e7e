"""Pure scoring of PPP instruments: no database, no web, standard library and NumPy only.

The same functions score a web form, a bulk CSV and a notebook cell.
"""

from pustula.scoring.dlqi import DLQI, compute_dlqi
from pustula.scoring.instrument import BulkResult, FieldSpec, Instrument
from pustula.scoring.nrs import ITCH_NRS, PAIN_NRS, compute_nrs
from pustula.scoring.pga import PGA, PGA_COMPOSITE, compute_pga, compute_pga_composite
from pustula.scoring.pppasi import PPPASI, area_score_from_percent, compute_pppasi
from pustula.scoring.registry import get_instrument, list_instruments
from pustula.scoring.result import ScoreResult

__all__ = [
    "DLQI",
    "ITCH_NRS",
    "PAIN_NRS",
    "PGA",
    "PGA_COMPOSITE",
    "PPPASI",
    "BulkResult",
    "FieldSpec",
    "Instrument",
    "ScoreResult",
    "area_score_from_percent",
    "compute_dlqi",
    "compute_nrs",
    "compute_pga",
    "compute_pga_composite",
    "compute_pppasi",
    "get_instrument",
    "list_instruments",
]
