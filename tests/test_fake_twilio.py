"""Our Twilio adapter (the real `twilio` library) against the fake Twilio API.

A tiny receiving server plays our app: it serves TwiML and collects the signed webhooks.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from dispatcher.twilio_adapter import (
    ProviderError,
    TwilioSender,
    twiml_alert,
    twiml_say,
    twiml_sms_reply,
    validate_signature,
)
from simulators.fake_twilio import FakeTwilio

SID = "AC" + "1" * 32
TOKEN = "test-auth-token"
FROM = "+15005550006"
TO = "+8613900000001"
ROOT = Path(__file__).resolve().parents[1]


class App:
    """Plays our dispatcher's webhooks; records (path, params, signature, url) of each post."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.cond = threading.Condition()
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                post = {
                    "path": self.path,
                    "params": params,
                    "url": app.url + self.path,
                    "signature": self.headers.get("X-Twilio-Signature"),
                }
                with app.cond:
                    app.posts.append(post)
                    app.cond.notify_all()
                body = b""
                if self.path.startswith("/twilio/voice?step=answer"):
                    body = twiml_alert("金桥紧急呼叫。按1确认。", app.url + "/twilio/voice?step=gather&a=7").encode()
                elif self.path.startswith("/twilio/voice?step=gather"):
                    body = twiml_say("已确认，谢谢").encode()
                elif self.path == "/twilio/sms":
                    body = twiml_sms_reply("已收到").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def wait(self, predicate, timeout: float = 5.0) -> list[dict]:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.posts), timeout), self.posts
            return list(self.posts)

    def to(self, path_prefix: str) -> list[dict]:
        with self.cond:
            return [p for p in self.posts if p["path"].startswith(path_prefix)]


@pytest.fixture
def app():
    a = App()
    yield a
    a.server.shutdown()
    a.server.server_close()


@pytest.fixture
def fake(app):
    with FakeTwilio(auth_token=TOKEN, account_sid=SID, webhook_base=app.url, speed=50) as f:
        yield f


@pytest.fixture
def sender(fake):
    s = TwilioSender(SID, TOKEN, FROM, api_url=fake.url, timeout=2.0)
    yield s
    s.close()


def signed(post: dict, token: str = TOKEN) -> bool:
    return validate_signature(token, post["url"], post["params"], post["signature"])


def statuses(posts: list[dict], key: str) -> list[str]:
    return [p["params"][key] for p in posts if p["path"] == "/twilio/status"]


def test_sms_is_recorded_and_its_status_callbacks_are_signed(fake, sender, app):
    sid = sender.send_sms(TO, "金桥：3号楼张阿姨呼叫", status_callback=app.url + "/twilio/status")

    assert sid.startswith("SM") and len(sid) == 34
    [msg] = fake.messages
    assert (msg.sid, msg.to, msg.from_, msg.body) == (sid, TO, FROM, "金桥：3号楼张阿姨呼叫")
    assert msg.status_callback == app.url + "/twilio/status"
    posts = app.wait(lambda ps: "delivered" in statuses(ps, "MessageStatus"))
    assert statuses(posts, "MessageStatus") == ["sent", "delivered"]
    for post in posts:
        assert post["params"]["MessageSid"] == sid
        assert signed(post)
        assert not signed(post, token="another-token")
        assert not validate_signature(
            TOKEN, post["url"], {**post["params"], "MessageStatus": "failed"}, post["signature"]
        )
    assert not validate_signature(TOKEN, posts[0]["url"], posts[0]["params"], None)


def test_message_can_be_fetched_by_sid(fake, sender):
    sid = sender.send_sms(TO, "hello", status_callback=None)
    fake.wait_for(lambda: fake.messages[0].status == "delivered")
    r = httpx.get(f"{fake.url}/2010-04-01/Accounts/{SID}/Messages/{sid}.json", auth=(SID, TOKEN))
    assert r.status_code == 200 and r.json()["status"] == "delivered" and r.json()["body"] == "hello"
    assert httpx.get(f"{fake.url}/2010-04-01/Accounts/{SID}/Messages/SMnope.json", auth=(SID, TOKEN)).status_code == 404


def test_undelivered_sms_reports_error_code(fake, sender, app):
    fake.set_behaviour(TO, sms_status="undelivered")
    sender.send_sms(TO, "x", status_callback=app.url + "/twilio/status")
    posts = app.wait(lambda ps: "undelivered" in statuses(ps, "MessageStatus"))
    assert posts[-1]["params"]["ErrorCode"] == "30003" and signed(posts[-1])


