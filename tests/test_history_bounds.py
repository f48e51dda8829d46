"""The history's day range as instants (web/api/alert_filters.day_span), as a table of literal
instants: a day is the community's wall-clock day, until is inclusive, since after until is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from web.api.alert_filters import day_span

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until", "tz", "lo", "hi"),
    [
        # one Beijing day, 12-01: from 16:00 UTC the day before to 16:00 UTC on 12-01
        (date(2026, 12, 1), date(2026, 12, 1), SHANGHAI, utc(2026, 11, 30, 16), utc(2026, 12, 1, 16)),
        (date(2026, 12, 1), None, SHANGHAI, utc(2026, 11, 30, 16), None),
        (None, date(2026, 12, 1), SHANGHAI, None, utc(2026, 12, 1, 16)),
        (None, None, SHANGHAI, None, None),
        # a week over the year's end
        (date(2026, 12, 28), date(2027, 1, 3), SHANGHAI, utc(2026, 12, 27, 16), utc(2027, 1, 3, 16)),
        # Berlin's clocks go forward on 2027-03-28: that day has 23 hours
        (date(2027, 3, 28), date(2027, 3, 28), BERLIN, utc(2027, 3, 27, 23), utc(2027, 3, 28, 22)),
        (date(2027, 10, 31), date(2027, 10, 31), BERLIN, utc(2027, 10, 30, 22), utc(2027, 10, 31, 23)),
    ],
)
def test_day_span(since, until, tz, lo, hi):
    assert day_span(since, until, tz) == (lo, hi)


@pytest.mark.parametrize(
    ("opened", "in_range"),
    [
        (utc(2026, 12, 1, 15, 30), True),  # 23:30 Beijing time on 12-01, though 15:30 UTC
        (utc(2026, 11, 30, 16, 0), True),  # 00:00 Beijing on 12-01: the first instant of the day
        (utc(2026, 11, 30, 15, 59, 59), False),  # 23:59:59 on 11-30
        (utc(2026, 12, 1, 16, 0), False),  # 00:00 on 12-02
        (utc(2026, 12, 1, 0, 30), True),  # 08:30 Beijing, also 12-01 in UTC
    ],
)
def test_an_instant_is_on_the_beijing_day_its_wall_clock_says(opened, in_range):
    lo, hi = day_span(date(2026, 12, 1), date(2026, 12, 1), SHANGHAI)
    assert lo is not None and hi is not None
    assert (lo <= opened < hi) is in_range


def test_since_after_until_is_refused():
    with pytest.raises(ValueError, match="since 2026-12-05 is after until 2026-12-01"):
        day_span(date(2026, 12, 5), date(2026, 12, 1), SHANGHAI)
