"""Finding and planning on the board in a real headless Chromium, desktop and phone, Chinese and
English: a code typed into the header search lands on its timeline (an unknown code says so, a name
lists its alerts in the history); the history filtered by outcome and by day; the duty roster with
who is on duty now and next (as the API says for the same now) and an entered holiday marked; a
triggered card naming who its next step pages. Screenshots: docs/screenshots/{find,history,roster}-*."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from core.db import transaction
from core.schema import Alert, CalendarDay
from dispatcher.alerts import Actor, Alerts
from tests.support.web import late_fetch
from tests.test_board_browser import ARTIFACTS, browser, shot, sign_in, system  # noqa: F401 (fixtures)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "zh": {
        "timeline": "处理记录",
        "not_found": "没有编号为 #0000 的呼叫",
        "count": "共 1 条",
        "holiday": "节假日",
        "entered": "人工设定",
        "next": "下一级：调解员 王芳",
        "history": "历史记录",
    },
    "en": {
        "timeline": "Timeline",
        "not_found": "No alert with code #0000",
        "count": "1 found",
        "holiday": "Holiday",
        "entered": "set by the office",
        "next": "Next: Mediator 王芳",
        "history": "History",
    },
}
OPERATOR = Actor("值班员", "web")


def screenshot(page, name: str, db_url: str, full_page: bool = True) -> None:
    if db_url.startswith("sqlite"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
    else:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-pg.png"), full_page=full_page)


def opened_at(dispatcher, at: datetime, code: str, resident: str) -> tuple[int, str]:
    shell = Alerts(dispatcher.alerts.sessions, lambda: at, codes=lambda digits: code)
    with transaction(shell.sessions) as s:
        alert = shell.open_alert(s, resident_id=resident, kind="emergency", reason="alarm", now=at)
        return alert.id, alert.code


def seed_history(dispatcher) -> dict[str, int]:
    """Three closed calls around midnight in Beijing on 2026-12-01, with literal instants."""
    late_nov30, _ = opened_at(dispatcher, datetime(2026, 11, 30, 15, 30, tzinfo=UTC), "3011", "r-zhang")  # 23:30
    late_dec1, _ = opened_at(dispatcher, datetime(2026, 12, 1, 15, 30, tzinfo=UTC), "3012", "r-zhang")  # 23:30
    early_dec1, _ = opened_at(dispatcher, datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "3013", "r-liu")  # 00:30
    dispatcher.alerts.resolve(late_nov30, OPERATOR, "false_alarm", "误按")
    dispatcher.alerts.resolve(late_dec1, OPERATOR, "false_alarm", "误按")
    dispatcher.alerts.resolve(early_dec1, OPERATOR, "helped_at_home", "")
    return {"late_nov30": late_nov30, "late_dec1": late_dec1, "early_dec1": early_dec1}


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_find_by_code_filter_the_history_and_read_the_roster(system, browser, db_url, size, lang):  # noqa: F811
    server, _ = system
    words = WORDS[lang]
    history = seed_history(server.dispatcher)
    beijing_today = server.dispatcher.alerts.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    holiday = beijing_today + timedelta(days=2)
    with transaction(server.dispatcher.alerts.sessions) as s:  # the office's word: a day off, whatever today is
        s.add(CalendarDay(day=holiday, kind="holiday"))
    with transaction(server.dispatcher.alerts.sessions) as s:
        press = server.dispatcher.alerts.open_alert(
            s, resident_id="r-zhang", kind="emergency", reason="alarm", now=server.dispatcher.alerts.now()
        )
        press_id, press_code = press.id, press.code

    # the office's PCs are set to Beijing time and Chinese (the times and date fields read as theirs do)
    page = browser.new_page(
        viewport=SIZES[size],
        is_mobile=size == "phone",
        timezone_id="Asia/Shanghai",
        locale="zh-CN" if lang == "zh" else "en-GB",
    )
    sign_in(page, server)
    if lang == "en":
        page.click("#lang")
        expect(page.locator("html")).to_have_attribute("lang", "en")

    # the triggered card names who its next step pages
    card = page.locator(f"#open-list article[data-alert-id='{press_id}']")
    expect(card.locator(".timer.escalates")).to_contain_text(words["next"])
    shot(page, f"next-tier-{size}-{lang}", db_url)

    # a code as printed, with its #: straight to its timeline
    expect(page.locator("#find-q")).to_be_visible()
    page.fill("#find-q", f"#{press_code}")
    page.press("#find-q", "Enter")
    dialog = page.locator("#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h3")).to_contain_text(f"{words['timeline']} #{press_code}")
    screenshot(page, f"find-{size}-{lang}", db_url, full_page=False)  # the dialog as the screen shows it
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.fill("#find-q", "0000")  # no alert has it (codes start at 1000)
    page.click("#find-go")
    expect(page.locator("#find-hint")).to_have_text(words["not_found"])
    page.fill("#find-q", "3012")  # a closed call's code, from another tab
    page.click("button[data-tab=devices]")
    page.click("#find-go")
    expect(dialog.locator("h3")).to_contain_text(f"{words['timeline']} #3012")
    page.keyboard.press("Escape")
    page.fill("#find-q", "刘德明")  # a name: the matches in the history
    page.click("#find-go")
    expect(page.locator("#tab-history")).to_be_visible()
    expect(page.locator("#history-list article.alert")).to_have_count(1)
    expect(page.locator(f"#history-list article[data-alert-id='{history['early_dec1']}']")).to_be_visible()

    # the history by outcome and by Beijing day: 23:30 on 12-01 is 12-01, 23:30 on 11-30 is not
    page.fill("#q", "")
    page.select_option("#f-outcome", "false_alarm")
    page.fill("#f-since", "2026-12-01")
    page.fill("#f-until", "2026-12-01")
    page.click("#search button")
    expect(page.locator("#history-list article.alert")).to_have_count(1)
    expect(page.locator(f"#history-list article[data-alert-id='{history['late_dec1']}']")).to_be_visible()
    expect(page.locator("#history-count")).to_contain_text(words["count"])
    expect(page.locator("#history-more")).to_be_hidden()
    page.fill("#f-since", "2026-11-30")
    page.click("#search button")
    expect(page.locator("#history-list article.alert")).to_have_count(2)
    screenshot(page, f"history-{size}-{lang}", db_url)

    # the roster: now and next as the API says for the same now, the entered holiday marked
    page.click("button[data-tab=roster]")
    # what the API answered the page, for the page's own now: a shift change between two calls cannot split them
    page.wait_for_function("() => state.roster && state.roster.plans.length > 0")
    plan = page.evaluate("state.roster.plans[0]")
    shown = page.locator(".plan[data-zone='Asia/Shanghai']")
    for person in plan["on_duty"]:
        expect(shown.locator(".duty-now")).to_contain_text(person["name"])
        expect(shown.locator(".duty-now")).to_contain_text(person["phone"])
    for person in plan["next_on_duty"]:
        expect(shown.locator(".duty-next")).to_contain_text(person["name"])
    expect(shown.locator("article.day")).to_have_count(7)
    expect(shown.locator("article.day.is-today")).to_have_attribute("data-date", beijing_today.isoformat())
    marked = shown.locator(f"article.day[data-date='{holiday.isoformat()}']")
    expect(marked).to_have_attribute("data-kind", "holiday")
    expect(marked.locator(".badge.day-kind")).to_have_text(words["holiday"])
    expect(marked.locator(".badge.entered")).to_have_text(words["entered"])
    expect(marked.locator(".shift")).to_contain_text("陈静")  # the holiday's one shift
    expect(shown.locator(".where")).to_contain_text("武林社区")
    if any(not d["known"] for d in plan["days"]):  # late December: next year's holidays are not out yet
        expect(shown.locator(".calendar-unknown")).to_be_visible()
    screenshot(page, f"roster-{size}-{lang}", db_url)
    page.evaluate("localStorage.removeItem('jinqiao.lang')")
    page.close()


def test_a_day_beyond_the_known_years_says_its_holidays_are_unknown(system, browser, db_url):  # noqa: F811
    """The roster tab reads what the API plans; with a year China's calendar has no data for (any
    year far enough ahead) the day says 节假日数据未知, whatever today's date is."""
    server, _ = system
    page = browser.new_page(viewport=SIZES["desktop"])
    sign_in(page, server)
    page.click("button[data-tab=roster]")
    expect(page.locator(".plan article.day")).to_have_count(7)
    far = date(2099, 1, 1)
    page.evaluate(
        """(far) => { state.roster.plans[0].days[1] = { ...state.roster.plans[0].days[1], date: far, known: false,
             today: false }; state.roster.plans[0].unknown_years = [2099]; renderRoster(); }""",
        far.isoformat(),
    )
    day = page.locator(f"article.day[data-date='{far.isoformat()}']")
    expect(day.locator(".badge.unknown")).to_have_text("节假日数据未知")
    expect(page.locator(".calendar-unknown")).to_contain_text("2099年的法定节假日尚未公布或未录入")
    page.close()


