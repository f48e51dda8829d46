"""The resident's record (档案表) in a real headless Chromium: an admin fills in the record fields in
/admin's resident form (the health fields one each among them), sees the change head the record's
history, and the board's card of a call shows the record without the ID number. Desktop and phone, Chinese and
English; the screenshots are docs/screenshots/record-{form,history,card,handoff}-<size>-<lang>.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.web import Served, make_users, open_alert, web_system
from tests.test_admin_browser import SIZES, open_entry, screenshot, sign_in
from tests.test_board_browser import browser  # noqa: F401  (the fixture)


@pytest.fixture
def served(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    make_users(dispatcher.alerts.sessions, ["viewer", "operator", "admin"])
    server = Served(app).start()
    server.dispatcher = dispatcher
    yield server
    server.stop()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_fills_in_the_record_and_the_card_of_a_call_shows_it(served, browser, db_url, size, lang):  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    open_entry(page, served, lang, "residents", "r-zhang")
    page.select_option("#res-sex", "female")
    page.fill("#res-birth-year", "1942")
    page.select_option("#res-care", "partly_dependent")
    page.select_option("#res-household", "empty_nest")  # while 独居 is still ticked: refused by the field
    page.select_option("#res-mobility", "walks_with_aid")
    page.fill("#res-conditions", "高血压、糖尿病")
    page.fill("#res-allergies", "青霉素")
    page.fill("#res-medicines", "硝苯地平 每日一次")
    page.fill("#res-needs", "助餐、助浴")
    page.fill("#res-hospital", "浙江省人民医院" * 29)  # 203 characters: more than the field holds
    page.fill("#res-id-number", "110105194912310021")
    page.fill("#res-consent-by", "张伟（儿子）")
    page.fill("#contact-0-country", "澳大利亚")
    page.fill("#contact-0-timezone", "Sydney")
    page.select_option("#contact-0-language", "en")
    page.click("#entry-save")  # a consent without its day and a zone that is none are refused by their fields
    expect(page.locator('#entry-form [data-error-for="consent.given"]')).to_be_visible()
    zone = page.locator('#entry-form [data-error-for="contacts.0.timezone"]')
    expect(zone).to_contain_text("没有“Sydney”这个时区" if lang == "zh" else "unknown time zone 'Sydney'")
    household = page.locator('#entry-form [data-error-for="household"]')
    expect(household).to_contain_text("请取消勾选“独居”" if lang == "zh" else "set lives_alone to false")
    id_error = page.locator('#entry-form [data-error-for="id_number"]')
    expect(id_error).to_contain_text("校验不符" if lang == "zh" else "does not add up")
    hospital = page.locator('#entry-form [data-error-for="hospital"]')
    expect(hospital).to_have_text("最多 200 个字" if lang == "zh" else "String should have at most 200 characters")
    screenshot(page, f"record-form-{size}-{lang}", db_url)
    page.fill("#res-consent-given", "2026-11-01")
    page.fill("#res-hospital", "浙江省人民医院")
    page.fill("#contact-0-timezone", "Australia/Sydney")
    page.fill("#res-id-number", "11010519491231002X")
    page.uncheck("#res-alone")
    page.click("#entry-save")
    expect(page.locator("#entry-saved")).to_be_visible()
    change = page.locator("#record-history .record-history > li").first  # the change just made heads the list
    expect(change).to_contain_text("admin")
    expect(change).to_contain_text(
        ("身份证号（仅管理员可见）" if lang == "zh" else "ID number (admins only)") + ": – → ***002X"
    )
    expect(change).not_to_contain_text("11010519491231002X")
    expect(change).to_contain_text(("慢性病" if lang == "zh" else "Chronic conditions") + ": – → 高血压、糖尿病")
    mobility = "借助拐杖或助行器" if lang == "zh" else "walks with a stick or walker"
    expect(change).to_contain_text(("行动能力" if lang == "zh" else "Mobility") + f": – → {mobility}")
    screenshot(page, f"record-history-{size}-{lang}", db_url)
    card = page.request.get(served.url + "/api/v1/residents/r-zhang").json()
    assert (card["sex"], card["birth_year"], card["care_level"]) == ("female", 1942, "partly_dependent")
    assert (card["conditions"], card["allergies"], card["mobility"], card["hospital"], card["needs"]) == (
        "高血压、糖尿病",
        "青霉素",
        "walks_with_aid",
        "浙江省人民医院",
        "助餐、助浴",
    )
    assert card["id_number"] == "11010519491231002X"  # the admin's own view
    assert card["consent"] == {"by": "张伟（儿子）", "given": "2026-11-01"} and card["household"] == "empty_nest"
    son = card["contacts"][0]
    assert (son["country"], son["timezone"], son["language"]) == ("澳大利亚", "Australia/Sydney", "en")

    alert_id = open_alert(served.dispatcher)
    page.goto(served.url + "/")  # the language chosen on /admin holds on the board
    page.locator('#open-list [data-action="card"][data-resident="r-zhang"]').first.click()
    line = page.locator("#card-record")
    if lang == "zh":
        expect(line).to_have_text("女 · 1942年生 · 半失能 · 空巢 · 同意: 张伟（儿子） 2026-11-01")
    else:
        expect(line).to_have_text(
            "female · born 1942 · partly dependent · empty nest · consent: 张伟（儿子） 2026-11-01"
        )
    expect(page.locator("#dialog")).not_to_contain_text("002X")  # the board never shows the ID number
    expect(page.locator("#card-conditions")).to_have_text("高血压、糖尿病")
    expect(page.locator("#card-allergies")).to_have_text("青霉素")
    expect(page.locator("#card-medicines")).to_have_text("硝苯地平 每日一次")
    expect(page.locator("#card-mobility")).to_have_text(mobility)
    expect(page.locator("#card-hospital")).to_have_text("浙江省人民医院")
    expect(page.locator("#card-needs")).to_have_text("助餐、助浴")
    notes = page.locator("#dialog dt", has_text="其他健康情况" if lang == "zh" else "Other medical notes")
    expect(notes).to_have_count(1)  # beside named conditions, the notes are the other ones
    expect(page.locator("#card-medical")).to_have_text("高血压；青霉素过敏")
    screenshot(page, f"record-card-{size}-{lang}", db_url)
    page.locator("#dialog form button").click()
    page.locator('#open-list [data-action="handoff"]').first.click()  # what the ambulance crew is told
    panel = page.locator("#dialog-body .handoff-panel")
    expect(panel.locator("#handoff-allergies")).to_have_text("青霉素")
    expect(panel.locator("#handoff-mobility")).to_have_text(mobility)
    expect(panel.locator("#handoff-hospital")).to_have_text("浙江省人民医院")
    expect(panel).not_to_contain_text("助餐")  # needs and services are for the record, not the crew
    text = page.request.get(served.url + f"/api/v1/alerts/{alert_id}/handoff?lang={lang}").json()["text"]
    assert ("过敏：青霉素" if lang == "zh" else "Allergies: 青霉素") in text
    screenshot(page, f"record-handoff-{size}-{lang}", db_url)
    page.close()


def test_a_viewers_card_has_no_health_fields_and_the_admin_audit_list_shows_who_opened_it(served, browser, db_url):  # noqa: F811
    from registry.edit import RegistryEditor

    def set_record(doc: dict) -> None:
        zhang = next(r for r in doc["residents"] if r["id"] == "r-zhang")
        zhang.update(sex="female", birth_year=1942, care_level="dependent", id_number="11010519491231002X")
        zhang.update(allergies="青霉素", mobility="wheelchair", hospital="浙江省人民医院")

    RegistryEditor(served.dispatcher.alerts.sessions).change(set_record)
    open_alert(served.dispatcher)
    for role in ("viewer", "operator"):
        page = browser.new_page(viewport=SIZES["desktop"])
        sign_in(page, served, role)
        page.locator('#open-list [data-action="card"][data-resident="r-zhang"]').first.click()
        line = page.locator("#card-record")
        if role == "viewer":
            expect(line).to_have_text("女 · 1942年生 · 未记录同意")  # no care level
            expect(page.locator("#card-medical")).to_have_count(0)
            expect(page.locator("#dialog")).not_to_contain_text("青霉素")
            expect(page.locator("#dialog")).not_to_contain_text("轮椅")
            expect(page.locator("#dialog")).not_to_contain_text("浙江省人民医院")
            expect(page.locator("#card-allergies")).to_have_count(0)
            screenshot(page, "record-card-viewer-desktop-zh", db_url)
        else:
            expect(line).to_have_text("女 · 1942年生 · 失能 · 未记录同意")
            expect(page.locator("#card-medical")).to_have_text("高血压；青霉素过敏")
            expect(page.locator("#card-allergies")).to_have_text("青霉素")
            expect(page.locator("#card-mobility")).to_have_text("坐轮椅")
        expect(page.locator("#dialog")).not_to_contain_text("002X")
        page.close()
    page = browser.new_page(viewport=SIZES["desktop"])
    sign_in(page, served, "admin")
    page.goto(served.url + "/admin")
    page.click('[data-tab="audit"]')
    opened = page.locator("#audit-list tbody tr").first
    expect(opened).to_contain_text("查看档案")
    expect(opened).to_contain_text("operator")  # the viewer, given no health fields, left no entry
    expect(page.locator("#audit-list tbody tr", has_text="查看档案")).to_have_count(1)
    page.close()