def test_answered_call_fetches_twiml_and_presses_the_key(fake, sender, app):
    fake.set_behaviour(TO, call_answer="human", press="1")
    sid = sender.place_call(TO, app.url + "/twilio/voice?step=answer", app.url + "/twilio/status")

    assert sid.startswith("CA") and len(sid) == 34
    call = fake.wait_for(lambda: fake.calls[0].status == "completed" and fake.calls[0])
    assert call.url == app.url + "/twilio/voice?step=answer"
    assert call.params["MachineDetection"] == ["Enable"]
    assert call.params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert call.digits == ["1"] and call.answered_by == "human"
    assert "<Gather" in call.twiml[0] and "已确认，谢谢" in call.twiml[1]

    [fetch] = app.to("/twilio/voice?step=answer")
    [gather] = app.to("/twilio/voice?step=gather")
    assert fetch["params"]["CallStatus"] == "in-progress" and fetch["params"]["AnsweredBy"] == "human"
    assert gather["params"]["Digits"] == "1" and gather["params"]["CallSid"] == sid
    assert gather["path"] == "/twilio/voice?step=gather&a=7"  # the Gather action, query intact
    assert signed(fetch) and signed(gather)

    posts = app.wait(lambda ps: "completed" in statuses(ps, "CallStatus"))
    assert statuses(posts, "CallStatus") == ["initiated", "ringing", "in-progress", "completed"]
    assert all(signed(p) for p in app.to("/twilio/status"))
    assert int(app.to("/twilio/status")[-1]["params"]["CallDuration"]) >= 1


def test_machine_never_presses(fake, sender, app):
    fake.set_behaviour(TO, call_answer="machine", press="1")
    sender.place_call(TO, app.url + "/twilio/voice?step=answer", app.url + "/twilio/status")
    call = fake.wait_for(lambda: fake.calls[0].status == "completed" and fake.calls[0])
    assert call.answered_by == "machine_start" and call.digits == []
    assert app.to("/twilio/voice?step=answer")[0]["params"]["AnsweredBy"] == "machine_start"
    assert app.to("/twilio/voice?step=gather") == []


@pytest.mark.parametrize("answer", ["busy", "no-answer", "failed"])
def test_unanswered_call_ends_with_that_status(fake, sender, app, answer):
    fake.set_behaviour(TO, call_answer=answer)
    sender.place_call(TO, app.url + "/twilio/voice?step=answer", app.url + "/twilio/status")
    posts = app.wait(lambda ps: answer in statuses(ps, "CallStatus"))
    assert statuses(posts, "CallStatus")[-1] == answer
    assert app.to("/twilio/voice") == [] and fake.calls[0].twiml == []


@pytest.mark.parametrize("status, temporary, code", [(500, True, 20500), (429, True, 20429), (400, False, 21211)])
def test_api_errors_become_provider_errors(fake, sender, status, temporary, code):
    fake.set_behaviour(TO, api_error=status, times=1)
    with pytest.raises(ProviderError) as err:
        sender.send_sms(TO, "x", status_callback=None)
    assert (err.value.temporary, err.value.status, err.value.code) == (temporary, status, code)
    assert fake.messages == []
    sender.send_sms(TO, "x", status_callback=None)  # `times` used up: the next one goes through
    assert [r.status_code for r in fake.requests] == [status, 201]


def test_failing_call_request_is_an_error_too(fake, sender, app):
    fake.set_behaviour(TO, api_error=503)
    for _ in range(2):
        with pytest.raises(ProviderError) as err:
            sender.place_call(TO, app.url + "/twilio/voice?step=answer", None)
        assert err.value.temporary and err.value.status == 503


def test_invalid_number_is_permanent(sender):
    with pytest.raises(ProviderError) as err:
        sender.send_sms("12345", "x", status_callback=None)
    assert not err.value.temporary and err.value.code == 21211


def test_timeout_is_temporary(fake):
    fake.set_behaviour(TO, api_timeout=5.0, times=1)
    sender = TwilioSender(SID, TOKEN, FROM, api_url=fake.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderError) as err:
        sender.send_sms(TO, "x", status_callback=None)
    assert time.monotonic() - started < 3.0
    assert err.value.temporary and err.value.status is None


def test_unreachable_api_is_temporary():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ProviderError) as err:
        TwilioSender(SID, TOKEN, FROM, api_url=f"http://127.0.0.1:{port}", timeout=1.0).send_sms(TO, "x", None)
    assert err.value.temporary


