"""In a call, in a real headless Chromium: a press, 再次通知 (the board shows the new pages),
转下一级 (the card shows the mediator), a note typed while live updates arrive and then saved, the
readable timeline dialog (sentences with each message's text, no JSON, no provider ids) and the
120 hand-off panel with tel: links and a copy button. Desktop and phone, Chinese and English;
screenshots to docs/screenshots/call-timeline-* and call-handoff-* (from the SQLite run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.db import transaction
from core.schema import Contact
from devices.protocol import Topics
from tests.support.mqtt_peer import Peer
from tests.test_board_browser import ARTIFACTS, browser, sign_in, system  # noqa: F401 (fixtures, see pyproject)

T = Topics("jinqiao")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PROVIDER_ID = re.compile(r"\b(SM|CA)[0-9a-f]{8,}")
WORDS = {
    "zh": {
        "repage": "再次通知",
        "escalate": "转下一级",
        "mediator": "调解员",
        "hotline": "求援热线",
        "again": "已再次发出 4 条",
        "repeat": "30秒内不重复",
        "saved": "已记下",
        "note": "已电话联系儿子，他在路上",
        "noted": "值班员 王芳 备注：已电话联系儿子，他在路上",
        "escalated": "值班员 王芳 手动转下一级",
        "repaged": "值班员 王芳 再次通知楼道党员：李建国、赵玉兰",
        "sms": "短信发给 李建国（楼道党员）：【金桥紧急呼叫】张秀英",
        "follow_up": "救护车已到",
        "handoff": "120交接",
        "copied": "已复制",
        "key": "有钥匙",
        "address": "地址：武林社区 幸福里3幢2单元201",
    },
    "en": {
        "repage": "Page again",
        "escalate": "Escalate now",
        "mediator": "Mediator",
        "hotline": "Hotline",
        "again": "Sent again: 4",
        "repeat": "not repeated within 30 s",
        "saved": "Note saved",
        "note": "Called the son, he is on his way",
        "noted": "值班员 王芳 noted: Called the son, he is on his way",
        "escalated": "值班员 王芳 escalated it to the next tier now",
        "repaged": "值班员 王芳 paged the building volunteers again: 李建国, 赵玉兰",
        "sms": "SMS to 李建国 (building volunteers): 【金桥紧急呼叫】张秀英",
        "follow_up": "The ambulance is here",
        "handoff": "120 hand-off",
        "copied": "Copied",
        "key": "has a key",
        "address": "Address: 武林社区 幸福里3幢2单元201",
    },
}


def screenshot(page, name: str, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    else:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-pg.png"))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_page_again_escalate_note_timeline_and_the_120_handoff(system, browser, db_url, size, lang):  # noqa: F811
    server, mosquitto = system
    w = WORDS[lang]
    with transaction(server.dispatcher.alerts.sessions) as s:  # the son holds a key to the flat
        s.execute(update(Contact).where(Contact.phone == "+61400000001").values(has_key=True))
    context = browser.new_context(
        viewport=SIZES[size], is_mobile=size == "phone", permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    sign_in(page, server)
    if lang == "en":
        page.click("#lang")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    peer = Peer(mosquitto.port, "pgr-0001", subscribe=[T.feedback("pgr-0001")])
    try:
        peer.publish(T.event("pgr-0001"), {"id": f"press-call-{size}-{lang}", "type": "alarm"})
        card = page.locator("#open-list article.alert[data-state=triggered]")
        expect(card).to_be_visible()
        alert_id = card.get_attribute("data-alert-id")
        notified = card.locator(".notified li")
        expect(notified).to_have_count(4)  # the two volunteers, a text and a call each

        # 再次通知: four new pages on the card; a double click sends nothing more
        card.locator("button[data-action=repage]").click()
        expect(notified).to_have_count(8)
        expect(page.locator(f"#callhint-{alert_id}")).to_contain_text(w["again"])
        card.locator("button[data-action=repage]").click()
        expect(page.locator(f"#callhint-{alert_id}")).to_contain_text(w["repeat"])
        expect(notified).to_have_count(8)

        # a note typed while the card changes around it (repeat presses arrive live), then saved
        box = page.locator(f"#callnote-{alert_id}")
        box.click()
        page.keyboard.type(w["note"][:6])
        for n in range(2):
            peer.publish(T.event("pgr-0001"), {"id": f"press-call-{size}-{lang}-again-{n}", "type": "alarm"})
        expect(card.locator(".repeats")).to_contain_text("2")
        assert box.input_value() == w["note"][:6]
        page.keyboard.type(w["note"][6:])
        card.locator("button[data-action=addnote]").click()
        expect(page.locator(f"#callhint-{alert_id}")).to_have_text(w["saved"])
        expect(box).to_have_value("")

        # 转下一级: the mediator is paged, the card says so
        card.locator("button[data-action=escalate]").click()
        expect(card.locator(".meta > span:first-child b")).to_have_text(w["mediator"])
        expect(notified).to_have_count(10)

        # the resident's card dialog has the resident's own phone
        card.locator("a[data-action=card]").click()
        expect(page.locator("#dialog-body a[href='tel:+8613800000001']")).to_be_visible()
        page.locator("#dialog form button").click()

        # the timeline, as sentences; a follow-up note from the dialog shows at once
        card.locator("a[data-action=timeline]").click()
        timeline = page.locator("#dialog-body ol.timeline")
        for said in (w["noted"], w["escalated"], w["repaged"], w["sms"]):
            expect(timeline).to_contain_text(said)
        text = timeline.inner_text()
        assert "{" not in text and not PROVIDER_ID.search(text), text
        page.fill("#tl-note", w["follow_up"])
        page.locator("#dialog-body button[data-action=addnote]").click()
        expect(timeline).to_contain_text(w["follow_up"])
        page.locator("#dialog-body ol.timeline li").last.scroll_into_view_if_needed()
        screenshot(page, f"call-timeline-{size}-{lang}", db_url)
        page.locator("#dialog form button").click()

        # 120 hand-off: large text, tel: links, the key holder, one button copies it all
        card.locator("button[data-action=handoff]").click()
        panel = page.locator("#dialog-body .handoff-panel")
        expect(panel).to_contain_text("张秀英")
        for phone in ("+8613800000001", "+61400000001"):
            expect(panel.locator(f"a[href='tel:{phone}']").first).to_be_visible()
        expect(panel).to_contain_text(w["key"])
        panel.locator("button[data-action=copyhandoff]").click()
        expect(page.locator("#copy-hint")).to_have_text(w["copied"])
        copied = page.evaluate("navigator.clipboard.readText()")
        assert w["address"] in copied and "+61400000001" in copied
        size_px = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.handoff-panel dd.big')).fontSize)"
        )
        assert size_px >= 20  # read aloud from a metre away
        screenshot(page, f"call-handoff-{size}-{lang}", db_url)
        page.locator("#dialog form button").click()

        # once more to the hotline, the last tier: nobody comes after it, so only 再次通知 is left
        card.locator("button[data-action=escalate]").click()
        expect(card.locator(".meta > span:first-child b")).to_have_text(w["hotline"])
        expect(card.locator("button[data-action=escalate]")).to_have_count(0)
        expect(card.locator("button[data-action=repage]")).to_have_count(1)
    finally:
        peer.close()
        context.close()
