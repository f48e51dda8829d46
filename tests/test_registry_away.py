"""A resident's away period in the registry import: days or instants, validated, stored in UTC."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from core.schema import Resident
from registry.fields import RegistryError
from registry.store import import_registry
from registry.validation import read_yaml


@pytest.fixture
def example(example_registry):
    return read_yaml(example_registry.read_bytes())


def write(tmp_path, doc, text_away: str | None = None):
    path = tmp_path / "registry.yaml"
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    path.write_text(body, encoding="utf-8")
    return path


def zhang(doc):
    return next(r for r in doc["residents"] if r["id"] == "r-zhang")


def stored(sessions):
    with sessions() as s:
        r = s.get(Resident, "r-zhang")
        return r.away_from, r.away_to


UTC = timezone.utc


@pytest.mark.parametrize(
    "away,expected",
    [
        # plain days count whole, in the community's zone (Asia/Shanghai), `to` included
        (
            {"from": "2026-12-10", "to": "2026-12-20"},
            (datetime(2026, 12, 9, 16, 0, tzinfo=UTC), datetime(2026, 12, 20, 16, 0, tzinfo=UTC)),
        ),
        (
            {"from": "2026-12-10T08:00:00+08:00", "to": "2026-12-10T20:00:00+08:00"},
            (datetime(2026, 12, 10, 0, 0, tzinfo=UTC), datetime(2026, 12, 10, 12, 0, tzinfo=UTC)),
        ),
        ({"from": "2026-12-10"}, (datetime(2026, 12, 9, 16, 0, tzinfo=UTC), None)),  # until further notice
    ],
)
def test_an_away_period_is_imported_and_a_second_import_changes_nothing(sessions, example, tmp_path, away, expected):
    zhang(example)["away"] = away
    path = write(tmp_path, example)
    import_registry(sessions, path)
    assert stored(sessions) == expected
    assert import_registry(sessions, path).changed == 0
    del zhang(example)["away"]
    import_registry(sessions, write(tmp_path, example))
    assert stored(sessions) == expected  # a file without `away:` leaves the period alone (the board may set it)
    zhang(example)["away"] = None
    import_registry(sessions, write(tmp_path, example))
    assert stored(sessions) == (None, None)  # `away: null` ends it


def test_unquoted_yaml_dates_work_too(sessions, example_registry, tmp_path):
    text = example_registry.read_text(encoding="utf-8").replace(
        "    checkin:                      # optional daily check-in\n",
        "    away: {from: 2026-12-10, to: 2026-12-11}\n    checkin:\n",
    )
    assert "away:" in text
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    import_registry(sessions, path)
    assert stored(sessions) == (datetime(2026, 12, 9, 16, 0, tzinfo=UTC), datetime(2026, 12, 11, 16, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    "away,problem",
    [
        ({"from": "2026-12-10", "to": "2026-12-09"}, "residents[r-zhang].away.to: ends before it starts"),
        (
            {"from": "2026-12-10T08:00:00", "to": "2026-12-11"},
            "residents[r-zhang].away.from: '2026-12-10T08:00:00' has no time zone (write +08:00, or give a plain date)",
        ),
        (
            {"from": "next week"},
            "residents[r-zhang].away.from: bad date or time 'next week' (2026-12-10, or 2026-12-10T08:00:00+08:00)",
        ),
        ({"to": "2026-12-10"}, "residents[r-zhang].away.from: required"),
        ({"from": "2026-12-10", "until": "2026-12-11"}, "residents[r-zhang].away.until: unknown field"),
    ],
)
def test_a_bad_away_period_is_named_and_nothing_changes(sessions, example, tmp_path, away, problem):
    zhang(example)["away"] = away
    with pytest.raises(RegistryError) as err:
        import_registry(sessions, write(tmp_path, example))
    assert err.value.problems == [problem]
    with sessions() as s:
        assert s.get(Resident, "r-zhang") is None
