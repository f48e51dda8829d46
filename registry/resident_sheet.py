"""The residents' record form as a street office prints it: one row per resident, Chinese column
headers, contacts side by side. Pure: rows of cell values in, registry entries (the import file's
form) out, and back; `registry/workbook.py` reads and writes the Excel file, `read_csv` a CSV.

A sheet holds the residents only: importing it replaces the registry's residents (one missing from
the sheet is deactivated, as one missing from a YAML file is) and leaves every other section as the
database has it. Validation is the import's own; its messages are told by row and column
("第3行 本人电话（E列）: ...") so a person can find the cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from registry.fields import RegistryError

SHEET_TITLE = "居民档案"
# (header, field of the import file's resident entry); contacts follow as groups of CONTACT_COLUMNS
COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "id"),
    ("姓名", "name"),
    ("楼栋编号", "building"),
    ("地址", "address"),
    ("本人电话", "phone"),
    ("独居", "lives_alone"),
    ("短信语言", "language"),
    ("健康情况", "medical_notes"),
    ("每日报平安截止时间", "checkin"),
    ("走访周期（天）", "visit_every_days"),
    ("性别", "sex"),
    ("出生年份", "birth_year"),
    ("照护等级", "care_level"),
    ("慢性病", "conditions"),
    ("过敏", "allergies"),
    ("用药", "medicines"),
    ("行动能力", "mobility"),
    ("常去医院", "hospital"),
    ("服务需求", "needs"),  # needs and services: 助餐、助浴
    ("同意人", "consent_by"),  # who gave the separate consent to keep health data (PIPL)
    ("同意日期", "consent_given"),
    ("居住情况", "household"),  # 独居, or 空巢 (with a spouse who is also old)
    ("身份证号", "id_number"),  # the office's own file: it holds the number
)
SEX = {"female": "女", "male": "男"}
CARE = {"self_care": "自理", "partly_dependent": "半失能", "dependent": "失能"}
MOBILITY = {"walks": "自行走动", "walks_with_aid": "借助拐杖助行器", "wheelchair": "轮椅", "bedridden": "卧床"}
HOUSEHOLD = {"alone": "独居", "empty_nest": "空巢"}
SMS_LANGUAGE = {"zh": "中文", "en": "英文"}
# cells written in words (a contact's language too; the resident's own is a code such as zh-CN)
NAMED = {"sex": SEX, "care_level": CARE, "mobility": MOBILITY, "household": HOUSEHOLD, "language": SMS_LANGUAGE}
IN_WORDS = ("sex", "care_level", "mobility", "household")  # the resident's own cells written in words
CONTACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("姓名", "name"),
    ("电话", "phone"),
    ("接收通知", "notify"),
    ("有钥匙", "has_key"),  # holds a key to the home (the 120 hand-off names them)
    ("所在国家或地区", "country"),  # family abroad
    ("时区", "timezone"),  # e.g. Australia/Sydney: their SMS gives the time in it
    ("短信语言", "language"),  # 中文 or 英文
)
MIN_CONTACT_GROUPS = 2  # an empty form still has room for two contacts
REQUIRED = ("编号", "姓名", "楼栋编号")
_CONTACT_HEADER = re.compile(r"^联系人(\d{1,2})(姓名|电话|接收通知|有钥匙|所在国家或地区|时区|短信语言)$")
YES, NO = "是", "否"
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "n", "no", "false", "0", "×"}


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: as Excel names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- entries → rows -------------------------------------------------------------------------------


def header_row(contact_groups: int) -> list[str]:
    head = [h for h, _ in COLUMNS]
    for n in range(1, contact_groups + 1):
        head += [f"联系人{n}{h}" for h, _ in CONTACT_COLUMNS]
    return head


def to_rows(residents: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """The header row and a row per resident (the import file's form, as `export_registry` gives it)."""
    groups = max([MIN_CONTACT_GROUPS, *(len(r.get("contacts") or []) for r in residents)])
    rows: list[list[Any]] = [header_row(groups)]
    for r in residents:
        row: list[Any] = []
        for _, field in COLUMNS:
            value = r.get(field)
            if field == "checkin":
                value = (value or {}).get("deadline")
            elif field.startswith("consent_"):
                value = (r.get("consent") or {}).get(field.removeprefix("consent_"))
            elif field in IN_WORDS:
                value = NAMED[field].get(str(value), value) if value else value
            if isinstance(value, bool):
                value = YES if value else NO
            row.append("" if value is None else value)
        for c in r.get("contacts") or []:
            row += [
                c.get("name", ""),
                c.get("phone", ""),
                YES if c.get("notify") else NO,
                YES if c.get("has_key") else NO,
                c.get("country") or "",
                c.get("timezone") or "",
                SMS_LANGUAGE[c.get("language") or "zh"],
            ]
        row += [""] * (len(rows[0]) - len(row))
        rows.append(row)
    return rows


# --- rows → entries -------------------------------------------------------------------------------


class Sheet:
    """The rows of a filled-in form, understood: which column holds what, and where each resident is."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        problems: list[str] = []
        rows = [list(r) for r in rows]
        if not rows or not any(_text(v) for v in rows[0]):
            raise RegistryError(
                [f"{SHEET_TITLE}: the first row must hold the column headers ({'、'.join(REQUIRED)} …)"]
            )
        self.fields: dict[int, tuple[int | None, str]] = {}  # column → (contact number or None, field)
        self.headers: dict[tuple[int | None, str], int] = {}
        by_header = {h: f for h, f in COLUMNS}
        for i, cell in enumerate(rows[0]):
            header = _text(cell)
            if not header:
                continue
            found = _CONTACT_HEADER.match(header)
            if header in by_header:
                key: tuple[int | None, str] = (None, by_header[header])
            elif found:
                key = (int(found[1]), dict(CONTACT_COLUMNS)[found[2]])
            else:
                problems.append(f"第1行 {column_letter(i)}列: unknown column '{header}'")
                continue
            if key in self.headers:
                problems.append(f"第1行 {column_letter(i)}列: column '{header}' appears twice")
            self.fields[i], self.headers[key] = key, i
        problems += [
            f"第1行: the column '{h}' is missing" for h in REQUIRED if (None, by_header[h]) not in self.headers
        ]
        if problems:
            raise RegistryError(problems)
        # (sheet row number, cells) of every row with anything in it; blank rows are skipped
        self.rows = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(_text(v) for v in r)]

    def residents(self) -> list[dict[str, Any]]:
        """The import file's resident entries, in sheet order; a cell that cannot be read is a problem."""
        problems: list[str] = []
        entries = [self._entry(n, cells, problems) for n, cells in self.rows]
        if problems:
            raise RegistryError(problems)
        return entries

    def _entry(self, n: int, cells: Sequence[Any], problems: list[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        contacts: dict[int, dict[str, Any]] = {}
        for i, (contact, field) in self.fields.items():
            raw = cells[i] if i < len(cells) else None
            if _text(raw) == "":
                continue
            try:
                value = _cell(field, raw, contact)
            except ValueError as e:
                problems.append(f"第{n}行 {self.header(contact, field)}（{column_letter(i)}列）: {e}")
                continue
            if contact is None and field.startswith("consent_"):
                entry.setdefault("consent", {})[field.removeprefix("consent_")] = value
            elif contact is None:
                entry[field] = {"deadline": value} if field == "checkin" else value
            else:
                contacts.setdefault(contact, {})[field] = value
        if contacts:
            entry["contacts"] = [contacts[k] for k in sorted(contacts)]
        return entry

    def header(self, contact: int | None, field: str) -> str:
        if contact is not None:
            return f"联系人{contact}{dict((f, h) for h, f in CONTACT_COLUMNS)[field]}"
        return dict((f, h) for h, f in COLUMNS)[field]

    def where(self, problem: str, ids: Sequence[Any]) -> str:
        """A validation problem about `residents[<id or index>]…` told by the row and column it came from."""
        found = re.match(r"^residents\[([^\]]*)\](.*)$", problem)
        if not found:
            return problem
        label, rest = found[1], found[2]
        index = next((i for i, v in enumerate(ids) if v is not None and str(v) == label), None)
        if index is None and label.isdigit() and int(label) < len(self.rows):
            index = int(label)
        if index is None:
            return problem
        row = self.rows[index][0]
        path = re.match(r"^\.(\w+)(?:\[(\d+|[^\]]*)\]\.(\w+))?(?:\.\w+)?:\s*(.*)$", rest)
        if not path:
            return f"第{row}行（{label}）{rest.lstrip('.')}"
        field, contact, contact_field, message = path[1], path[2], path[3], path[4]
        key: tuple[int | None, str] = (
            (int(contact) + 1, contact_field) if field == "contacts" and contact and contact_field else (None, field)
        )
        if contact and not contact.isdigit():  # a contact labelled by something other than its place
            key = (None, field)
        column = self.headers.get(key)
        if column is None:
            return f"第{row}行（{label}）{field}: {message}"
        return f"第{row}行（{label}）{self.header(*key)}（{column_letter(column)}列）: {message}"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _cell(field: str, raw: Any, contact: int | None = None) -> Any:
    """One cell as the import file would have it; ValueError says what was expected."""
    if field in ("lives_alone", "notify", "has_key"):
        text = _text(raw).lower()
        if isinstance(raw, bool):
            return raw
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"write {YES} or {NO}, not '{_text(raw)}'")
    if field == "checkin":
        if isinstance(raw, (dt.time, dt.datetime)):
            return raw.strftime("%H:%M")
        return _text(raw)
    if field in IN_WORDS or (field == "language" and contact is not None):
        names = NAMED[field]
        text = _text(raw)
        found = next((k for k, v in names.items() if text in (k, v)), None)
        if found is None:
            raise ValueError(f"write {' or '.join(names.values())}, not '{text}'")
        return found
    if field == "birth_year":
        year = raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else _number(_text(raw))
        if year is None or year != int(year):
            raise ValueError(f"write the year of birth, e.g. 1942, not '{_text(raw)}'")
        return int(year)
    if field == "consent_given":
        if isinstance(raw, dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, dt.date):
            return raw.isoformat()
        try:
            return dt.date.fromisoformat(_text(raw).replace("/", "-")).isoformat()
        except ValueError:
            raise ValueError(f"write the date as 2026-11-01, not '{_text(raw)}'") from None
    if field == "visit_every_days":
        days = raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else _number(_text(raw))
        if days is None or days != int(days):
            raise ValueError(f"write a whole number of days from 1 to 31, not '{_text(raw)}'")
        return int(days)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # Excel keeps a phone number typed without + as a number
    return _text(raw)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# --- CSV -------------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    """A CSV of the form. Excel on a Chinese Windows saves CSV as GBK, elsewhere as UTF-8 with a BOM:
    both are read; anything else is refused with what to do."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # GBK's superset: what Excel calls 中文(GB2312)/GBK
        except UnicodeDecodeError:
            raise RegistryError(
                [
                    "the CSV file is neither UTF-8 nor GBK: save it from Excel as “CSV UTF-8” or as .xlsx and import again"
                ]
            ) from None
    return [row for row in csv.reader(io.StringIO(text))]


def write_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, which Excel opens with the Chinese headers intact."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")