def test_the_history_pages_with_more_and_counts_what_matches(system, browser, db_url):  # noqa: F811
    server, _ = system
    at = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
    with transaction(server.dispatcher.alerts.sessions) as s:  # 55 closed calls: rows, nothing to send
        for n in range(55):
            s.add(
                Alert(
                    code=f"{5000 + n}",
                    resident_id="r-liu",
                    kind="emergency",
                    reason="alarm",
                    state="resolved",
                    opened_at=at + timedelta(minutes=n),
                    updated_at=at + timedelta(minutes=n),
                    resolved_at=at + timedelta(minutes=n, seconds=30),
                    resolved_by="值班员 王芳",
                    outcome="family_came",
                )
            )
    page = browser.new_page(viewport=SIZES["phone"], is_mobile=True, timezone_id="Asia/Shanghai")
    sign_in(page, server)
    page.click("button[data-tab=history]")
    page.select_option("#f-outcome", "family_came")
    page.fill("#f-since", "2026-11-15")
    page.fill("#f-until", "2026-11-15")
    page.click("#search button")
    cards = page.locator("#history-list article.alert")
    expect(cards).to_have_count(50)
    expect(page.locator("#history-count")).to_have_text("共 55 条，已显示 50 条")
    expect(cards.first).to_contain_text("#5054")  # newest first
    page.click("#history-more")
    expect(cards).to_have_count(55)
    expect(page.locator("#history-count")).to_have_text("共 55 条，已显示 55 条")
    expect(page.locator("#history-more")).to_be_hidden()
    expect(cards.last).to_contain_text("#5000")
    page.fill("#f-since", "2026-11-16")  # the day after: none, said in words
    page.click("#search button")
    expect(page.locator("#history-list")).to_contain_text("没有符合条件的呼叫")
    page.fill("#f-until", "2026-11-14")  # backwards: said before asking the server
    page.click("#search button")
    expect(page.locator("#history-count")).to_have_text("开始日期不能晚于结束日期")
    page.close()


