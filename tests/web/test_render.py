"""Template helpers: what a page prints of the user's own words."""

from __future__ import annotations

from pustula.web.render import whole_dates


def test_a_date_stays_on_one_line_and_the_text_around_it_stays_escaped() -> None:
    shown = whole_dates("Adverse event: <script>alert(1)</script> & co, from 2024-05-02")
    assert str(shown) == (
        "Adverse event: &lt;script&gt;alert(1)&lt;/script&gt; &amp; co, "
        'from <span class="date">2024-05-02</span>'
    )
    assert str(whole_dates("Week 4")) == "Week 4"
