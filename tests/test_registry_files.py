"""The registry in and out of files (registry/files.py): the residents' form as Excel and CSV with
Chinese headers, all or nothing, its problems named by row and column; a GBK CSV read; the whole
registry as YAML that imports back unchanged; and the `jinqiao export` and `import` commands."""

from __future__ import annotations

import io
from datetime import datetime, time, timezone

import pytest
import yaml
from openpyxl import Workbook, load_workbook

from registry.fields import RegistryError
from registry.files import import_file, registry_yaml, residents_form
from registry.resident_sheet import COLUMNS, Sheet, column_letter, read_csv, to_rows, write_csv
from registry.store import import_registry
from tests.test_cli import jinqiao
from tests.test_registry_import import dump

C = len(COLUMNS)  # the contacts' groups start after the resident's own columns


@pytest.fixture
def imported(sessions, example_registry):
    import_registry(sessions, example_registry)
    return sessions


def workbook_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_form_has_the_offices_headers_and_every_resident(imported):
    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    assert rows[0][:15] == [
        "编号",
        "姓名",
        "楼栋编号",
        "地址",
        "本人电话",
        "独居",
        "短信语言",
        "健康情况",
        "每日报平安截止时间",
        "走访周期（天）",
        "性别",
        "出生年份",
        "照护等级",
        "慢性病",
        "过敏",
    ]
    assert rows[0][15:C] == ["用药", "行动能力", "常去医院", "服务需求", "同意人", "同意日期", "居住情况", "身份证号"]
    assert rows[0][C : C + 7] == [
        "联系人1姓名",
        "联系人1电话",
        "联系人1接收通知",
        "联系人1有钥匙",
        "联系人1所在国家或地区",
        "联系人1时区",
        "联系人1短信语言",
    ]
    zhang = next(r for r in rows if r[0] == "r-zhang")
    assert zhang[1:10] == [
        "张秀英",
        "wulin-3",
        "幸福里3幢2单元201",
        "+8613800000001",
        "是",
        "zh-CN",
        "高血压；青霉素过敏",
        "10:00",
        None,  # empty: the default, monthly
    ]
    assert zhang[10:C] == [None] * (C - 10)  # the example's record has none of these yet (empty text: a blank cell)
    assert zhang[C : C + 7] == ["张伟（儿子，悉尼）", "+61400000001", "是", "否", None, None, "中文"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_form_round_trip_changes_nothing(imported, tmp_path, suffix):
    before = dump(imported)
    path = tmp_path / f"residents{suffix}"
    with imported() as s:
        path.write_bytes(residents_form(s, suffix))
    report = import_file(imported, path)
    assert not report.changed and dump(imported) == before


def test_the_yaml_export_imports_back_unchanged(imported, tmp_path):
    before = dump(imported)
    path = tmp_path / "registry.yaml"
    with imported() as s:
        path.write_text(registry_yaml(s), encoding="utf-8")
    assert not import_file(imported, path).changed and dump(imported) == before
    assert "张秀英" in path.read_text(encoding="utf-8")  # written as Chinese, not \u escapes


def test_a_responders_own_channels_go_out_in_the_yaml_and_come_back_unchanged(imported, tmp_path):
    from core.schema import Responder

    path = tmp_path / "registry.yaml"
    with imported() as s:
        doc = yaml.safe_load(registry_yaml(s))
    assert all("channels" not in r for r in doc["responders"])  # none has a list of their own: the tier's
    next(r for r in doc["responders"] if r["id"] == "pm-zhao")["channels"] = ["aliyun_sms", "twilio_voice"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert import_file(imported, path).changed
    with imported() as s:
        assert s.get(Responder, "pm-zhao").channels == ["aliyun_sms", "twilio_voice"]
        assert s.get(Responder, "pm-li").channels is None
        path.write_text(registry_yaml(s), encoding="utf-8")
    before = dump(imported)
    assert not import_file(imported, path).changed and dump(imported) == before
    written = yaml.safe_load(path.read_text(encoding="utf-8"))["responders"]
    assert [(r["id"], r.get("channels")) for r in written if r["id"] in ("pm-li", "pm-zhao")] == [
        ("pm-li", None),
        ("pm-zhao", ["aliyun_sms", "twilio_voice"]),
    ]


def test_a_form_edits_the_residents_and_leaves_the_rest(imported, tmp_path):
    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    liu = next(r for r in rows if r[0] == "r-liu")
    liu[4] = 13800000009  # typed into Excel without +86: a number cell
    liu[8] = time(9, 30)  # Excel made the time a time
    liu[9] = 1  # visited daily
    (tmp_path / "r.xlsx").write_bytes(xlsx([*rows, ["r-wang", "王秀兰", "wulin-5", "幸福里5幢3单元101"]]))
    assert import_file(imported, tmp_path / "r.xlsx").changed
    from core.schema import Resident, Responder

    with imported() as s:
        liu_row = s.get(Resident, "r-liu")
        assert (liu_row.phone, liu_row.checkin_deadline, liu_row.visit_every_days) == ("+8613800000009", "09:30", 1)
        assert s.get(Resident, "r-wang").active
        assert s.get(Responder, "pm-li").active  # the other sections are the database's
    (tmp_path / "r.xlsx").write_bytes(xlsx(rows))  # r-wang taken off the form
    assert import_file(imported, tmp_path / "r.xlsx").changed
    with imported() as s:
        assert not s.get(Resident, "r-wang").active  # deactivated, as one left out of a YAML file is


def test_problems_are_told_by_row_and_column_and_nothing_is_written(imported, tmp_path):
    before = dump(imported)
    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    rows[1][4] = "12345"  # a phone that is no phone
    rows[2][2] = "wulin-9"  # a building that does not exist
    rows[2][5] = "也许"  # neither yes nor no
    rows[1][9] = "每周"  # a visit interval that is no number of days
    rows.append(["r-new", "", "wulin-3"])  # a name missing
    (tmp_path / "bad.xlsx").write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as found:
        import_file(imported, tmp_path / "bad.xlsx")
    assert found.value.problems == [
        "第2行 走访周期（天）（J列）: write a whole number of days from 1 to 31, not '每周'",
        "第3行 独居（F列）: write 是 or 否, not '也许'",
    ]  # a cell that cannot be read stops first
    rows[2][5] = "否"
    rows[1][9] = 60  # a number, but more than a month
    (tmp_path / "bad.xlsx").write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as found:
        import_file(imported, tmp_path / "bad.xlsx")
    text = "\n".join(found.value.problems)
    assert f"第2行（{rows[1][0]}）本人电话（E列）" in text
    assert "第4行（r-new）姓名（B列）: required" in text
    assert f"第2行（{rows[1][0]}）走访周期（天）（J列）" in text and "31" in text
    assert "wulin-9" in text and "第3行" in text
    assert dump(imported) == before


@pytest.mark.parametrize(
    "header, message",
    [
        (["姓名", "楼栋编号"], "the column '编号' is missing"),
        (["编号", "姓名", "楼栋编号", "血型"], "第1行 D列: unknown column '血型'"),
        (["编号", "姓名", "楼栋编号", "姓名"], "第1行 D列: column '姓名' appears twice"),
        ([], "the first row must hold the column headers"),
    ],
)
def test_a_bad_header_is_refused_with_what_is_wrong(header, message):
    with pytest.raises(RegistryError, match=message):
        Sheet([header, ["r-1", "王", "b"]])


def test_a_gbk_csv_from_excel_is_read_and_other_bytes_are_refused_with_a_hint():
    rows = to_rows([{"id": "r-1", "name": "王秀兰", "building": "b", "contacts": []}])
    gbk = "\r\n".join(",".join(str(v) for v in r) for r in rows).encode("gbk")
    assert read_csv(gbk)[1][:2] == ["r-1", "王秀兰"]
    assert read_csv(write_csv(rows)) == [[str(v) for v in r] for r in rows]  # UTF-8 with a BOM
    with pytest.raises(RegistryError, match="neither UTF-8 nor GBK"):
        read_csv(b"\xff\xfe\x00\xd8\x00")


def test_a_file_that_is_no_workbook_is_refused(tmp_path, imported):
    (tmp_path / "x.xlsx").write_bytes(b"not a zip at all")
    with pytest.raises(RegistryError, match="not an Excel .xlsx workbook"):
        import_file(imported, tmp_path / "x.xlsx")


def test_column_letters_are_excels():
    assert [column_letter(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]


def test_export_and_import_from_the_command_line(tmp_path, example_registry):
    env = {"JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"}
    assert jinqiao("import", str(example_registry), env=env).returncode == 0
    for what, name in (("residents", "r.xlsx"), ("residents", "r.csv"), ("registry", "all.yaml")):
        done = jinqiao("export", what, str(tmp_path / name), env=env)
        assert done.returncode == 0 and (tmp_path / name).exists(), done.stderr
        again = jinqiao("import", str(tmp_path / name), env=env)
        assert again.returncode == 0 and "no changes" in again.stdout, again.stderr
    refused = jinqiao("export", "residents", str(tmp_path / "r.txt"), env=env)
    assert refused.returncode == 1 and ".xlsx or .csv" in refused.stderr


def test_the_yaml_export_carries_an_away_period_into_a_new_database(imported, tmp_path):
    from core.db import make_engine, session_factory, upgrade
    from core.schema import Resident

    away = tmp_path / "away.yaml"
    with imported() as s:
        doc = yaml.safe_load(registry_yaml(s))
    doc["residents"][0]["away"] = {"from": "2026-12-10", "to": "2026-12-20T18:00:00+08:00"}
    away.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert import_file(imported, away).changed
    path = tmp_path / "registry.yaml"
    with imported() as s:
        path.write_text(registry_yaml(s), encoding="utf-8")
    resident = doc["residents"][0]["id"]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    fresh = make_engine(url)
    try:
        import_file(session_factory(fresh), path)
        rows = []
        for factory in (imported, session_factory(fresh)):
            with factory() as s:
                r = s.get(Resident, resident)
                rows.append(
                    tuple(
                        v if v is None or v.tzinfo else v.replace(tzinfo=timezone.utc) for v in (r.away_from, r.away_to)
                    )
                )
        assert rows[0] == rows[1] and rows[0][0] == datetime(2026, 12, 9, 16, 0, tzinfo=timezone.utc)
        assert "2026-12-10T00:00:00+08:00" in path.read_text(encoding="utf-8")  # written in the community's zone
    finally:
        fresh.dispose()


def test_a_key_holder_is_marked_in_the_form_and_read_back(imported, tmp_path):
    from sqlalchemy import select, update

    from core.schema import Contact

    with imported.begin() as s:
        s.execute(update(Contact).values(has_key=True))
    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    zhang = next(r for r in rows if r[0] == "r-zhang")
    assert zhang[C + 3] == "是"
    zhang[C + 3] = "否"  # the key handed back, on the office's form
    path = tmp_path / "residents.xlsx"
    path.write_bytes(xlsx(rows))
    assert import_file(imported, path).changed
    with imported() as s:
        assert s.scalars(select(Contact.has_key)).all() == [False]
    zhang[C + 3] = "也许"
    path.write_bytes(xlsx(rows))
    with pytest.raises(RegistryError, match="联系人1有钥匙"):
        import_file(imported, path)


def test_the_record_fields_go_out_and_in_with_the_offices_words(imported, tmp_path):
    import datetime as dt

    from core.schema import Resident

    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    zhang = next(r for r in rows if r[0] == "r-zhang")
    zhang[10:13] = ["女", 1942, "半失能"]
    zhang[C - 4 : C - 2] = ["本人", dt.datetime(2026, 11, 1)]  # Excel keeps a typed date as a date
    path = tmp_path / "record.xlsx"
    path.write_bytes(xlsx(rows))
    assert import_file(imported, path).changed
    with imported() as s:
        r = s.get(Resident, "r-zhang")
        assert (r.sex, r.birth_year, r.care_level, r.consent_by, r.consent_on) == (
            "female",
            1942,
            "partly_dependent",
            "本人",
            dt.date(2026, 11, 1),
        )
        again = workbook_rows(residents_form(s, ".xlsx"))
        entry = next(e for e in yaml.safe_load(registry_yaml(s))["residents"] if e["id"] == "r-zhang")
    again_zhang = next(r for r in again if r[0] == "r-zhang")
    assert again_zhang[10:13] == ["女", 1942, "半失能"] and again_zhang[C - 4 : C - 2] == ["本人", "2026-11-01"]
    assert entry["consent"] == {"by": "本人", "given": "2026-11-01"} and entry["care_level"] == "partly_dependent"
    assert not import_file(imported, path).changed  # a round trip changes nothing
    zhang[10:13] = ["F", "四二年", "一般"]
    zhang[C - 4 : C - 2] = ["本人", "十一月"]
    path.write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as found:
        import_file(imported, path)
    assert found.value.problems == [
        "第3行 性别（K列）: write 女 or 男, not 'F'",
        "第3行 出生年份（L列）: write the year of birth, e.g. 1942, not '四二年'",
        "第3行 照护等级（M列）: write 自理 or 半失能 or 失能, not '一般'",
        "第3行 同意日期（U列）: write the date as 2026-11-01, not '十一月'",
    ]


HEALTH_CELLS = ["高血压、糖尿病", "青霉素", "硝苯地平 每日一次", "借助拐杖助行器", "浙江省人民医院", "助餐、助浴"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".yaml"])
def test_the_health_fields_go_out_and_come_back_unchanged_mobility_in_words(imported, tmp_path, suffix):
    from core.schema import Resident

    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    zhang = next(r for r in rows if r[0] == "r-zhang")
    zhang[13:19] = HEALTH_CELLS
    (tmp_path / "health.xlsx").write_bytes(xlsx(rows))
    assert import_file(imported, tmp_path / "health.xlsx").changed
    with imported() as s:
        r = s.get(Resident, "r-zhang")
        assert (r.conditions, r.allergies, r.medicines, r.mobility, r.hospital, r.needs) == (
            "高血压、糖尿病",
            "青霉素",
            "硝苯地平 每日一次",
            "walks_with_aid",
            "浙江省人民医院",
            "助餐、助浴",
        )
        assert r.medical_notes == "高血压；青霉素过敏"  # the other notes stay as they were
    before = dump(imported)
    path = tmp_path / f"residents{suffix}"
    with imported() as s:
        if suffix == ".yaml":
            path.write_text(registry_yaml(s), encoding="utf-8")
            entry = next(e for e in yaml.safe_load(registry_yaml(s))["residents"] if e["id"] == "r-zhang")
            assert entry["mobility"] == "walks_with_aid" and entry["allergies"] == "青霉素"
        else:
            path.write_bytes(residents_form(s, suffix))
            again = next(r for r in workbook_rows(residents_form(s, ".xlsx")) if r[0] == "r-zhang")
            assert again[13:19] == HEALTH_CELLS
    assert not import_file(imported, path).changed and dump(imported) == before


@pytest.mark.parametrize(("word", "code"), [("自行走动", "walks"), ("轮椅", "wheelchair"), ("卧床", "bedridden")])
def test_each_mobility_word_is_read_and_written_back(word, code):
    rows = [[h for h, _ in COLUMNS], ["r-1", "王秀兰", "b"] + [""] * (C - 3)]
    rows[1][16] = word
    entry = Sheet(rows).residents()[0]
    assert entry["mobility"] == code and to_rows([entry])[1][16] == word


def test_a_mobility_the_form_does_not_know_is_told_by_row_and_column(imported, tmp_path):
    before = dump(imported)
    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    next(r for r in rows if r[0] == "r-zhang")[16] = "能走"
    path = tmp_path / "residents.xlsx"
    path.write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as found:
        import_file(imported, path)
    assert found.value.problems == [
        "第3行 行动能力（Q列）: write 自行走动 or 借助拐杖助行器 or 轮椅 or 卧床, not '能走'"
    ]
    assert dump(imported) == before


def abroad(imported) -> None:
    """张秀英 lives with her old husband now; her son in Sydney reads his SMS in English, in his time."""
    from sqlalchemy import update

    from core.schema import Contact, Resident

    with imported.begin() as s:
        s.execute(
            update(Resident)
            .where(Resident.id == "r-zhang")
            .values(household="empty_nest", lives_alone=False, id_number="11010519491231002X")
        )
        s.execute(update(Contact).values(country="澳大利亚", timezone="Australia/Sydney", language="en"))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".yaml"])
