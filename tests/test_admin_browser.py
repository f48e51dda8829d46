"""The admin page in a real headless Chromium: an admin manages an account and sees each change in
the audit list, fixes a resident's phone after the server's message shows by the field, and adds a
roster shift; nobody else reaches the page. Desktop and phone, Chinese and English."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.web import PASSWORD, Served, late_fetch, make_users, web_system
from tests.test_board_browser import ARTIFACTS, browser  # noqa: F401  (the fixture)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def served(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    make_users(dispatcher.alerts.sessions, ["viewer", "operator", "admin"])
    server = Served(app).start()
    yield server
    server.stop()


def sign_in(page, server, name: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page).to_have_url(server.url + "/")


def screenshot(page, name: str, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    else:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-pg.png"), full_page=True)


def to_english(page) -> None:
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def open_entry(page, server, lang: str, tab: str, entry_id: str) -> None:
    """Signed in as admin, /admin in `lang`, and the form of one registry entry open on its tab."""
    sign_in(page, server, "admin")
    page.goto(server.url + "/admin")
    if lang == "en":
        to_english(page)
    page.click(f'[data-tab="{tab}"]')
    page.click(f"#edit-{entry_id}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_manages_an_account_and_sees_it_audited(served, browser, db_url, size, lang):  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    page.on("dialog", lambda d: d.accept("对接系统" if d.type == "prompt" else None))
    sign_in(page, served, "admin")
    expect(page.locator("#admin-link")).to_be_visible()
    page.click("#admin-link")
    expect(page).to_have_url(served.url + "/admin")
    if lang == "en":
        to_english(page)
    page.fill("#ua-name", "zhou")
    page.fill("#ua-display", "周敏")
    page.select_option("#ua-role", "viewer")
    page.fill("#ua-password", "short")
    page.click("#user-add button[type=submit]")
    expect(page.locator('#user-add [data-error-for="password"]')).to_contain_text(
        "至少需要 10" if lang == "zh" else "at least 10"
    )
    expect(page.locator("#ua-name")).to_have_value("zhou")  # nothing typed is lost
    page.fill("#ua-password", PASSWORD)
    page.click("#user-add button[type=submit]")
    expect(page.locator("#dn-zhou")).to_have_value("周敏")
    page.select_option("#role-zhou", "operator")
    page.click("#save-zhou")
    expect(page.locator("#ok-zhou")).to_contain_text("已保存" if lang == "zh" else "Saved")
    page.fill("#pw-zhou", "a brand new password")
    page.click("#reset-zhou")
    expect(page.locator("#ok-zhou")).to_contain_text("密码已重置" if lang == "zh" else "Password reset")
    page.click("#token-zhou")
    expect(page.locator("#token-shown")).to_contain_text("jq_")
    token_row = page.locator("#token-list tr", has_text="zhou").first
    token_row.locator("button").click()
    expect(page.locator("#token-list tr", has_text="zhou").first.locator("button")).to_have_count(0)
    screenshot(page, f"admin-users-{size}-{lang}", db_url)
    page.click('[data-tab="audit"]')
    rows = page.locator("#audit-list tbody tr")
    expect(rows.first).to_contain_text("zhou")
    expected = (
        ["吊销令牌", "新建令牌", "重置密码", "更改角色", "添加用户"]
        if lang == "zh"
        else ["Token revoked", "Token created", "Password reset", "Role changed", "User added"]
    )
    for i, text in enumerate(expected):
        expect(rows.nth(i)).to_contain_text(text)
        expect(rows.nth(i)).to_contain_text("admin")
    screenshot(page, f"admin-audit-{size}-{lang}", db_url)
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bad_phone_is_shown_by_its_field_then_fixed_and_a_shift_added(served, browser, db_url, size, lang):  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    page.on("dialog", lambda d: d.accept())
    open_entry(page, served, lang, "residents", "r-liu")
    page.fill("#res-medical", "高血压，每天早上服药")
    page.fill("#res-phone", "12345")
    page.click("#contact-add")
    contact = page.locator("#entry-form [data-contact]").last
    contact.locator("input").nth(0).fill("刘小明")
    contact.locator("input").nth(1).fill("555")
    page.click("#entry-save")
    error = page.locator('#entry-form [data-error-for="phone"]')
    expect(error).to_be_visible()
    expect(contact.locator(".field-error").nth(1)).to_be_visible()  # by the contact's own phone
    contact.locator("button").click()  # that contact is taken out again
    expect(error).to_contain_text("+86 开头" if lang == "zh" else "E.164")
    expect(page.locator("#res-medical")).to_have_value("高血压，每天早上服药")
    screenshot(page, f"admin-resident-{size}-{lang}", db_url)
    page.fill("#res-phone", "+8613900000123")
    page.click("#entry-save")
    expect(page.locator("#entry-saved")).to_be_visible()
    assert page.request.get(served.url + "/api/v1/residents/r-liu").json()["phone"] == "+8613900000123"
    page.click('[data-tab="roster"]')
    page.click("#shift-add-weekend")
    page.locator('#shifts-weekend [data-shift="weekend"]').last.locator("input").first.fill("09:00")
    page.click("#roster-save")
    expect(page.locator("#roster-saved")).to_be_visible()
    weekend = page.request.get(served.url + "/api/v1/roster").json()["weekend"]
    assert any(s["from"] == "09:00" and s["to"] == "20:00" for s in weekend)
    page.click('[data-tab="audit"]')
    expect(page.locator("#audit-list tbody tr").first).to_contain_text("hotline")
    page.close()


def test_nobody_but_an_admin_reaches_the_admin_page(served, browser):  # noqa: F811
    page = browser.new_page()
    page.goto(served.url + "/admin")
    expect(page).to_have_url(served.url + "/login")
    sign_in(page, served, "operator")
    expect(page.locator("#admin-link")).to_be_hidden()
    answer = page.goto(served.url + "/admin")
    assert answer is not None and answer.status == 403
    expect(page.locator("body")).to_contain_text("只有管理员")
    page.close()


def test_an_admin_marks_a_contact_as_holding_a_key_and_it_stays_through_a_save(served, browser):  # noqa: F811
    page = browser.new_page(viewport=SIZES["desktop"])
    sign_in(page, served, "admin")
    page.goto(served.url + "/admin")
    page.click('[data-tab="residents"]')
    page.click("#edit-r-zhang")
    page.check("#contact-0-has_key")
    page.click("#entry-save")
    expect(page.locator("#entry-saved")).to_be_visible()
    card = page.request.get(served.url + "/api/v1/residents/r-zhang").json()
    assert card["contacts"][0]["has_key"] is True
    page.click("#edit-r-zhang")  # the form shows it again, and saving without a change keeps it
    expect(page.locator("#contact-0-has_key")).to_be_checked()
    page.click("#entry-save")
    expect(page.locator("#entry-saved")).to_be_visible()
    assert page.request.get(served.url + "/api/v1/residents/r-zhang").json()["contacts"][0]["has_key"] is True
    page.close()


def test_a_tab_picked_while_the_page_loads_stays_picked(served, browser):  # noqa: F811
    page = browser.new_page()
    sign_in(page, served, "admin")
    page.add_init_script(late_fetch('url === "/api/v1/me"'))  # the page's start answers late
    page.goto(served.url + "/admin")
    page.click('[data-tab="residents"]')  # before the page has finished starting
    page.click("#edit-r-liu")
    page.wait_for_function("() => window.lateAnswersRead === 1")  # the start has run on since
    expect(page.locator("#tab-registry")).to_be_visible()
    expect(page.locator("#tab-users")).to_be_hidden()
    expect(page.locator("#res-phone")).to_be_visible()  # the resident being edited is still open
    page.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_gives_a_volunteer_channels_of_their_own(served, browser, db_url, size, lang):  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    open_entry(page, served, lang, "responders", "pm-zhao")
    page.fill("#rsp-channels", "aliyun_sms, fax")
    page.click("#entry-save")
    error = page.locator('#entry-form [data-error-for="channels"]')
    expect(error).to_contain_text("channel 'fax': use one of sms, voice")
    page.fill("#rsp-channels", "aliyun_sms，voice")  # a Chinese comma is read as one too
    page.click("#entry-save")
    expect(page.locator("#entry-saved")).to_be_visible()
    assert page.request.get(served.url + "/api/v1/responders/pm-zhao").json()["channels"] == ["aliyun_sms", "voice"]
    expect(page.locator("#entry-list")).to_contain_text("aliyun_sms → voice")
    expect(page.locator("#entry-list")).to_contain_text(
        "通知方式按各级设置" if lang == "zh" else "Channels: each tier's"
    )  # the others
    screenshot(page, f"admin-responder-channels-{size}-{lang}", db_url)
    page.click("#edit-pm-zhao")
    page.fill("#rsp-channels", "")  # emptied: the tiers' lists again
    page.click("#entry-save")
    expect(page.locator("#entry-saved")).to_be_visible()
    assert page.request.get(served.url + "/api/v1/responders/pm-zhao").json().get("channels") is None
    page.close()
