"""The operator's console in a real headless Chromium (see tests/test_board_browser.py for the system
it drives): live updates never lose what the operator is doing, the alarm rings until someone takes
the call or mutes it, the devices tab says what is true of each device, and maintenance items come
live. Screenshots at desktop and phone size, in Chinese and English, go to test-artifacts/."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.db import transaction
from core.schema import Device, MaintenanceItem
from devices.protocol import Topics
from dispatcher.alerts import Actor
from tests.support.mqtt_peer import Peer
from tests.support.web import PASSWORD, late_fetch, open_alert, refused_to
from tests.test_board_browser import api_json, browser, shot, sign_in, system  # noqa: F401 (fixtures, see pyproject)

T = Topics("jinqiao")
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def beeps(page) -> int:
    return page.evaluate("window.jinqiaoBeeps || 0")


def test_a_note_being_typed_and_an_outcome_picked_survive_live_updates_and_resolve_with_them(system, browser, db_url):
    server, mosquitto = system
    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, server)
    peer = Peer(mosquitto.port, "pgr-0001", subscribe=[T.feedback("pgr-0001")])
    try:
        peer.publish(T.event("pgr-0001"), {"id": "press-keep-1", "type": "alarm"})
        card = page.locator("#open-list article.alert[data-state=triggered]")
        expect(card).to_be_visible()
        alert_id = card.get_attribute("data-alert-id")
        page.evaluate("window.theCard = document.querySelector('#open-list article.alert')")
        page.select_option(f"#outcome-{alert_id}", "helped_at_home")
        note = page.locator(f"#note-{alert_id}")
        note.click()
        page.keyboard.type("邻居已上门，老人")
        page.keyboard.press("Shift+ArrowLeft")
        page.keyboard.press("Shift+ArrowLeft")  # "老人" selected, as if about to be typed over

        # while the operator is at it: three more presses, and a volunteer acknowledges by SMS
        for n in range(3):
            peer.publish(T.event("pgr-0001"), {"id": f"press-keep-repeat-{n}", "type": "alarm"})
        expect(card.locator(".repeats")).to_contain_text("3")
        server.dispatcher.alerts.acknowledge(int(alert_id), Actor("李建国", "sms"))
        taken = page.locator(f"#open-list article[data-alert-id='{alert_id}'][data-state=acknowledged]")
        expect(taken.locator(".by")).to_have_text("李建国")
        expect(taken.locator("button[data-action=ack]")).to_have_count(0)  # the card changed around the note

        assert page.evaluate("document.activeElement.id") == f"note-{alert_id}"
        assert note.input_value() == "邻居已上门，老人"
        assert page.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [6, 8]
        assert page.locator(f"#outcome-{alert_id}").input_value() == "helped_at_home"
        assert page.evaluate("window.theCard.isConnected && window.theCard.dataset.state") == "acknowledged"
        page.keyboard.type("无碍")  # typing goes on where it was: over the selection
        assert note.input_value() == "邻居已上门，无碍"
        shot(page, "console-note-kept", db_url)

        taken.locator("button[data-action=resolve]").click()
        expect(page.locator("#open-list")).to_contain_text("目前没有待处理的呼叫")
        done = api_json(page, f"{server.url}/api/v1/alerts/{alert_id}", until=lambda a: a["state"] == "resolved")
        assert (done["state"], done["outcome"], done["note"]) == ("resolved", "helped_at_home", "邻居已上门，无碍")
    finally:
        peer.close()


def test_the_alarm_rings_until_acknowledged_or_muted_and_the_browser_notifies(system, browser, db_url):
    server, _ = system
    context = browser.new_context(viewport=DESKTOP, permissions=["notifications"])
    page = context.new_page()
    page.clock.install()  # the page's timers under the test's hand: run_for moves them on at once
    page.clock.resume()
    sign_in(page, server)
    sound = page.locator("#sound")
    page.click("#sound")  # the page's first gesture: only after one may a browser play sound
    expect(sound).to_have_text("声音已开")
    expect(page.locator("#mute")).to_be_hidden()
    assert beeps(page) == 0

    first = open_alert(server.dispatcher, resident_id="r-zhang")
    expect(sound).to_have_attribute("data-state", "sound_ringing")
    expect(sound).to_have_text("响铃中")
    page.clock.run_for(12_500)
    assert beeps(page) >= 4  # it rang at once and every few seconds since
    assert page.evaluate("window.jinqiaoNotified") == 1
    shot(page, "console-ringing", db_url)

    page.click(f"#open-list article[data-alert-id='{first}'] button[data-action=ack]")
    expect(sound).to_have_attribute("data-state", "sound_on")
    expect(page.locator("#mute")).to_be_hidden()
    after_ack = beeps(page)
    page.clock.run_for(20_000)
    assert beeps(page) == after_ack  # taken: silent

    second = open_alert(server.dispatcher, resident_id="r-liu")  # a new call rings again
    expect(sound).to_have_attribute("data-state", "sound_ringing")
    page.clock.run_for(8_500)
    assert beeps(page) >= after_ack + 2
    page.click("#mute")
    expect(sound).to_have_attribute("data-state", "sound_muted")
    expect(sound).to_have_text("已静音")
    muted = beeps(page)
    page.clock.run_for(20_000)
    assert beeps(page) == muted  # muted, though nobody has taken it yet
    expect(page.locator(f"#open-list article[data-alert-id='{second}'][data-state=triggered]")).to_be_visible()
    assert page.evaluate("window.jinqiaoNotified") == 2
    context.close()


def test_a_board_answer_from_before_the_ack_that_arrives_after_it_does_not_ring_again(system, browser, db_url):
    server, _ = system
    page = browser.new_page(viewport=DESKTOP)
    page.add_init_script(late_fetch('url.startsWith("/api/v1/board") && window.slowLink === true'))
    sign_in(page, server)
    page.click("#sound")
    sound = page.locator("#sound")
    first = open_alert(server.dispatcher, resident_id="r-zhang")
    expect(sound).to_have_attribute("data-state", "sound_ringing")
    page.evaluate("() => { window.slowLink = true; loadBoard(); window.slowLink = false; }")  # asked while ringing
    page.click(f"#open-list article[data-alert-id='{first}'] button[data-action=ack]")
    expect(sound).to_have_attribute("data-state", "sound_on")
    page.wait_for_function("() => window.lateAnswersRead === 1")  # the answer from before the ack is in
    expect(sound).to_have_attribute("data-state", "sound_on")
    expect(page.locator(f"#open-list article[data-alert-id='{first}']")).to_have_attribute("data-state", "acknowledged")
    page.close()


# Chromium as Playwright drives it lets a page play sound at once; an office PC's browser does not
# before the page's first click or key press. This is that rule, in front of the real AudioContext.
AUTOPLAY_RULE = """
const Real = window.AudioContext;
window.AudioContext = class extends Real {
  get state() { return navigator.userActivation.hasBeenActive ? super.state : "suspended"; }
  resume() { return navigator.userActivation.hasBeenActive ? super.resume() : new Promise(() => {}); }
};
"""


def test_where_the_browser_allows_sound_only_after_a_click_the_board_asks_for_one(system, browser, db_url):
    server, _ = system
    page = browser.new_page(viewport=DESKTOP)
    page.add_init_script(AUTOPLAY_RULE)
    page.goto(server.url + "/login")  # signed in without a click on the board's own page
    page.evaluate(
        """async (pw) => { await fetch('/api/v1/session', {method: 'POST', headers: {'content-type': 'application/json'},
            body: JSON.stringify({name: 'operator', password: pw})}); }""",
        PASSWORD,
    )
    page.goto(server.url + "/")
    sound = page.locator("#sound")
    expect(sound).to_have_text("点击开启声音")
    alert_id = open_alert(server.dispatcher, resident_id="r-zhang")
    expect(page.locator(f"#open-list article[data-alert-id='{alert_id}']")).to_be_visible()
    expect(sound).to_have_attribute("data-state", "sound_locked")  # it cannot ring, and says so
    assert beeps(page) == 0
    shot(page, "console-sound-locked", db_url)
    sound.click()
    expect(sound).to_have_attribute("data-state", "sound_ringing")
    assert beeps(page) >= 1


def test_devices_by_resident_name_say_what_is_true_and_maintenance_items_come_live(system, browser, db_url):
    server, mosquitto = system
    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, server)
    page.click("button[data-tab=devices]")
    pager, zigbee = page.locator("tr[data-device=pgr-0001]"), page.locator("tr[data-device=z2m-sos-liu]")
    expect(zigbee).to_contain_text("刘德明")
    expect(zigbee).to_contain_text("从未上线")  # never heard from: not 正常
    expect(zigbee).to_contain_text("无回执")  # and a Zigbee button shows the resident nothing
    expect(pager).to_contain_text("从未上线")
    assert page.locator("tr[data-device]").first.get_attribute("data-device") == "z2m-sos-liu"  # 刘 before 张
    page.evaluate("window.notReloaded = true")

    peer = Peer(mosquitto.port, "pgr-0001")
    try:  # a low battery, while the tab is open: the stream brings it, not the 30-second look
        peer.publish(T.event("pgr-0001"), {"id": "battery-console-1", "type": "battery_low", "battery": 12})
    finally:
        peer.close()
    item = page.locator("#maintenance-list tr[data-item]")
    expect(item).to_contain_text("张秀英")
    expect(pager).to_have_attribute("data-condition", "low_battery")
    expect(pager).to_contain_text("电量低")
    item_id = item.get_attribute("data-item")

    note = page.locator(f"#mnote-{item_id}")
    note.click()
    page.keyboard.type("明天换电池")
    with transaction(server.dispatcher.alerts.sessions) as s:  # another item opens elsewhere
        s.add(
            MaintenanceItem(
                device_id="z2m-sos-liu",
                resident_id="r-liu",
                reason="battery_low",
                battery=8,
                source_event=0,
                opened_at=datetime.now(timezone.utc),
            )
        )
    expect(page.locator("#maintenance-list tr[data-item]")).to_have_count(2)
    expect(zigbee).to_contain_text("电量低")  # an open item: low battery, though it never said so itself
    assert note.input_value() == "明天换电池"
    assert page.evaluate("document.activeElement.id") == f"mnote-{item_id}"
    assert page.evaluate("window.notReloaded") is True
    shot(page, "console-devices", db_url)

    page.click(f"#maintenance-list tr[data-item='{item_id}'] [data-action=close-item]")
    expect(page.locator("#maintenance-list tr[data-item]")).to_have_count(1)
    closed = page.request.get(server.url + "/api/v1/supervision/maintenance?state=closed").json()
    assert [(c["id"], c["note"]) for c in closed] == [(int(item_id), "明天换电池")]
    expect(pager).to_contain_text("电量低")  # its last reading, 12%, is low all the same


@pytest.mark.slow
def test_screenshots_of_the_board_and_the_devices_tab_at_desktop_and_phone_size_in_both_languages(
    system, browser, db_url
):
    server, _ = system
    now = datetime.now(timezone.utc)
    with transaction(server.dispatcher.alerts.sessions) as s:  # a device that says it is offline, one low
        s.execute(update(Device).where(Device.id == "pgr-0001").values(last_seen_at=now, battery=15))
        s.execute(
            update(Device)
            .where(Device.id == "z2m-sos-liu")
            .values(status="offline", status_at=now - timedelta(minutes=20), last_seen_at=now - timedelta(minutes=20))
        )
    zhang = open_alert(server.dispatcher, resident_id="r-zhang")
    acked = open_alert(server.dispatcher, resident_id="r-liu")
    server.dispatcher.alerts.acknowledge(acked, Actor("李建国", "sms"))
    refused_to(server.dispatcher.alerts.sessions, zhang, "李建国")  # as the outbox records a provider's refusal
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_page(viewport=viewport, is_mobile=size == "phone")
        sign_in(page, server)
        for lang in ("zh", "en"):
            if lang == "en":
                page.click("#lang")
                expect(page.locator("#open-list")).to_contain_text("Acknowledged")
            page.click("button[data-tab=open]")
            expect(page.locator("#open-list article.alert")).to_have_count(3)  # and the offline alert
            expect(page.locator("#open-list .countdown.info")).to_have_count(1)  # the ack's expiry: information
            looks = page.evaluate(
                """() => ['.countdown.info', '.countdown.urgent'].map((sel) => {
                    const st = getComputedStyle(document.querySelector('#open-list ' + sel));
                    return [st.color, st.fontWeight]; })"""
            )
            (info_color, info_weight), (urgent_color, urgent_weight) = looks
            assert info_color != urgent_color and int(info_weight) < 600 <= int(urgent_weight), looks
            said = (
                "阿里云对此号码的额度已用完，改由Twilio发送"
                if lang == "zh"
                else "Aliyun's limit for this number is used up; sent by Twilio instead"
            )
            expect(page.locator("#open-list .refused")).to_have_text([said])
            shot(page, f"board-{size}-{lang}", db_url)
            page.click("button[data-tab=devices]")
            expect(page.locator("tr[data-device]")).to_have_count(2)
            shot(page, f"devices-{size}-{lang}", db_url)
        page.evaluate("localStorage.removeItem('jinqiao.lang')")
        page.close()


@pytest.mark.slow
def test_docs_render_swagger_ui_from_the_apps_own_files_under_its_strict_policy(system, browser, db_url):
    server, _ = system
    page = browser.new_page(viewport=DESKTOP)
    refused, elsewhere = [], []
    page.on("console", lambda m: "Content Security Policy" in m.text and refused.append(m.text))
    page.on(
        "request",
        lambda r: not r.url.startswith(server.url) and not r.url.startswith("data:") and elsewhere.append(r.url),
    )
    sign_in(page, server)
    page.goto(server.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Jinqiao")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    shot(page, "console-docs", db_url)
    assert refused == [] and elsewhere == []


def test_a_viewer_sees_the_calls_but_no_action_on_them(system, browser, db_url):
    server, _ = system
    from tests.support.web import make_users

    make_users(server.dispatcher.alerts.sessions, ["viewer"])
    alert_id = open_alert(server.dispatcher, resident_id="r-zhang")
    page = browser.new_page(viewport=PHONE, is_mobile=True)
    sign_in(page, server, "viewer")
    card = page.locator(f"#open-list article[data-alert-id='{alert_id}']")
    expect(card).to_contain_text("张秀英")
    for control in ("button[data-action=ack]", "button[data-action=resolve]", "select.outcome", "input.note"):
        expect(card.locator(control)).to_have_count(0)
    expect(page.locator("#me")).to_contain_text("只读账户")
