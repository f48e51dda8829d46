"""The notifier port over several providers: each outbox row goes to its own provider
(`notifications.provider`, from a channel name such as "aliyun_sms"; core/channels.py) or to the
deployment's provider for its medium. Aliyun's notifiers send the row's template and values: an
SMS template, or the spoken page's TTS template for a call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

from core.schema import Notification
from dispatcher.aliyun_api import LIMIT_CODE, AliyunError
from dispatcher.aliyun_sms import AliyunSmsSender
from dispatcher.aliyun_voice import AliyunVoiceSender
from dispatcher.sending import Notifier, Refusal, SendError
from dispatcher.sms_templates import VALUE_MAX, Template
from dispatcher.wecom_api import NOT_A_MEMBER, WeComApi, WeComError, WeComRobot
from dispatcher.wecom_cards import page_card, task_id

log = structlog.get_logger("jinqiao.notify")


class AliyunSmsNotifier:
    provider = "aliyun"
    delivers_at_once = False

    def __init__(self, sender: AliyunSmsSender, templates: Mapping[str, Template]) -> None:
        self.sender = sender
        self.templates = templates
        self.sender_id = f"aliyun:{sender.sign_name}"

    def send(self, note: Notification) -> str:
        if note.channel != "sms":
            raise SendError(f"aliyun carries SMS only, not {note.channel}", temporary=False)
        if not note.to_number.startswith("+861"):  # a family abroad: Aliyun's domestic SMS cannot reach them
            raise SendError(f"aliyun: {note.to_number} is no mainland mobile number", temporary=False, elsewhere=True)
        template = self.templates.get(note.template or "")
        if template is None:
            # a text no template says (put together from two): Twilio, when there, sends any text
            raise SendError(
                f"no Aliyun template for this text (kind {note.template or 'none'})", temporary=False, elsewhere=True
            )
        values = note.template_params or {}
        # a longer value is refused and the message lost; better a long address cut than no page
        params = {name: str(values.get(name, ""))[:VALUE_MAX] for name in template.variables}
        try:
            return self.sender.send(note.to_number, template.code, params, out_id=str(note.id))
        except AliyunError as exc:
            limited = exc.code == LIMIT_CODE  # this number had its 50 of this template today
            raise SendError(
                f"{exc} (template {template.code})", temporary=exc.temporary, elsewhere=limited, limit=limited
            ) from None


class AliyunVoiceNotifier:
    """A call by Aliyun: the page's TTS template; with `ivr` the call listens for keys 1 and 2 and
    plays their templates, and the key comes back in the call's reports (aliyun_webhooks.py)."""

    provider = "aliyun"
    delivers_at_once = False

    def __init__(self, sender: AliyunVoiceSender, templates: Mapping[str, Template], ivr: bool = True) -> None:
        self.sender, self.templates, self.ivr = sender, templates, ivr
        self.sender_id = f"aliyun-voice:{sender.show_number}"

    def send(self, note: Notification) -> str:
        if note.channel != "voice":
            raise SendError(f"aliyun voice carries calls only, not {note.channel}", temporary=False)
        if not note.to_number.startswith("+86"):  # Aliyun calls mainland numbers only
            raise SendError(f"aliyun: {note.to_number} is no mainland number", temporary=False, elsewhere=True)
        page = self.templates.get(note.template or "")
        if page is None:
            raise SendError(
                f"no Aliyun voice template for this call (kind {note.template or 'none'})",
                temporary=False,
                elsewhere=True,
            )
        values = note.template_params or {}
        params = {name: str(values.get(name, ""))[:VALUE_MAX] for name in page.variables}
        try:
            if self.ivr:
                menu = {"1": self.templates["ivr_key_accept"].code, "2": self.templates["ivr_key_pass"].code}
                return self.sender.ivr_call(note.to_number, page.code, params, menu, out_id=str(note.id))
            return self.sender.tts_call(note.to_number, page.code, params, out_id=str(note.id))
        except AliyunError as exc:
            limited = exc.code == LIMIT_CODE  # this callee had their calls of this template for the minute, hour or day
            raise SendError(
                f"{exc} (template {page.code})", temporary=exc.temporary, elsewhere=limited, limit=limited
            ) from None