def test_the_household_and_family_abroad_go_out_and_come_back_unchanged(imported, tmp_path, suffix):
    abroad(imported)
    before = dump(imported)
    path = tmp_path / f"residents{suffix}"
    with imported() as s:
        if suffix == ".yaml":
            path.write_text(registry_yaml(s), encoding="utf-8")
        else:
            path.write_bytes(residents_form(s, suffix))
            rows = workbook_rows(residents_form(s, ".xlsx"))
            zhang = next(r for r in rows if r[0] == "r-zhang")
            assert zhang[C - 2 : C] == ["空巢", "11010519491231002X"] and zhang[C + 4 : C + 7] == [
                "澳大利亚",
                "Australia/Sydney",
                "英文",
            ]
    assert not import_file(imported, path).changed and dump(imported) == before


def test_a_bad_time_zone_or_sms_language_names_the_row_the_resident_and_the_contact(imported, tmp_path):
    with imported() as s:
        rows = workbook_rows(residents_form(s, ".xlsx"))
    zhang = next(r for r in rows if r[0] == "r-zhang")
    zhang[C + 5] = "Sydney"
    path = tmp_path / "residents.xlsx"
    path.write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as e:
        import_file(imported, path)
    assert any("r-zhang" in p and "联系人1时区" in p and "unknown time zone 'Sydney'" in p for p in e.value.problems)
    zhang[C + 5], zhang[C + 6], zhang[C - 2], zhang[C - 1] = "Australia/Sydney", "法文", "合租", "110105194912310021"
    path.write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as e:
        import_file(imported, path)
    assert any("联系人1短信语言" in p and "中文 or 英文" in p for p in e.value.problems)
    assert any("居住情况" in p and "独居 or 空巢" in p for p in e.value.problems)
    zhang[C + 6], zhang[C - 2] = "英文", "空巢"  # the cells read; the entry's own check finds the number
    path.write_bytes(xlsx(rows))
    with pytest.raises(RegistryError) as e:
        import_file(imported, path)
    assert any("r-zhang" in p and "身份证号" in p and "***0021 does not add up" in p for p in e.value.problems)


def test_a_bad_time_zone_in_the_yaml_names_the_resident_and_the_contact(example_registry, tmp_path):
    from registry.validation import read_yaml, validate_registry

    doc = read_yaml(example_registry.read_bytes())
    doc["residents"][0]["contacts"][0]["timezone"] = "Sydney"
    with pytest.raises(RegistryError) as e:
        validate_registry(doc)
    assert any(
        p.startswith("residents[r-zhang].contacts[0].timezone: ")
        and "unknown time zone 'Sydney' (张伟（儿子，悉尼）)" in p
        for p in e.value.problems
    )
