"""Ages as the snapshot list (compact) and the source-gone hint (words) print them."""

from __future__ import annotations

from evacuate.actions.source_gone import age_seconds, age_text


def test_ages_use_their_largest_whole_unit() -> None:
    assert [age_seconds(s) for s in (0, 59, 60, 3599, 7200, 2 * 86400 + 5)] == [
        "0 s", "59 s", "1 min", "59 min", "2 h", "2 d"]
    assert [age_seconds(s, compact=True) for s in (-5, 61, 3600)] == ["0s", "1m", "1h"]
    assert age_text("2026-12-02T00:00:00Z", now=1796169600 + 720) == "12 min old"
    assert age_text("yesterday") == "of unknown age"
