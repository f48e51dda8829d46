"""The calls report: every figure against a hand-computed fixture (web/reports/figures.py), the
facts read from calls a scenario made (web/reports/load.py), and the route's JSON, CSV and Excel
with its refusals. No figure depends on the wall clock: the calls happen on a fake one."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from dispatcher.alerts import Actor
from tests.support.dispatch import T0, World
from tests.support.web import Served, bearer, make_users, web_system
from web.reports.figures import CallFacts, percentile, report
from web.reports.load import calls_report
from web.reports.table import rows, seconds

SH = ZoneInfo("Asia/Shanghai")


def call(n: int, *, opened: str, page: float | None = 5, ack: float | None = None, done: float | None = None, **kw):
    at = datetime.fromisoformat(opened).replace(tzinfo=SH).astimezone(timezone.utc)
    offset = lambda s: None if s is None else at + timedelta(seconds=s)  # noqa: E731
    return CallFacts(
        id=n,
        community_id=kw.get("community", "c1"),
        kind=kw.get("kind", "emergency"),
        reason="alarm",
        state=kw.get("state", "resolved" if done is not None else "acknowledged" if ack is not None else "triggered"),
        outcome=kw.get("outcome"),
        opened_at=at,
        first_page_at=offset(page),
        acknowledged_at=offset(ack),
        resolved_at=offset(done),
        tier_reached=kw.get("tier", "building"),
    )


# Ten emergencies and two others, in November in Shanghai. Acknowledged after (seconds):
# 20, 30, 45, 50, 55, 59, 60, 90, 200, and one never (still triggered): 7 of 10 within 60 s, 8 within 180 s.
CALLS = [
    call(1, opened="2026-11-01 00:10", ack=20, done=600, outcome="helped_at_home"),
    call(2, opened="2026-11-02 08:00", ack=30, done=300, outcome="false_alarm"),
    call(3, opened="2026-11-03 08:30", ack=45, done=900, outcome="family_came"),
    call(4, opened="2026-11-04 09:00", ack=50, done=1200, outcome="ambulance_called", tier="mediator"),
    call(5, opened="2026-11-05 10:00", ack=55, done=1500, outcome="taken_to_hospital"),
    call(6, opened="2026-11-06 12:00", ack=59, done=400, outcome="false_alarm"),
    call(7, opened="2026-11-07 18:00", ack=60, done=700, outcome="helped_at_home"),
    call(8, opened="2026-11-08 20:00", page=8, ack=90, done=800, outcome="other", tier="mediator"),
    call(9, opened="2026-11-09 23:59", page=12, ack=200, done=1000, outcome="helped_at_home", tier="hotline"),
    call(10, opened="2026-11-10 23:30", page=None, tier=None),  # still ringing, nobody paged yet
    call(11, opened="2026-11-11 10:00", kind="wellness", page=30, ack=100, done=200, outcome="helped_at_home"),
    call(12, opened="2026-11-12 10:00", kind="emergency", page=None, state="cancelled", tier=None),
]


def test_every_figure_against_the_hand_count():
    r = report(CALLS, date(2026, 11, 1), date(2026, 11, 30), SH, checkins_missed=3)
    assert (r.calls, r.false_alarms, r.cancelled, r.still_open, r.checkins_missed) == (12, 2, 1, 1, 3)
    assert r.by_kind == {"emergency": 11, "wellness": 1}
    assert r.by_outcome == {
        "helped_at_home": 4,
        "false_alarm": 2,
        "family_came": 1,
        "ambulance_called": 1,
        "taken_to_hospital": 1,
        "other": 1,
    }
    assert r.by_tier == {"building": 7, "mediator": 2, "hotline": 1}
    # by the local hour: 00:10 → 0, the 23:59 and 23:30 calls → 23, the 10:00s → 10
    assert (r.by_hour[0], r.by_hour[8], r.by_hour[10], r.by_hour[23], sum(r.by_hour)) == (1, 2, 3, 2, 12)
    # acknowledgement of 9 emergencies: sorted 20 30 45 50 55 59 60 90 200; nearest rank
    assert (r.to_acknowledge.count, r.to_acknowledge.p50, r.to_acknowledge.p90, r.to_acknowledge.max) == (
        9,
        55,
        200,
        200,
    )
    # the first page: 5 (×7), 8, 12 over the 9 emergencies paged
    assert (r.to_first_page.count, r.to_first_page.p50, r.to_first_page.p90, r.to_first_page.max) == (9, 5, 12, 12)
    # resolution: 300 400 600 700 800 900 1000 1200 1500 → median the 5th, p90 the 9th (ceil 8.1)
    assert (r.to_resolve.p50, r.to_resolve.p90, r.to_resolve.max) == (800, 1500, 1500)
    # the share is over the 10 emergencies a person should have answered (the cancelled one is not)
    (sixty, three_minutes) = r.acknowledged_within
    assert (sixty.seconds, sixty.share, sixty.target, sixty.met) == (60, 0.7, 0.975, False)
    assert (three_minutes.seconds, three_minutes.share, three_minutes.met) == (180, 0.8, False)


def test_no_calls_is_a_report_of_nothing_not_an_error():
    r = report([], date(2026, 11, 1), date(2026, 11, 30), SH)
    assert r.calls == 0 and r.to_acknowledge.p50 is None and r.acknowledged_within[0].share is None
    assert rows(r)[3] == ["呼叫总数", 0]


@pytest.mark.parametrize(
    "values, p, expected",
    [([], 50, None), ([7], 90, 7), ([1, 2, 3, 4], 50, 2), ([4, 1, 3, 2], 75, 3), ([1, 2], 100, 2)],
)
def test_nearest_rank_percentiles(values, p, expected):
    assert percentile(values, p) == expected


def test_the_table_speaks_the_offices_chinese():
    table = dict(tuple(r) for r in rows(report(CALLS, date(2026, 11, 1), date(2026, 11, 30), SH), "武林社区"))
    assert table["社区"] == "武林社区" and table["呼叫总数"] == 12 and table["结果 误报"] == 2
    assert table["紧急呼叫 按键至接警（9次）"] == "中位 55秒 · 90% 3分20秒 · 最长 3分20秒"
    assert table["60秒内接警（目标 97.5%）"] == "70.0% 未达标"
    assert [seconds(v) for v in (None, 5, 59.6, 60, 125)] == ["–", "5秒", "1分00秒", "1分00秒", "2分05秒"]


@pytest.fixture
def world(sessions, example_registry) -> World:
    return World(sessions, example_registry, T0)


def test_the_facts_come_from_the_calls_as_they_happened(world, sessions):
    world.press()
    world.tick()  # paged at once
    world.later(seconds=40)
    world.alerts.acknowledge(world.alert().id, Actor("李建国", "sms", "pm-li"))
    world.later(seconds=260)
    world.alerts.resolve(world.alert().id, Actor("李建国", "sms", "pm-li"), "helped_at_home")
    day = T0.astimezone(SH).date()
    with sessions() as s:
        r = calls_report(s, day, day, "tianshui-wulin")
        assert calls_report(s, day + timedelta(days=1), day + timedelta(days=1)).calls == 0  # the next day: none
    assert (r.calls, r.by_kind, r.by_outcome, r.by_tier) == (
        1,
        {"emergency": 1},
        {"helped_at_home": 1},
        {"building": 1},
    )
    assert (r.to_first_page.max, r.to_acknowledge.max, r.to_resolve.max) == (0, 40, 300)
    assert r.acknowledged_within[0].share == 1.0


def test_a_call_late_at_night_belongs_to_its_local_day(world, sessions):
    world.clock.t = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)  # 23:30 on the 30th in Shanghai
    world.press()
    world.tick()
    with sessions() as s:
        assert calls_report(s, date(2026, 11, 1), date(2026, 11, 30)).calls == 1
        assert calls_report(s, date(2026, 12, 1), date(2026, 12, 31)).calls == 0


@pytest.fixture
def served(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    yield server, tokens
    server.stop()


def test_the_route_gives_json_csv_and_excel_and_refuses_bad_periods(served):
    server, tokens = served
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        r = http.get("/api/v1/reports/calls", params={"month": "2026-02", "community": "tianshui-wulin"})
        assert r.status_code == 200 and (r.json()["since"], r.json()["until"]) == ("2026-02-01", "2026-02-28")
        csv = http.get("/api/v1/reports/calls", params={"month": "2026-11", "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv") and "attachment" in csv.headers["content-disposition"]
        assert csv.content.decode("utf-8-sig").splitlines()[3] == "呼叫总数,0"
        xlsx = http.get(
            "/api/v1/reports/calls", params={"since": "2026-11-01", "until": "2026-11-07", "format": "xlsx"}
        )
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.title == "呼叫报表" and sheet["A4"].value == "呼叫总数" and sheet["B4"].value == 0
        for params, message in (
            ({"month": "2026-13"}, "YYYY-MM"),
            ({"month": "2026-11", "since": "2026-11-01"}, "not both"),
            ({"since": "2026-11-05", "until": "2026-11-01"}, "before since"),
            ({"since": "2025-01-01", "until": "2026-11-01"}, "at most 366 days"),
            ({}, "give month"),
        ):
            refused = http.get("/api/v1/reports/calls", params=params)
            assert refused.status_code == 422 and message in refused.text, (params, refused.text)
        unknown = http.get("/api/v1/reports/calls", params={"month": "2026-11", "community": "nowhere"})
        assert unknown.status_code == 404 and "nowhere" in unknown.text


def test_visit_coverage_counts_the_residents_visited_in_the_period(world, sessions):
    from dispatcher.visit_log import record_visit
    from web.reports.figures import coverage

    assert coverage(0, 0, 0).share is None and coverage(3, 4, 2).share == 0.5
    day = T0.astimezone(SH).date()
    with sessions.begin() as s:
        for at in (T0, T0 + timedelta(hours=1)):  # 张秀英 visited twice, 刘德明 not at all
            record_visit(s, resident_id="r-zhang", now=at, by_name="李建国", channel="sms")
        record_visit(s, resident_id="r-liu", now=T0 - timedelta(days=1), by_name="孙海涛", channel="sms")
    with sessions() as s:
        r = calls_report(s, day, day, "tianshui-wulin")
    assert (r.visits.visits, r.visits.visited, r.visits.residents, r.visits.share) == (2, 1, 2, 0.5)
    assert ["走访覆盖（至少走访一次的居民）", "1/2 50.0%"] in rows(r, "武林社区")


def test_device_availability_merges_a_devices_overlapping_outages_and_clips_to_the_period():
    from web.reports.figures import availability

    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=10)  # 240 device-hours per device
    h = lambda n: start + timedelta(hours=n)  # noqa: E731
    outages = [
        ("a", h(10), h(16)),  # 6 h
        ("a", h(14), h(20)),  # overlaps the first: 4 h more, not 6
        ("b", start - timedelta(hours=5), h(2)),  # began before the period: 2 h inside it
        ("b", h(236), None),  # still open at the end: 4 h
        ("c", end + timedelta(hours=1), None),  # after the period: nothing
    ]
    a = availability(2, outages, start, end)
    assert (a.devices, a.outages, a.down_seconds) == (2, 4, 16 * 3600)
    assert a.share == 1 - 16 / 480
    assert availability(0, [], start, end).share is None  # no devices: no figure, not 100 %
    assert availability(3, [], start, start).share is None  # no time yet
    assert (
        dict(tuple(r) for r in rows(report([], start.date(), end.date(), SH, devices=a)))["设备离线告警（4次）"]
        == "累计 16小时00分"
    )


def test_device_availability_counts_the_open_device_alerts_up_to_now(world, sessions):
    from core.db import transaction
    from core.schema import Device

    day = T0.astimezone(SH).date()
    start = datetime.combine(day, datetime.min.time(), SH)
    with transaction(sessions) as s:
        s.get(Device, "pgr-0001").last_seen_at = start
        s.get(Device, "z2m-sos-liu").last_seen_at = start
        world.alerts.open_alert(
            s,
            resident_id="r-zhang",
            kind="device",
            reason="offline",
            now=start + timedelta(hours=6),
            device_id="pgr-0001",
        )
        world.alerts.open_alert(  # a low battery is maintenance: the device still carries calls
            s, resident_id="r-liu", kind="device", reason="battery_low", now=start, device_id="z2m-sos-liu"
        )
    with sessions() as s:
        whole_day = calls_report(s, day, day, "tianshui-wulin").devices
        by_noon = calls_report(s, day, day, "tianshui-wulin", now=start + timedelta(hours=12)).devices
    assert (whole_day.devices, whole_day.outages, whole_day.down_seconds) == (2, 1, 18 * 3600)
    assert whole_day.share == 1 - 18 / 48
    assert (by_noon.down_seconds, by_noon.share) == (6 * 3600, 1 - 6 / 24)  # the afternoon has not happened
