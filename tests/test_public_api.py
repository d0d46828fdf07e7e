"""Pins the public API, so that a removal or rename is a deliberate, reviewed change."""

from __future__ import annotations

import pustula.scoring


def test_scoring_public_names() -> None:
    assert sorted(pustula.scoring.__all__) == sorted(
        [
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
    )
    for name in pustula.scoring.__all__:
        assert getattr(pustula.scoring, name) is not None
