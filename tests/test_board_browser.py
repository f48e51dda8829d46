"""The board in a real headless Chromium (Debian's, driven by Playwright): sign in; a press on a
real MQTT broker through the real gateway shows on the board without reloading; the operator
acknowledges in one click; the device is told `acknowledged`. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from devices.protocol import Topics
from dispatcher.service import build_dispatcher
from gateway.service import Gateway
from jinqiao.db import session_factory
from jinqiao.registry import import_registry
from jinqiao.runtime import dispatcher_routers
from jinqiao.settings import load_settings
from jinqiao.web import Readiness, create_app
from tests.support.mqtt_peer import Peer
from tests.support.services import find_binary
from tests.support.web import PASSWORD, Served, make_users

T = Topics("jinqiao")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        try:
            return find_binary(name)
        except FileNotFoundError:
            pass
    raise FileNotFoundError("chromium is not installed (scripts/test.sh installs Debian's chromium)")


@pytest.fixture
def system(db_url, engine, mosquitto, example_registry):
    settings = load_settings(database_url=db_url, mqtt_url=mosquitto.url)
    import_registry(session_factory(engine), example_registry)
    dispatcher = build_dispatcher(settings, engine)
    gateway = Gateway(engine, mosquitto.url, "jinqiao", "board")
    gateway.ingest.on_stored = dispatcher.engine.wake
    app = create_app(Readiness(engine, {"broker": gateway.link.connected}), dispatcher_routers(dispatcher, engine))
    make_users(session_factory(engine), ["operator"])
    dispatcher.engine.start()
    gateway.start()
    server = Served(app).start()
    assert gateway.link.wait_connected(10)
    holder = {"server": server}

    def restart(while_down=lambda: None) -> Served:
        """A new web server on the same port, as after `systemctl restart`."""
        holder["server"].stop()
        while_down()
        again = create_app(Readiness(engine), dispatcher_routers(dispatcher, engine))
        holder["server"] = Served(again, port=server.port).start()
        return holder["server"]

    server.restart = restart
    server.dispatcher = dispatcher
    yield server, mosquitto
    holder["server"].stop()
    gateway.stop()
    dispatcher.engine.stop()


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def shot(page, name: str, db_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{db_url.split(':')[0].split('+')[0]}.png"), full_page=True)


def test_sign_in_press_shows_live_acknowledge_and_the_device_is_told(system, browser, db_url):
    server, mosquitto = system
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(server.url + "/")
    expect(page).to_have_url(server.url + "/login")
    page.fill("#name", "operator")
    page.fill("#password", "not the password")
    page.click("#submit")
    expect(page.locator("#error")).to_have_text("用户名或密码错误")
    page.fill("#password", PASSWORD)
    shot(page, "1-sign-in", db_url)
    page.click("#submit")
    expect(page).to_have_url(server.url + "/")
    expect(page.locator("#live.on")).to_be_visible()  # the stream is connected
    expect(page.locator("#open-list")).to_contain_text("目前没有待处理的呼叫")
    page.evaluate("window.notReloaded = true")

    peer = Peer(mosquitto.port, "pgr-0001", subscribe=[T.feedback("pgr-0001")])
    try:
        peer.publish(T.event("pgr-0001"), {"id": "press-board-1", "type": "alarm"})
        card = page.locator("article.alert[data-state=triggered]")
        expect(card).to_be_visible(timeout=5000)  # live, without reloading
        assert page.evaluate("window.notReloaded") is True
        expect(card).to_contain_text("张")  # the resident's name
        expect(card).to_contain_text("紧急呼叫")
        expect(card.locator(".notified li").first).to_be_visible()  # who was reached
        page.wait_for_function("document.title.includes('新紧急呼叫')", timeout=3000)  # the tab flashes
        assert page.evaluate("window.jinqiaoBeeps") == 1  # and it sounded, once
        expect(card).to_contain_text("升级倒计时 → 调解员")  # what happens next
        shot(page, "2-press-shown", db_url)

        card.locator("button[data-action=ack]").click()
        expect(page.locator("article.alert[data-state=acknowledged]")).to_be_visible(timeout=5000)
        expect(page.locator("article.alert[data-state=acknowledged] .by")).to_have_text("operator")
        peer.wait_for(lambda p: [f for f in p.feedback() if f["state"] == "acknowledged"
                                 and f["ref"] == "press-board-1"], timeout=10)

        page.click("article.alert[data-state=acknowledged] [data-action=timeline]")
        expect(page.locator("#dialog .timeline")).to_contain_text("acknowledged operator (web)")
        page.keyboard.press("Escape")
        shot(page, "3-acknowledged", db_url)

        # a phone: the same board, one column, English by the switch
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.context.add_cookies(page.context.cookies())
        phone.goto(server.url + "/")
        phone.click("#lang")
        expect(phone.locator("article.alert[data-state=acknowledged]")).to_contain_text("Acknowledged")
        phone.select_option("article.alert select.outcome", "helped_at_home")
        phone.fill("article.alert input.note", "neighbour helped")
        phone.click("article.alert [data-action=resolve]")
        expect(phone.locator("#open-list")).to_contain_text("No open calls")
        shot(phone, "4-phone-resolved", db_url)
        peer.wait_for(lambda p: [f for f in p.feedback() if f["state"] == "resolved"], timeout=10)
    finally:
        peer.close()


def test_the_board_reconnects_after_a_server_restart_and_catches_up(system, browser, db_url):
    server, _ = system
    page = browser.new_page()
    page.goto(server.url + "/login")
    page.fill("#name", "operator")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page.locator("#live.on")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    from tests.support.web import open_alert

    # the stream breaks; an alert opens while the web server is down
    server.restart(while_down=lambda: open_alert(server.dispatcher, resident_id="r-liu"))
    expect(page.locator("article.alert[data-state=triggered]")).to_contain_text("刘", timeout=10000)
    expect(page.locator("#live.on")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