def test_bad_credentials_are_permanent(fake):
    for sid, token in [(SID, "wrong"), ("AC" + "2" * 32, TOKEN)]:
        with pytest.raises(ProviderError) as err:
            TwilioSender(sid, token, FROM, api_url=fake.url).send_sms(TO, "x", status_callback=None)
        assert (err.value.temporary, err.value.status, err.value.code) == (False, 401, 20003)
    assert fake.messages == []


def test_sms_reply_behaviour_posts_a_signed_inbound_sms(fake, sender, app):
    fake.set_behaviour(TO, sms_reply="1", reply_after=0.5)
    sender.send_sms(TO, "请回复1确认", status_callback=None)
    app.wait(lambda ps: any(p["path"] == "/twilio/sms" for p in ps))
    [post] = app.to("/twilio/sms")
    assert post["url"] == app.url + "/twilio/sms" and signed(post)
    assert (post["params"]["From"], post["params"]["To"], post["params"]["Body"]) == (TO, FROM, "1")
    assert post["params"]["MessageSid"].startswith("SM")
    [inbound] = fake.wait_for(lambda: fake.inbound)
    assert inbound.replies == ["已收到"] and inbound.status_code == 200

    sender.send_sms(TO, "已确认，谢谢", status_callback=None)  # the person replies once, not to our answer
    fake.wait_for(lambda: fake.messages[-1].status == "delivered")
    time.sleep(0.1)
    assert len(app.to("/twilio/sms")) == 1


def test_inbound_sms_plays_a_person(fake, app):
    rec = fake.inbound_sms("+8613900000009", "收到")
    assert rec.status_code == 200 and rec.replies == ["已收到"] and rec.to == fake.phone_number
    [post] = app.to("/twilio/sms")
    assert post["params"]["Body"] == "收到" and signed(post)


def test_control_over_http(fake, sender):
    r = httpx.post(f"{fake.url}/_fake/behaviour", json={"number": TO, "api_error": 400, "times": 1})
    assert r.status_code == 200 and r.json()["api_error"] == 400
    assert httpx.post(f"{fake.url}/_fake/behaviour", json={"call_answer": "maybe"}).status_code == 400
    with pytest.raises(ProviderError):
        sender.send_sms(TO, "x", None)
    sender.send_sms(TO, "见到了", None)
    sent = httpx.get(f"{fake.url}/_fake/sent").json()
    assert [m["body"] for m in sent["messages"]] == ["见到了"]
    assert [r["status_code"] for r in sent["requests"]] == [400, 201]


def test_api_url_with_a_path_prefix_is_kept(fake):
    from dispatcher.twilio_adapter import _RedirectingHttpClient

    client = _RedirectingHttpClient("http://127.0.0.1:9/prefix/", timeout=1.0)
    assert (
        client._rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1")
        == "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )


def test_twiml_alert_gathers_one_key_and_repeats_once():
    url = "https://jq.example.org/twilio/voice?alert=7&step=gather"
    root = ET.fromstring(twiml_alert("金桥紧急呼叫。按1确认。", url))
    gathers = root.findall("Gather")
    assert len(gathers) == 2
    for g in gathers:
        assert g.get("numDigits") == "1" and g.get("action") == url and g.get("method") == "POST"
        [say] = g.findall("Say")
        assert say.text == "金桥紧急呼叫。按1确认。" and say.get("language") == "cmn-CN"
    assert [child.tag for child in root] == ["Gather", "Gather", "Say", "Hangup"]


def test_twiml_say_confirms_and_hangs_up():
    root = ET.fromstring(twiml_say("已确认，谢谢"))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == "已确认，谢谢" and root[0].get("voice") == "Polly.Zhiyu"
    en = ET.fromstring(twiml_say("Acknowledged", language="en-US"))
    assert en[0].get("language") == "en-US"


def test_runs_as_a_script():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "simulators" / "fake_twilio.py"),
            "--port",
            str(port),
            "--auth-token",
            TOKEN,
            "--webhook-base",
            "http://127.0.0.1:9",
        ],
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/_fake/sent")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert r.json()["messages"] == []
        sid = TwilioSender(SID, TOKEN, FROM, api_url=f"http://127.0.0.1:{port}").send_sms(TO, "hi", None)
        assert httpx.get(f"http://127.0.0.1:{port}/_fake/sent").json()["messages"][0]["sid"] == sid
    finally:
        proc.terminate()
        proc.wait(timeout=5)
