"""The visits page in a real headless Chromium: an operator sees the overdue resident first, records
a visit with a need, and the list empties; a viewer reads the list without the form. Desktop and
phone. Overdue is set relative to the registration, so no verdict depends on today's date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.db import transaction
from core.schema import Resident
from tests.support.web import Served, make_users, web_system
from tests.test_admin_browser import sign_in
from tests.test_board_browser import browser  # noqa: F401  (the fixture)
from tests.test_report_browser import SIZES, shot
from tests.test_service_team import with_team

# every day, all day: whether 赵玉兰 can be asked now does not depend on today
TEAM = [{"responder": "pm-zhao", "skills": ["health", "home_help"]}]


@pytest.fixture
def served(engine, example_registry, tmp_path):
    app, dispatcher = web_system(engine, with_team(example_registry, tmp_path, TEAM))
    make_users(dispatcher.alerts.sessions, ["viewer", "operator"])
    with transaction(dispatcher.alerts.sessions) as s:
        since = s.get(Resident, "r-zhang").visits_since
        s.execute(update(Resident).where(Resident.id == "r-zhang").values(visits_since=since - timedelta(days=33)))
    server = Served(app).start()
    yield server
    server.stop()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_operator_records_a_visit_for_the_overdue_resident(served, browser, db_url, size):  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    sign_in(page, served, "operator")
    page.click('header a[href="/visits"]')
    expect(page).to_have_url(served.url + "/visits")
    card = page.locator("#v-r-zhang")
    expect(card.locator(".state")).to_have_text("逾期（3天）")
    expect(card).to_contain_text("楼道党员：李建国、赵玉兰")
    expect(page.locator("#v-count")).to_have_text("共 1 位")
    page.fill("#by-r-zhang", "李建国（电话报告）")
    page.fill("#note-r-zhang", "精神好，血压正常")
    page.fill("#need-r-zhang", "需要修水管")
    shot(page, f"visits-{size}", db_url)
    page.click("#save-r-zhang")
    expect(page.locator("#ok-r-zhang")).to_have_text("已记录，需要已转调解员")
    expect(page.locator("#v-list")).to_have_text("今天没有需要走访的居民。")
    item = page.locator("#f-list .item")
    expect(item).to_contain_text("张秀英：需要修水管 · 王芳 · 未定日期")  # the mediator owns it
    expect(page.locator("#v-summary-text")).to_contain_text("武林社区")
    expect(page.locator("#t-pm-zhao")).to_contain_text("赵玉兰 医疗保健、家政助老 · 每天 全天 · 现在可联系 · 手上 0 件")
    page.select_option("#f-list select", "pm-zhao")
    page.locator("#f-list button[data-assign]").click()
    expect(item).to_contain_text("张秀英：需要修水管 · 赵玉兰 · 未定日期")  # given to the service team
    expect(page.locator("#t-pm-zhao")).to_contain_text("手上 1 件")
    shot(page, f"visits-follow-up-{size}", db_url)
    page.locator("#f-list input").fill("物业已修好")
    page.locator("#f-list button[data-done]").click()
    expect(page.locator("#f-list")).to_have_text("没有未办的跟进事项。")
    page.select_option("#v-show", "all")
    expect(page.locator("#v-r-zhang .state")).to_have_text("按时")
    expect(page.locator("#v-r-zhang")).to_contain_text("李建国（电话报告）")
    page.close()


def test_a_viewer_reads_the_list_without_the_form(served, browser):  # noqa: F811
    page = browser.new_page(viewport=SIZES["desktop"])
    sign_in(page, served, "viewer")
    page.goto(served.url + "/visits")
    expect(page.locator("#v-r-zhang .state")).to_have_text("逾期（3天）")
    expect(page.locator("#v-r-zhang form")).to_have_count(0)
    page.close()
