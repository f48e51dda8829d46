"""A call from press to close in a real headless Chromium, as an operator walks it: 接警 as 王芳, 派人前往
李建国, then 结案, refused without an outcome and, for a false alarm, without a note; closed with one.
At desktop and phone size, in Chinese and English; screenshots in docs/screenshots/ (from the SQLite run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from devices.protocol import Topics
from tests.support.mqtt_peer import Peer
from tests.test_board_browser import ARTIFACTS, api_json, browser, sign_in, system  # noqa: F401 (fixtures)

T = Topics("jinqiao")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WORDS = {  # what the operator reads, in each language
    "zh": {
        "dispatch": "派人前往",
        "self": "我去",
        "role": "楼道党员",
        "outcome_needed": "请先选择处理结果",
        "note_needed": "误报或其他须填写备注说明",
        "none_open": "目前没有待处理的呼叫",
        "ask": "李建国 · 短信 · 请其前往",
    },
    "en": {
        "dispatch": "Send someone",
        "self": "I'll go",
        "role": "building volunteer",
        "outcome_needed": "Pick an outcome first",
        "note_needed": "A false alarm or other needs a note",
        "none_open": "No open calls",
        "ask": "李建国 · SMS · asked to go",
    },
}


def doc_shot(page, name: str, db_url: str) -> None:
    folder = SCREENSHOTS if db_url.startswith("sqlite") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "" if db_url.startswith("sqlite") else "-" + db_url.split(":")[0].split("+")[0]
    page.screenshot(path=str(folder / f"{name}{suffix}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_take_send_and_close_a_call(system, browser, db_url, size, lang):  # noqa: F811 (the fixtures above)
    server, mosquitto = system
    words = WORDS[lang]
    page = browser.new_page(viewport=SIZES[size])
    sign_in(page, server)
    if lang == "en":
        page.click("#lang")
        expect(page.locator("#lang")).to_have_text("中文")
    peer = Peer(mosquitto.port, "pgr-0001", subscribe=[T.feedback("pgr-0001")])
    try:
        peer.publish(T.event("pgr-0001"), {"id": f"press-resolve-{size}-{lang}", "type": "alarm"})
        card = page.locator("#open-list article.alert[data-state=triggered]")
        expect(card).to_be_visible()
        alert_id = card.get_attribute("data-alert-id")
        card = page.locator(f"#open-list article[data-alert-id='{alert_id}']")

        # 接警: the card says the operator has it, by the name the paged were told
        card.locator("button[data-action=ack]").click()
        expect(card).to_have_attribute("data-state", "acknowledged")
        expect(card.locator(".by")).to_have_text("值班员 王芳")
        expect(card.locator("button[data-action=ack]")).to_have_count(0)

        # 派人前往: the chooser offers the building's volunteers (and the others, and 我去)
        card.locator("button[data-action=dispatch]").click()
        chooser = page.locator("#dispatch-list")
        expect(chooser).to_be_visible()
        li = chooser.locator("button[data-responder=pm-li]")
        expect(li).to_contain_text("李建国")
        expect(li).to_contain_text(words["role"])
        expect(li).to_contain_text("+8613900000001")
        expect(chooser.locator("button[data-responder=med-wang]")).to_be_visible()
        expect(chooser.locator("button[data-self]")).to_contain_text(words["self"])
        doc_shot(page, f"call-dispatch-{size}-{lang}", db_url)
        li.click()
        expect(page.locator("#dialog")).not_to_be_visible()
        expect(card.locator(".went")).to_have_text("李建国")
        expect(card.locator(".by")).to_have_text("值班员 王芳")
        expect(card.locator(".notified")).to_contain_text(words["ask"])
        sent = api_json(page, f"{server.url}/api/v1/alerts/{alert_id}", until=lambda a: a["dispatched_to"])
        assert [e["detail"]["to"] for e in sent["timeline"] if e["what"] == "dispatched"] == ["李建国"]

        # 结案: refused without an outcome; a false alarm wants a note; the call stays open meanwhile
        resolve = card.locator("button[data-action=resolve]")
        hint = page.locator(f"#hint-{alert_id}")
        resolve.click()
        expect(hint).to_have_text(words["outcome_needed"])
        page.select_option(f"#outcome-{alert_id}", "false_alarm")
        resolve.click()
        expect(hint).to_have_text(words["note_needed"])
        expect(card).to_have_attribute("data-state", "acknowledged")
        peer.publish(T.event("pgr-0001"), {"id": f"press-resolve-again-{size}-{lang}", "type": "alarm"})
        expect(card.locator(".repeats")).to_contain_text("1")  # a live update redrew the card
        expect(hint).to_have_text(words["note_needed"])  # and what the operator was told stays
        assert api_json(page, f"{server.url}/api/v1/alerts/{alert_id}", until=lambda a: True)["state"] == "acknowledged"
        doc_shot(page, f"call-resolve-{size}-{lang}", db_url)
        page.fill(f"#note-{alert_id}", "老人误按，李建国已上门确认无事")
        expect(hint).to_have_text("")  # what it asked for is being given
        resolve.click()

        expect(page.locator("#open-list")).to_contain_text(words["none_open"])
        closed = page.locator(f"#recent-list article[data-alert-id='{alert_id}']")
        expect(closed).to_have_attribute("data-state", "resolved")
        expect(closed.locator(".resolved-by")).to_have_text("值班员 王芳")
        expect(closed.locator(".went")).to_have_text("李建国")
        done = api_json(page, f"{server.url}/api/v1/alerts/{alert_id}", until=lambda a: a["state"] == "resolved")
        assert (done["outcome"], done["note"], done["resolved_by"]) == (
            "false_alarm",
            "老人误按，李建国已上门确认无事",
            "值班员 王芳",
        )
        doc_shot(page, f"call-closed-{size}-{lang}", db_url)
    finally:
        peer.close()
