"""The monthly report page in a real headless Chromium: the month's calls counted, another month
picked in the form, the downloads pointing at the same period, and nobody signed out let in.
Desktop and phone. The calls are opened at fixed instants, so no verdict depends on today."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.db import transaction
from core.schema import Device
from tests.support.web import PASSWORD, Served, make_users, web_system
from tests.test_board_browser import ARTIFACTS, browser  # noqa: F401  (the fixture)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
DECEMBER = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
NOVEMBER = (  # the second is 23:30 on the 30th in Shanghai: November there, though 15:30 UTC
    datetime(2026, 11, 5, 2, 0, tzinfo=timezone.utc),
    datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc),
)


@pytest.fixture
def served(engine, example_registry):
    # the service's clock stands in December: November is over whatever the wall clock says (the
    # device availability counts up to now)
    app, dispatcher = web_system(engine, example_registry, now=lambda: DECEMBER)
    make_users(dispatcher.alerts.sessions, ["viewer"])
    alerts = dispatcher.alerts
    with transaction(alerts.sessions) as s:
        for at in NOVEMBER:
            alerts.open_alert(s, resident_id="r-zhang", kind="emergency", reason="alarm", now=at)
        # 张秀英's pager offline for 3 of November's 720 hours: 99.6 % (the only device heard from)
        s.get(Device, "pgr-0001").last_seen_at = NOVEMBER[0]
        outage = alerts.open_alert(
            s, resident_id="r-zhang", kind="device", reason="offline", now=NOVEMBER[0], device_id="pgr-0001"
        )
        outage.state, outage.resolved_at = "resolved", NOVEMBER[0] + timedelta(hours=3)
    server = Served(app).start()
    yield server
    server.stop()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_month_is_counted_and_another_month_can_be_picked(served, browser, db_url, size):  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    page.goto(served.url + "/report")
    expect(page).to_have_url(served.url + "/login")  # signed out: to the sign-in page
    page.fill("#name", "viewer")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page).to_have_url(served.url + "/")
    expect(page.locator('header a[href="/report"]')).to_have_text("月报")
    page.goto(served.url + "/report?month=2026-11")
    expect(page.locator("#r-calls")).to_have_text("3")
    expect(page.locator("#r-body h1")).to_have_text("全部社区 呼叫月报")
    expect(page.locator("#r-csv")).to_have_attribute("href", "/api/v1/reports/calls?month=2026-11&format=csv")
    expect(page.locator("#r-timing")).to_contain_text("至接警")
    expect(page.locator("#r-within")).to_contain_text("60秒内接警")
    expect(page.locator("#r-visits")).to_have_text("走访 0 次 · 走访覆盖 0/2 位居民（0.0%）")
    expect(page.locator("#r-devices")).to_have_text("设备可用率 99.6%（1 台设备 · 离线告警 1 次 · 累计 3小时00分）")
    expect(page.locator('#r-hours div[data-n="2"]')).to_have_count(1)  # 10:00: the press and the device alert
    expect(page.locator('#r-hours div[data-n="1"]')).to_have_count(1)  # 23:30, Beijing time
    assert page.locator("#r-hours div").nth(23).bounding_box()["height"] > 50  # drawn to scale: half the tallest
    shot(page, f"report-{size}", db_url)
    page.fill("#r-month", "2026-10")
    page.click("#r-go")
    expect(page.locator("#r-calls")).to_have_text("0")
    expect(page.locator("#r-xlsx")).to_have_attribute("href", "/api/v1/reports/calls?month=2026-10&format=xlsx")
    page.close()


def shot(page, name: str, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    else:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-pg.png"), full_page=True)
