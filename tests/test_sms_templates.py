"""SMS texts as template kinds and values, the deployment's template file checked against them, and
the channel names a tier may list."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from core.channels import Route, route
from core.settings import SettingsError, load_settings
from dispatcher import messages as m
from dispatcher import messages_dispatch as md
from dispatcher import messages_family as fam
from dispatcher import visit_messages as vm
from dispatcher.service import sms_templates
from dispatcher.sms_kinds import KINDS, Rendered, template_of
from dispatcher.sms_templates import TemplateError, check_templates, read_templates
from dispatcher.summary_text import DayFacts, summary_sms

SHIPPED = Path(__file__).resolve().parents[1] / "deploy" / "templates.aliyun.yaml"
WHO, CODE = "张秀英", "4821"

# one call of every SMS kind, in English too: Aliyun's values are Chinese whatever the language
SAMPLES = {
    "page_sms": lambda lang: m.page_sms(
        resident=WHO, address="幸福里3幢201", reason="fall", tier="building", code=CODE, repeats=2, language=lang
    ),  # noqa: E501
    "reply_acknowledged": lambda lang: m.reply_acknowledged(resident=WHO, code=CODE, language=lang),
    "reply_already_acknowledged": lambda lang: m.reply_already_acknowledged(
        resident=WHO, code=CODE, by_name="李强", at_local="14:05", language=lang
    ),  # noqa: E501
    "reply_passed": lambda lang: m.reply_passed(resident=WHO, code=CODE, language=lang),
    "reply_already_moved_on": lambda lang: m.reply_already_moved_on(resident=WHO, code=CODE, language=lang),
    "reply_cannot_pass_own": lambda lang: m.reply_cannot_pass_own(resident=WHO, code=CODE, language=lang),
    "reply_resolved": lambda lang: m.reply_resolved(resident=WHO, code=CODE, language=lang),
    "reply_no_open_alert": lambda lang: m.reply_no_open_alert(language=lang),
    "reply_unknown_code": lambda lang: m.reply_unknown_code(code=CODE, language=lang),
    "reply_help": lambda lang: m.reply_help(language=lang),
    "reply_you_are_sent": lambda lang: md.reply_you_are_sent(resident=WHO, code=CODE, language=lang),
    "notice_acknowledged": lambda lang: m.notice_acknowledged(resident=WHO, code=CODE, by_name=None, language=lang),
    "notice_taken_by_centre": lambda lang: m.notice_taken_by_centre(
        resident=WHO, code=CODE, by_name="值班员 王芳", language=lang
    ),  # noqa: E501
    "notice_resolved": lambda lang: m.reply_already_closed(resident=WHO, code=CODE, state="resolved", language=lang),
    "notice_cancelled": lambda lang: m.notice_sms(what="cancelled", resident=WHO, code=CODE, language=lang),
    "dispatch_go": lambda lang: md.dispatch_go(
        resident=WHO, address="", reason="alarm", code=CODE, operator="王芳", resident_phone=None, language=lang
    ),  # noqa: E501
    "dispatch_stood_down": lambda lang: md.dispatch_stood_down(resident=WHO, code=CODE, going="李强", language=lang),
    "notice_someone_going": lambda lang: md.notice_someone_going(
        resident=WHO, code=CODE, going="值班员王芳", language=lang
    ),  # noqa: E501
    "family_opened": lambda lang: fam.family_sms(resident=WHO, at="14:02", opened=True, reason="alarm", language=lang),
    "family_resolved": lambda lang: fam.family_sms(
        resident=WHO, at="14:40", opened=False, outcome="taken_to_hospital", language=lang
    ),  # noqa: E501
    "family_cancelled": lambda lang: fam.family_cancelled(resident=WHO, at_local="14:03", language=lang),
    "summary_sms": lambda lang: summary_sms(
        DayFacts("幸福里社区", date(2026, 12, 2), calls={"emergency": 2}, visits_overdue=("王伟",)), lang
    ),  # noqa: E501
    "visit_due": lambda lang: vm.visit_due(resident=WHO, address="", overdue_days=3, language=lang),
    "visit_overdue": lambda lang: vm.visit_overdue(
        resident=WHO, address="幸福里3幢", due=date(2026, 11, 28), overdue_days=5, visitors="", language=lang
    ),  # noqa: E501
    "visit_need": lambda lang: vm.visit_need(resident=WHO, visitor="李强", need="需要买药", language=lang),
    "visit_recorded": lambda lang: vm.visit_recorded(
        resident=WHO, next_due=date(2026, 12, 10), need=True, language=lang
    ),  # noqa: E501
    "visit_which": lambda lang: vm.visit_which(names=["张秀英", "王伟"], language=lang),
    "visit_unknown_sender": lambda lang: vm.visit_unknown_sender(language=lang),
    "follow_up_assigned": lambda lang: vm.follow_up_assigned(
        resident=WHO, address="幸福里3幢201", need="需要买药", promised=None, by="王芳", language=lang
    ),
}


def shipped_entries() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["templates"]


def fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda g: values[g.group(1)], text)


def test_every_sms_kind_has_a_sample_here():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_each_text_carries_its_kind_and_chinese_values_that_fill_the_shipped_template(kind, language):
    text = SAMPLES[kind](language)
    assert isinstance(text, Rendered) and text.kind == kind
    assert set(text.params) == set(KINDS[kind])
    assert all(isinstance(v, str) and v for v in text.params.values()), text.params  # Aliyun wants no empty value
    filled = fill(read_templates(SHIPPED)[kind].text, text.params)
    assert "${" not in filled and not re.search(r"[A-Za-z]{4,}", filled), filled  # Chinese, whatever the language


def test_the_shipped_template_says_what_the_product_says():
    for text in (m.reply_acknowledged(resident=WHO, code=CODE), m.notice_cancelled(resident=WHO, code=CODE)):
        assert fill(read_templates(SHIPPED)[text.kind].text, text.params) == text.removeprefix("【金桥】")
    page = m.page_sms(resident=WHO, address="幸福里3幢201", reason="fall", tier="building", code=CODE, repeats=2)
    filled = fill(read_templates(SHIPPED)["page_sms"].text, page.params)
    assert (
        filled
        == "张秀英（住址：幸福里3幢201）跌倒报警（共3次）。您是楼道党员。回复1确认前往，2转下一级，3已处理。编号4821"
    )


def test_a_text_put_together_from_two_is_no_template_any_more():
    joined = m.reply_help() + "。"
    assert template_of(joined) == (None, None)
    assert template_of(m.reply_help()) == ("reply_help", {})


def test_the_shipped_file_fits_every_message():
    templates = read_templates(SHIPPED)
    assert set(templates) == set(KINDS)
    assert templates["page_sms"].variables == ("resident", "address", "what", "tier", "code")


def test_a_message_without_a_template_is_named():
    entries = shipped_entries()
    del entries["reply_help"]
    with pytest.raises(TemplateError, match="message reply_help has no template"):
        check_templates(entries)


def test_a_variable_the_message_cannot_fill_is_named_with_the_message():
    entries = copy.deepcopy(shipped_entries())
    entries["page_sms"]["text"] = "${resident}（${address}）${what}，电话${phone}。编号${code}"
    with pytest.raises(TemplateError, match=r"message page_sms: its template uses \$\{phone\}, which it cannot fill"):
        check_templates(entries)


def test_a_variable_twice_a_bad_code_and_an_unknown_kind_are_refused():
    entries = copy.deepcopy(shipped_entries())
    entries["reply_acknowledged"]["text"] = "已确认${code}，完成后回复“3 ${code}”。${resident}"
    entries["reply_passed"]["code"] = "12345"
    entries["reply_pased"] = {"code": "SMS_1", "text": "x"}
    with pytest.raises(TemplateError) as caught:
        check_templates(entries)
    said = str(caught.value)
    assert "message reply_acknowledged: its template uses ${code} 2 times (once only)" in said
    assert "message reply_passed: code '12345' is no Aliyun TemplateCode" in said
    assert "reply_pased: no message of that kind" in said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("${resident} ${code}的呼叫已处理。", "two variables side by side"),
        ("【金桥】${resident}的呼叫（编号${code}）已处理。", "【】 belongs to the signature"),
        ("${resident}，${code}。", "variables alone"),
    ],
)
def test_what_aliyun_would_not_approve_is_refused_before_it_is_submitted(text, said):
    entries = copy.deepcopy(shipped_entries())
    entries["notice_cancelled"]["text"] = text
    with pytest.raises(TemplateError, match=f"message notice_cancelled: .*{said}"):
        check_templates(entries)


def test_a_missing_or_malformed_file_is_named(tmp_path):
    with pytest.raises(TemplateError, match="cannot read"):
        read_templates(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("templates: [1, 2]\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="needs a `templates:` mapping"):
        read_templates(bad)


def aliyun_settings(templates: Path, **more):
    given = dict(
        sms_provider="aliyun",
        aliyun_access_key_id="LTAI-test",
        aliyun_access_key_secret="secret",
        aliyun_sign_name="金桥",
        aliyun_templates=str(templates),
        aliyun_push_token="t" * 24,
    )
    return load_settings(**(given | more))


def test_start_up_refuses_a_template_file_that_does_not_fit(tmp_path):
    entries = copy.deepcopy(shipped_entries())
    entries["visit_need"]["text"] = "${visitor}走访${resident}时记下：${what}。"
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump({"templates": entries}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"JINQIAO_ALIYUN_TEMPLATES: .*message visit_need: .*\$\{what\}"):
        sms_templates(aliyun_settings(path))
    assert sms_templates(aliyun_settings(SHIPPED)) is not None
    assert sms_templates(load_settings()) is None  # Twilio or the console: no templates


@pytest.mark.parametrize("command", ["up", "dispatcher"])
def test_the_command_refuses_to_start_naming_the_message_and_the_variable(tmp_path, capsys, command):
    from jinqiao import runtime
    from jinqiao.cli import _refusing_taken_ports

    entries = copy.deepcopy(shipped_entries())
    entries["page_sms"]["text"] = "${resident}（住址：${address}）${what}。楼号${building}，编号${code}"
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump({"templates": entries}, allow_unicode=True), encoding="utf-8")
    run = runtime.run_up if command == "up" else runtime.run_dispatcher
    settings = aliyun_settings(path, database_url=f"sqlite:///{tmp_path / 'never.db'}")
    assert _refusing_taken_ports(command, run, settings) == 2
    said = capsys.readouterr().err
    assert f"jinqiao {command}: JINQIAO_ALIYUN_TEMPLATES:" in said
    assert "message page_sms: its template uses ${building}, which it cannot fill" in said
    assert not (tmp_path / "never.db").exists()  # refused before anything started


def test_jinqiao_up_as_a_process_exits_2_naming_the_message_and_the_variable(tmp_path):
    import os
    import subprocess
    import sys

    entries = copy.deepcopy(shipped_entries())
    del entries["visit_which"]
    path = tmp_path / "templates.yaml"
    path.write_text(yaml.safe_dump({"templates": entries}, allow_unicode=True), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(SHIPPED.parents[1]),
        "JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
        "JINQIAO_SMS_PROVIDER": "aliyun",
        "JINQIAO_ALIYUN_ACCESS_KEY_ID": "LTAI-test",
        "JINQIAO_ALIYUN_ACCESS_KEY_SECRET": "secret",
        "JINQIAO_ALIYUN_SIGN_NAME": "金桥",
        "JINQIAO_ALIYUN_TEMPLATES": str(path),
        "JINQIAO_ALIYUN_PUSH_TOKEN": "t" * 24,
    }
    done = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "up"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "JINQIAO_ALIYUN_TEMPLATES" in done.stderr and "message visit_which has no template" in done.stderr
    assert not (tmp_path / "never.db").exists()


def test_aliyun_settings_go_together():
    with pytest.raises(
        SettingsError, match="JINQIAO_SMS_PROVIDER=aliyun needs JINQIAO_ALIYUN_ACCESS_KEY_ID.*PUSH_TOKEN"
    ):
        load_settings(
            sms_provider="aliyun", aliyun_access_key_secret="s", aliyun_sign_name="金桥", aliyun_templates="x"
        )
    with pytest.raises(SettingsError, match="JINQIAO_SMS_PROVIDER"):
        load_settings(sms_provider="wecom")
    with pytest.raises(SettingsError, match="JINQIAO_ALIYUN_PUSH_TOKEN"):
        aliyun_settings(SHIPPED, aliyun_push_token="short")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sms", Route("sms", None)),
        ("voice", Route("voice", None)),
        ("aliyun_sms", Route("sms", "aliyun")),
        ("twilio_voice", Route("voice", "twilio")),
        ("aliyun_voice", Route("voice", "aliyun")),
        ("wecom_card", Route("card", "wecom")),
    ],
)
def test_a_channel_name_is_a_medium_and_maybe_its_provider(name, expected):
    assert route(name) == expected


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("wecom_robot", "wecom carries card only"),
        ("card", "use one of sms, voice"),  # a card needs its provider named
        ("twilio_fax", "twilio carries sms, voice only"),
        ("fax", "use one of sms"),
    ],
)
def test_a_channel_name_nobody_carries_is_refused_with_the_names_that_work(name, said):
    with pytest.raises(ValueError, match=said):
        route(name)