class WeComCardNotifier:
    """A page as a WeCom app card with two buttons (dispatcher/wecom_cards.py), to the member whose
    mobile number the responder has; the card's task id is the row's provider id."""

    provider = "wecom"
    delivers_at_once = True  # WeCom gives no delivery report for an app message

    def __init__(self, api: WeComApi, keep: Callable[[Notification, str, str], None] = lambda *a: None) -> None:
        self.api = api
        self.keep = keep  # stores the card's response code, for updating it later (dispatcher/card_updates.py)
        self.sender_id = f"wecom:{api.agent_id}"

    def send(self, note: Notification) -> str:
        if note.channel != "card":
            raise SendError(f"wecom carries cards only, not {note.channel}", temporary=False)
        if note.template != "page_sms" or not note.to_number.startswith("+86"):
            raise SendError("wecom: only pages to mainland members go as a card", temporary=False, elsewhere=True)
        task = task_id(note.id)
        try:
            userid = self.api.userid_of(note.to_number[3:])
            code = self.api.send_card(userid, page_card(note.template_params or {}, task))
        except WeComError as exc:
            gone = exc.code in NOT_A_MEMBER  # not in the corp's WeCom: their other channels still go
            raise SendError(str(exc), temporary=exc.temporary, elsewhere=gone) from None
        if code:
            try:
                self.keep(note, userid, code)
            except Exception as exc:  # the card is out: that it cannot be updated later is no failed send
                log.warning("wecom.card_code_not_kept", notification_id=note.id, error=str(exc))
        return task


class WeComRobotNotifier:
    """The community work group's robot: a notice as text (dispatcher/work_group.py writes them)."""

    provider = "wecom"
    delivers_at_once = True

    def __init__(self, robot: WeComRobot) -> None:
        self.robot = robot
        self.sender_id = "wecom-robot"

    def send(self, note: Notification) -> str:
        if note.channel != "robot":
            raise SendError(f"the wecom robot carries group notices only, not {note.channel}", temporary=False)
        try:
            self.robot.send_text(note.body)
        except WeComError as exc:
            raise SendError(str(exc), temporary=exc.temporary) from None
        return f"robot-{note.id}"


class RoutedNotifier:
    """One Notifier in front of several: by the row's provider, else by its medium's providers in
    order; a refusal that says "elsewhere" (Aliyun's daily limit) goes on to the next of them."""

    def __init__(self, defaults: Mapping[str, Sequence[Notifier]], named: Mapping[str, Notifier]) -> None:
        """`defaults`: by medium, its providers in order; `named`: by channel name ("aliyun_voice")."""
        self.defaults = {medium: list(chain) for medium, chain in defaults.items()}
        self.named = dict(named)
        every = [*(n for chain in self.defaults.values() for n in chain), *self.named.values()]
        self.sender_id = self.defaults["sms"][0].sender_id
        self.delivers_at_once = all(n.delivers_at_once for n in every)

    def chain_for(self, note: Notification) -> list[Notifier]:
        if note.provider:
            found = self.named.get(f"{note.provider}_{note.channel}")
            if found is None:
                raise SendError(f"{note.provider} {note.channel} is not set up in this deployment", temporary=False)
            return [found]
        return self.defaults[note.channel]

    def send(self, note: Notification) -> str:
        return self.send_noting(note, [])

    def send_noting(self, note: Notification, refusals: list[Refusal]) -> str:
        """Send as `send` does, adding to `refusals` each provider that would not take the row."""
        chain = self.chain_for(note)
        for i, notifier in enumerate(chain):
            try:
                return notifier.send(note)
            except SendError as exc:
                if not exc.elsewhere:
                    raise
                then = chain[i + 1] if i + 1 < len(chain) else None
                if exc.limit or then is None:  # a number abroad going by Twilio is routing, not news
                    refusals.append(Refusal(provider_of(notifier), str(exc), provider_of(then) if then else None))
                if then is None:
                    raise
                log.warning(
                    "notify.fallback",
                    notification_id=note.id,
                    channel=note.channel,
                    refused_by=notifier.sender_id,
                    next=then.sender_id,
                    error=str(exc),
                )
        raise SendError(f"no provider for {note.channel}", temporary=False)  # an empty chain


def provider_of(notifier: Notifier) -> str:
    return getattr(notifier, "provider", None) or notifier.sender_id
