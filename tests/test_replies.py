"""SMS replies: what people type, and what it means."""

from __future__ import annotations

import pytest

from dispatcher.replies import NONSENSE_LIMIT, Reply, parse_reply, should_answer_nonsense


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the contract
        ("1", Reply("ack", None)),
        ("2", Reply("pass", None)),
        ("3", Reply("resolve", None)),
        ("收到", Reply("ack", None)),
        ("1 4821", Reply("ack", "4821")),
        ("2 4821", Reply("pass", "4821")),
        ("3 4821", Reply("resolve", "4821")),
        ("收到 4821", Reply("ack", "4821")),
        # forgiving in form: full-width, spaces, punctuation, line breaks
        ("１", Reply("ack", None)),
        ("１　４８２１", Reply("ack", "4821")),
        ("  1 \n", Reply("ack", None)),
        ("1。", Reply("ack", None)),
        ("3!", Reply("resolve", None)),
        ("“2”", Reply("pass", None)),
        ("1,4821", Reply("ack", "4821")),
        ("1，4821", Reply("ack", "4821")),
        ("1#4821", Reply("ack", "4821")),
        ("1＃4821", Reply("ack", "4821")),
        ("1-4821", Reply("ack", "4821")),
        ("1、4821。", Reply("ack", "4821")),
        ("1\n4821", Reply("ack", "4821")),
        ("1   4821  ", Reply("ack", "4821")),
        ("1 编号4821", Reply("ack", "4821")),
        ("1编号4821", Reply("ack", "4821")),
        ("收到4821", Reply("ack", "4821")),
        ("收到！", Reply("ack", None)),
        ("收到，编号：4821", Reply("ack", "4821")),
        ("2 12345678", Reply("pass", "12345678")),
    ],
)
def test_understood(body, expected):
    assert parse_reply(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "？",
        "4821",  # a code alone says nothing about what to do
        "14821",  # 1 + 4821, or a mistyped code? Ask rather than guess.
        "12",
        "4",
        "0",
        "1 48",  # too short for a code
        "1 123456789",  # too long for a code
        "1 abcd",
        "1 4821 谢谢",
        "收到，但我去不了",  # trailing words could reverse the meaning: never an acknowledgement
        "收到收到收到x",
        "OK",
        "ok",
        "好的",
        "确认",
        "是",
        "yes",
        "STOP",
        "谁啊？",
        "٤",  # an Arabic-Indic four: not our digits
    ],
)
def test_nonsense(body):
    assert parse_reply(body) is None


def test_none_body_is_nonsense():
    assert parse_reply(None) is None  # type: ignore[arg-type]  # a webhook without Body


@pytest.mark.parametrize(
    ("previous", "answer"),
    [(0, True), (1, True), (2, True), (3, False), (4, False), (50, False)],
)
def test_nonsense_gets_the_help_text_three_times_in_a_row_then_silence(previous, answer):
    assert NONSENSE_LIMIT == 3
    assert should_answer_nonsense(previous) is answer
