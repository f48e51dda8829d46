"""What a channel name in a tier's list means: a medium (sms | voice | card) and who carries it; pure.

A plain medium ("sms", "voice") goes through the deployment's provider for it (JINQIAO_SMS_PROVIDER
for SMS, JINQIAO_VOICE_PROVIDER for calls). A name "<provider>_<medium>" ("aliyun_sms", "wecom_card")
names the provider too, so that one list says "WeCom card, then Aliyun SMS, then Aliyun voice". A
new provider: add it to PROVIDERS and an adapter behind dispatcher/providers.py. docs/channels.md
has the whole design.
"""

from __future__ import annotations

from typing import NamedTuple

PLAIN = ("sms", "voice")  # the media a name may give alone: each deployment has a provider for them
MEDIA = (*PLAIN, "card", "robot")  # what the outbox rows, the rate limiter and the timeline know
PROVIDERS: dict[str, tuple[str, ...]] = {  # provider -> the media that reach a person by it
    "twilio": ("sms", "voice"),
    "aliyun": ("sms", "voice"),
    "wecom": ("card",),  # an app message with buttons (dispatcher/wecom_api.py)
    "console": ("sms", "voice"),
}
# The work group's robot reaches a group, never a person: no tier or responder lists it (its rows
# are written by dispatcher/work_group.py, which names its medium itself).


class Route(NamedTuple):
    medium: str
    provider: str | None  # None: the deployment's provider for the medium


def route(name: str) -> Route:
    """The medium and provider of a channel name; ValueError names what is wrong."""
    if name in PLAIN:
        return Route(name, None)
    provider, _, medium = name.rpartition("_")
    if provider not in PROVIDERS:
        raise ValueError(f"channel {name!r}: use one of {', '.join(known_names())}")
    if medium not in PROVIDERS[provider]:
        raise ValueError(f"channel {name!r}: {provider} carries {', '.join(PROVIDERS[provider])} only")
    return Route(medium, provider)


def known_names() -> list[str]:
    return [*PLAIN, *(f"{p}_{m}" for p, media in PROVIDERS.items() if p != "console" for m in media)]