def test_a_late_answer_to_an_older_search_does_not_replace_the_newer_one(system, browser, db_url):  # noqa: F811
    server, _ = system
    at = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
    with transaction(server.dispatcher.alerts.sessions) as s:  # 55 helped by family, 3 false alarms
        for n in range(58):
            s.add(
                Alert(
                    code=f"{6000 + n}",
                    resident_id="r-liu",
                    kind="emergency",
                    reason="alarm",
                    state="resolved",
                    opened_at=at + timedelta(minutes=n),
                    updated_at=at + timedelta(minutes=n),
                    resolved_at=at + timedelta(minutes=n, seconds=30),
                    resolved_by="值班员 王芳",
                    outcome="family_came" if n < 55 else "false_alarm",
                    note=None if n < 55 else "按错了",
                )
            )
    page = browser.new_page(viewport=SIZES["desktop"], timezone_id="Asia/Shanghai")
    # the unfiltered search (the tab's first load) answers after the operator's own search and its 更多
    page.add_init_script(late_fetch('url.startsWith("/api/v1/alerts?") && !url.includes("outcome=")'))
    sign_in(page, server)
    page.click("button[data-tab=history]")  # the unfiltered search: slow
    page.select_option("#f-outcome", "family_came")
    page.click("#search button")
    cards = page.locator("#history-list article.alert")
    expect(page.locator("#history-count")).to_have_text("共 55 条，已显示 50 条")
    page.click("#history-more")
    expect(page.locator("#history-count")).to_have_text("共 55 条，已显示 55 条")
    page.wait_for_function("() => window.lateAnswersRead === 1")  # the unfiltered answer is back: dropped
    expect(page.locator("#history-count")).to_have_text("共 55 条，已显示 55 条")
    expect(cards).to_have_count(55)
    expect(page.locator("#history-list")).not_to_contain_text("#6057")  # a false alarm: not what was asked
    page.close()
