"""What a WeCom card says, pure: the page as a button card (template_card, button_interaction) made
from the page SMS's values, and the line its buttons become once pressed.

我去处理 (key `ack`) acknowledges, 无法前往 (key `pass`) passes the call to the next tier at once,
as a reply 1 or 2 does. The card's task_id is "jq-" and our notification id: the button's callback
names it, and it is the row's provider id.
"""

from __future__ import annotations

from collections.abc import Mapping

ACK, PASS = "ack", "pass"


def task_id(notification_id: int) -> str:
    return f"jq-{notification_id}"


def notification_of(task: str) -> int | None:
    """Our notification id in a card's task id; None for a task id that is not ours."""
    digits = task.removeprefix("jq-")
    if not (task.startswith("jq-") and digits.isascii() and digits.isdigit() and len(digits) <= 10):
        return None
    return int(digits) if 1 <= int(digits) <= 2**31 - 1 else None  # the id column's range


def page_card(values: Mapping[str, str], task: str) -> dict:
    """The page as a card: who and where, what happened, the code; two buttons."""
    return {
        "card_type": "button_interaction",
        "source": {"desc": "金桥 社区呼叫", "desc_color": 1},
        "main_title": {
            "title": f"{values.get('resident', '')} {values.get('what', '')}"[:36],
            "desc": values.get("tier", ""),
        },
        "horizontal_content_list": [
            {"keyname": "住址", "value": values.get("address", "")[:30]},
            {"keyname": "编号", "value": values.get("code", "")},
        ],
        "task_id": task,
        "button_list": [{"text": "我去处理", "style": 1, "key": ACK}, {"text": "无法前往", "style": 2, "key": PASS}],
    }


def pressed_line(*, mine: bool, state: str, by: str | None, at_local: str | None, passed: bool) -> str:
    """What the buttons become after a press: the outcome as this person should read it."""
    if passed:
        return "已转下一级"
    if state == "acknowledged":
        return "已由您接下，请前往" if mine else f"已由{by or '他人'}于{at_local or '?'}接下，无需前往"
    if state == "triggered":
        return "已经转到下一级，如仍可前往请回复短信1"
    return "该呼叫已处理完毕，无需前往"
