"""The 120 hand-off's text (dispatcher.handoff.text, full_address), pure: what is read aloud."""

from __future__ import annotations

import pytest

from dispatcher.handoff import Handoff, Health, Person, full_address, text


@pytest.mark.parametrize(
    ("community", "building", "address", "expected"),
    [
        ("武林社区", "幸福里3幢", "幸福里3幢2单元201", "武林社区 幸福里3幢2单元201"),
        ("武林社区", "幸福里3幢", "2单元201", "武林社区 幸福里3幢 2单元201"),
        ("武林社区", "幸福里3幢", "武林社区幸福里3幢2单元201", "武林社区幸福里3幢2单元201"),
        ("", "", "幸福里3幢2单元201", "幸福里3幢2单元201"),
    ],
)
def test_the_full_address_names_community_and_building_once(community, building, address, expected):
    assert full_address(community, building, address) == expected


def handoff(contacts=(), phone="+8613800000001", medical="高血压") -> Handoff:
    return Handoff("8150", "fall", "张秀英", "武林社区 幸福里3幢2单元201", medical, phone, tuple(contacts))


def test_the_text_in_both_languages_with_key_holders():
    h = handoff([Person("张伟", "+61400000001", notify=True), Person("李阿姨", "+8613800000009", has_key=True)])
    assert text(h, "zh").splitlines() == [
        "老人：张秀英（呼叫 #8150：跌倒报警）",
        "地址：武林社区 幸福里3幢2单元201",
        "健康情况：高血压",
        "老人电话：+8613800000001",
        "家属和联系人：张伟 +61400000001；李阿姨 +8613800000009",
        "有钥匙的人：李阿姨 +8613800000009",
    ]
    assert text(h, "en").splitlines() == [
        "Patient: 张秀英 (call #8150: a fall was detected)",
        "Address: 武林社区 幸福里3幢2单元201",
        "Medical notes: 高血压",
        "Patient's phone: +8613800000001",
        "Family and contacts: 张伟 +61400000001; 李阿姨 +8613800000009",
        "Key holders: 李阿姨 +8613800000009",
    ]


def test_what_is_not_on_file_is_said_so():
    zh = text(handoff(phone=None, medical=""), "zh")
    assert "老人电话：无登记" in zh and "健康情况：无登记" in zh and "有钥匙的人：无登记" in zh
    assert "Key holders: none on file" in text(handoff(), "en")


def test_sex_and_age_follow_the_name_and_are_left_out_when_unknown():
    h = Handoff("8150", "alarm", "张秀英", "幸福里3幢2单元201", "", None, (), sex="female", age=84)
    assert text(h, "zh").splitlines()[0] == "老人：张秀英（女，约84岁）（呼叫 #8150：按键呼救）"
    assert text(h, "en").splitlines()[0] == "Patient: 张秀英 (female, about 84) (call #8150: pressed the call button)"
    only_age = Handoff("8150", "alarm", "张秀英", "", "", None, (), age=84)
    assert text(only_age, "zh").splitlines()[0] == "老人：张秀英（约84岁）（呼叫 #8150：按键呼救）"
    assert text(handoff(), "zh").splitlines()[0] == "老人：张秀英（呼叫 #8150：跌倒报警）"


def with_health(medical="", **fields) -> Handoff:
    return Handoff("8150", "alarm", "张秀英", "幸福里3幢2单元201", medical, None, (), health=Health(**fields))


def test_the_health_fields_are_read_to_the_crew_each_only_when_on_file():
    h = with_health(
        "做过心脏搭桥",
        conditions="高血压、糖尿病",
        allergies="青霉素",
        medicines="硝苯地平、二甲双胍",
        mobility="wheelchair",
        hospital="浙江省人民医院",
    )
    assert text(h, "zh").splitlines()[2:8] == [
        "慢性病：高血压、糖尿病",
        "过敏：青霉素",
        "用药：硝苯地平、二甲双胍",
        "其他健康情况：做过心脏搭桥",
        "行动能力：坐轮椅",
        "常去医院：浙江省人民医院",
    ]
    assert text(h, "en").splitlines()[2:8] == [
        "Conditions: 高血压、糖尿病",
        "Allergies: 青霉素",
        "Medicines: 硝苯地平、二甲双胍",
        "Other medical notes: 做过心脏搭桥",
        "Mobility: uses a wheelchair",
        "Usual hospital: 浙江省人民医院",
    ]
    only_allergy = text(with_health(allergies="青霉素"), "zh").splitlines()
    assert only_allergy[2:4] == ["过敏：青霉素", "老人电话：无登记"]  # no empty lines, no "其他健康情况"
    bedridden = text(with_health(mobility="bedridden"), "zh").splitlines()
    assert bedridden[2:4] == ["健康情况：无登记", "行动能力：卧床"]  # nothing named: the notes say so


def test_a_viewers_handoff_has_no_health_line_at_all():
    h = Handoff("8150", "alarm", "张秀英", "", None, None, (), health=None)
    zh = text(h, "zh")
    assert "健康" not in zh and "过敏" not in zh and "行动能力" not in zh and "Medical" not in text(h, "en")
