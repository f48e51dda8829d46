"""The 120 hand-off: what an operator reads aloud to the ambulance dispatcher, in the order they ask.

`load` reads the rows (the resident, the building, the community, the contacts); `text` (pure)
writes them out in Chinese or English, a line a fact, for reading aloud and for the clipboard.
The age is told from the birth year, a year either way. Of the record's health fields the crew
hears the chronic conditions, allergies, medicines, how the resident gets about (a wheelchair, in
bed: what to carry them on) and the usual hospital, each only when on file; a viewer's hand-off has none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import Alert, Building, Community, Contact, Resident


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    has_key: bool = False
    notify: bool = False


@dataclass(frozen=True)
class Health:
    """The record's health fields an ambulance crew asks about; empty: not on file."""

    conditions: str = ""  # 慢性病
    allergies: str = ""
    medicines: str = ""
    mobility: str | None = None  # walks | walks_with_aid | wheelchair | bedridden
    hospital: str = ""  # the usual one, where their file is

    @property
    def named(self) -> bool:
        """Conditions, allergies or medicines on file: the notes are then the other notes."""
        return bool(self.conditions or self.allergies or self.medicines)


@dataclass(frozen=True)
class Handoff:
    alert_code: str
    reason: str
    resident: str
    address: str  # the full address: community, building, unit and flat
    medical_notes: str | None  # None: not for this reader (a viewer): the line is left out
    resident_phone: str | None
    contacts: tuple[Person, ...]
    sex: str | None = None  # female | male
    age: int | None = None  # from the birth year, in the year of the call: a year either way
    health: Health | None = None  # None: not for this reader (a viewer), as medical_notes

    @property
    def key_holders(self) -> tuple[Person, ...]:
        return tuple(c for c in self.contacts if c.has_key)


SEX_ZH = {"female": "女", "male": "男"}
MOBILITY = {  # the board's words (web/static/i18n.js mob_*), so the panel and the text agree
    "walks": ("自行走动", "walks unaided"),
    "walks_with_aid": ("借助拐杖或助行器", "walks with a stick or walker"),
    "wheelchair": ("坐轮椅", "uses a wheelchair"),
    "bedridden": ("卧床", "bedridden"),
}
REASON = {"alarm": ("按键呼救", "pressed the call button"), "fall": ("跌倒报警", "a fall was detected")}


def load(s: Session, alert: Alert) -> Handoff:
    resident = s.get(Resident, alert.resident_id)
    assert resident is not None  # alerts.resident_id is a foreign key
    building = s.get(Building, resident.building_id)
    community = s.get(Community, building.community_id) if building else None
    contacts = s.scalars(select(Contact).where(Contact.resident_id == resident.id).order_by(Contact.position)).all()
    return Handoff(
        alert_code=alert.code,
        reason=alert.reason,
        resident=resident.name,
        address=full_address(community.name if community else "", building.name if building else "", resident.address),
        medical_notes=resident.medical_notes or "",
        resident_phone=resident.phone,
        contacts=tuple(Person(c.name, c.phone, c.has_key, c.notify) for c in contacts),
        sex=resident.sex,
        age=alert.opened_at.year - resident.birth_year if resident.birth_year else None,
        health=Health(
            resident.conditions, resident.allergies, resident.medicines, resident.mobility, resident.hospital
        ),
    )


def full_address(community: str, building: str, address: str) -> str:
    """The community first, then the address; the building only when the address does not name it."""
    parts = [community] if community and community not in address else []
    if building and building not in address:
        parts.append(building)
    parts.append(address)
    return " ".join(p for p in parts if p)


def text(h: Handoff, lang: str) -> str:
    """The hand-off as lines to read aloud (and to paste)."""
    en = lang == "en"
    why = REASON.get(h.reason, (h.reason, h.reason))[1 if en else 0]
    contacts = [f"{c.name} {c.phone}" for c in h.contacts]
    keys = [f"{c.name} {c.phone}" for c in h.key_holders]
    none = "none on file" if en else "无登记"
    if en:
        who = ", ".join(p for p in ((h.sex or ""), f"about {h.age}" if h.age else "") if p)
        lines = [
            f"Patient: {h.resident}{f' ({who})' if who else ''} (call #{h.alert_code}: {why})",
            f"Address: {h.address}",
            *health_lines(h, en),
            f"Patient's phone: {h.resident_phone or none}",
            f"Family and contacts: {'; '.join(contacts) or none}",
            f"Key holders: {'; '.join(keys) or none}",
        ]
    else:
        who = "，".join(p for p in (SEX_ZH.get(h.sex or "", ""), f"约{h.age}岁" if h.age else "") if p)
        lines = [
            f"老人：{h.resident}{f'（{who}）' if who else ''}（呼叫 #{h.alert_code}：{why}）",
            f"地址：{h.address}",
            *health_lines(h, en),
            f"老人电话：{h.resident_phone or none}",
            f"家属和联系人：{'；'.join(contacts) or none}",
            f"有钥匙的人：{'；'.join(keys) or none}",
        ]
    return "\n".join(lines)


def health_lines(h: Handoff, en: bool) -> list[str]:
    """What the crew needs of the resident's health, each field only when on file. The notes say
    "none on file" when nothing else is known, and are "other notes" beside named conditions."""
    if h.medical_notes is None:  # not for this reader
        return []
    health = h.health or Health()
    if not health.named:
        notes = (("健康情况", "Medical notes"), h.medical_notes or ("none on file" if en else "无登记"))
    else:
        notes = (("其他健康情况", "Other medical notes"), h.medical_notes)
    said = [
        (("慢性病", "Conditions"), health.conditions),
        (("过敏", "Allergies"), health.allergies),
        (("用药", "Medicines"), health.medicines),
        notes,
        (("行动能力", "Mobility"), MOBILITY[health.mobility][en] if health.mobility in MOBILITY else ""),
        (("常去医院", "Usual hospital"), health.hospital),
    ]
    return [f"{label[1]}: {v}" if en else f"{label[0]}：{v}" for label, v in said if v]
