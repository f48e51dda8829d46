"""Our one adapter over the `twilio` library: sends SMS and calls, checks webhook signatures,
builds TwiML. Nothing else of ours imports `twilio`; everything leaves here as str/bool or as
ProviderError.

The sender is synchronous (twilio uses `requests`); asyncio callers run it in a thread.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]

# <Say> voices by our language tag. Twilio wants `cmn-CN` with the Polly/Google Mandarin voices
# (`zh-CN` belonged to the retired `alice` voice); Polly.Zhiyu is Twilio's Mandarin Polly voice.
_VOICES: dict[str, tuple[str, str]] = {
    "zh-cn": ("cmn-CN", "Polly.Zhiyu"),
    "cmn-cn": ("cmn-CN", "Polly.Zhiyu"),
    "zh": ("cmn-CN", "Polly.Zhiyu"),
    "en-us": ("en-US", "Polly.Joanna"),
    "en": ("en-US", "Polly.Joanna"),
}
_GOODBYE = {"cmn-CN": "没有收到按键，再见。", "en-US": "No key was pressed. Goodbye."}


class ProviderError(Exception):
    """Twilio refused or could not be reached.

    temporary: worth retrying later (HTTP 5xx, 429, connection error, timeout). A timeout
    while waiting for the answer may still mean Twilio accepted the request.
    code: Twilio's error code (21211 invalid number, 20003 authentication) when it gave one.
    status: the HTTP status, None when no answer came.
    """

    def __init__(self, message: str, *, temporary: bool, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.temporary = temporary
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"ProviderError({str(self)!r}, temporary={self.temporary}, code={self.code}, status={self.status})"


class _RedirectingHttpClient(TwilioHttpClient):
    """Sends every request to `api_url` instead of the host the library chose.

    Rewriting here, the last hop, covers every domain (api., messaging., …) and wins over the
    edge/region rewriting that Client.request does before calling us.
    """

    def __init__(self, api_url: str, timeout: float):
        super().__init__(timeout=timeout)
        self._base = urlsplit(api_url.rstrip("/"))

    def _rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, ""))

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self._rewrite(url), *args, **kwargs)

    # The caller logs `sms.sent` with its own context; twilio's eight INFO lines a request would drown it.
    def log_request(self, kwargs) -> None:
        pass

    def log_response(self, status_code, response) -> None:
        pass


def _is_temporary(status: int | None) -> bool:
    return status is None or status >= 500 or status == 429


def _convert(exc: Exception) -> ProviderError:
    if isinstance(exc, TwilioRestException):
        # With a body that is not Twilio's JSON, the library puts the HTTP status in `code`.
        code = exc.code if isinstance(exc.code, int) and exc.code >= 1000 else None
        return ProviderError(
            f"twilio {exc.status}: {exc.msg}", temporary=_is_temporary(exc.status), code=code, status=exc.status
        )
    if isinstance(exc, TwilioServiceException):
        return ProviderError(
            f"twilio {exc.status}: {exc.title}", temporary=_is_temporary(exc.status), code=exc.code, status=exc.status
        )
    if isinstance(exc, (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return ProviderError(f"twilio unreachable: {type(exc).__name__}: {exc}", temporary=True)
    return ProviderError(f"twilio request failed: {type(exc).__name__}: {exc}", temporary=False)


class TwilioSender:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ):
        self.from_number = from_number
        self._make = lambda: Client(account_sid, auth_token, http_client=_RedirectingHttpClient(api_url, timeout))
        self._local = threading.local()  # one client (one requests.Session) per outbox worker thread
        self._clients: list[Client] = []
        self._clients_lock = threading.Lock()

    @property
    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make()
            with self._clients_lock:
                self._clients.append(client)
        return client

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> str:
        """Returns the message SID (SM…)."""
        try:
            msg = self._client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=status_callback
            )
        except (TwilioException, requests.RequestException) as exc:
            raise _convert(exc) from exc
        return str(msg.sid)

    def place_call(
        self,
        to: str,
        twiml_url: str,
        status_callback: str | None,
        machine_detection: bool = True,
        ring_timeout: int = 30,
    ) -> str:
        """Returns the call SID (CA…). Twilio POSTs to `twiml_url` for the TwiML once answered."""
        extra: dict[str, str | list[str]] = {"machine_detection": "Enable"} if machine_detection else {}
        if status_callback:
            extra |= {
                "status_callback": status_callback,
                "status_callback_event": CALL_EVENTS,
                "status_callback_method": "POST",
            }
        try:
            call = self._client.calls.create(
                to=to, from_=self.from_number, url=twiml_url, method="POST", timeout=ring_timeout, **extra
            )
        except (TwilioException, requests.RequestException) as exc:
            raise _convert(exc) from exc
        return str(call.sid)

    def close(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            session = client.http_client.session
            if session is not None:
                session.close()


def validate_signature(auth_token: str, url: str, params: dict, signature: str | None) -> bool:
    """True when `signature` (X-Twilio-Signature) is Twilio's HMAC of `url` + sorted params."""
    if not signature or not auth_token:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def _voice(language: str) -> tuple[str, str | None]:
    found = _VOICES.get(language.lower())
    return found if found else (language, None)


def _say(node, text: str, language: str) -> None:
    lang, voice = _voice(language)
    node.say(text, language=lang, **({"voice": voice} if voice else {}))


def twiml_alert(text_zh: str, gather_action_url: str, language: str = "zh-CN", goodbye: str | None = None) -> str:
    """Speaks the alert and waits for one key, posted to `gather_action_url`.

    The Say sits inside the Gather so a key interrupts it; with no key the text is spoken
    once more, then a goodbye, then hang up. The text itself names the keys.
    """
    lang, _ = _voice(language)
    resp = VoiceResponse()
    for _ in range(2):
        gather = resp.gather(num_digits=1, action=gather_action_url, method="POST", timeout=6)
        _say(gather, text_zh, language)
    _say(resp, goodbye or _GOODBYE.get(lang, _GOODBYE["cmn-CN"]), language)
    resp.hangup()
    return str(resp)


def twiml_say(text: str, language: str = "zh-CN") -> str:
    """Speaks `text` (a confirmation such as 已确认，谢谢) and hangs up."""
    resp = VoiceResponse()
    _say(resp, text, language)
    resp.hangup()
    return str(resp)


def twiml_sms_reply(text: str | None) -> str:
    """The answer to an inbound SMS webhook: one reply message, or none."""
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return str(resp)
