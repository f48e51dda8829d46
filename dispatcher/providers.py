"""The notifier port over several providers: each outbox row goes to its own provider
(`notifications.provider`, from a channel name such as "aliyun_sms"; dispatcher/channels.py) or to the
deployment's provider for its medium. Aliyun's notifier sends the row's template and values."""

from __future__ import annotations

from collections.abc import Mapping

from core.schema import Notification
from dispatcher.aliyun_sms import AliyunError, AliyunSmsSender
from dispatcher.sending import Notifier, SendError
from dispatcher.sms_templates import VALUE_MAX, Template


class AliyunSmsNotifier:
    delivers_at_once = False

    def __init__(self, sender: AliyunSmsSender, templates: Mapping[str, Template]) -> None:
        self.sender = sender
        self.templates = templates
        self.sender_id = f"aliyun:{sender.sign_name}"

    def send(self, note: Notification) -> str:
        if note.channel != "sms":
            raise SendError(f"aliyun carries SMS only, not {note.channel}", temporary=False)
        template = self.templates.get(note.template or "")
        if template is None:
            raise SendError(f"no Aliyun template for this text (kind {note.template or 'none'})", temporary=False)
        values = note.template_params or {}
        # a longer value is refused and the message lost; better a long address cut than no page
        params = {name: str(values.get(name, ""))[:VALUE_MAX] for name in template.variables}
        try:
            return self.sender.send(note.to_number, template.code, params, out_id=str(note.id))
        except AliyunError as exc:
            raise SendError(f"{exc} (template {template.code})", temporary=exc.temporary) from None


class RoutedNotifier:
    """One Notifier in front of several: by the row's provider, else by its medium's default."""

    def __init__(self, defaults: Mapping[str, Notifier], named: Mapping[str, Notifier]) -> None:
        self.defaults, self.named = dict(defaults), dict(named)
        every = [*self.defaults.values(), *self.named.values()]
        self.sender_id = self.defaults["sms"].sender_id
        self.delivers_at_once = all(n.delivers_at_once for n in every)

    def notifier_for(self, note: Notification) -> Notifier:
        if note.provider:
            found = self.named.get(note.provider)
            if found is None:
                raise SendError(f"provider {note.provider} is not set up in this deployment", temporary=False)
            return found
        return self.defaults[note.channel]

    def send(self, note: Notification) -> str:
        return self.notifier_for(note).send(note)
