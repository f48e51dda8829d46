"""The registry in and out of files a street office keeps: the whole registry as YAML (the import
format, `jinqiao export registry`), and the residents' form as Excel or CSV (`jinqiao export
residents`, and `jinqiao import` of a .xlsx or .csv, which replaces the residents only).

Everything goes through the import's own validation, all or nothing; a problem in a form is told
by its row and column."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from registry.edit import export_registry
from registry.fields import RegistryError
from registry.resident_sheet import Sheet, read_csv, to_rows, write_csv
from registry.store import ImportReport, import_registry
from registry.validation import load_registry_file, validate_registry
from registry.workbook import read_workbook, write_workbook

FORMS = (".xlsx", ".csv")  # a residents' form; anything else is a registry file (YAML)


def registry_yaml(s: Session) -> str:
    """The active registry as an import file: importing it back changes nothing."""
    header = "# The Jinqiao registry, exported; `jinqiao import` reads it back unchanged.\n"
    return header + yaml.safe_dump(export_registry(s), allow_unicode=True, sort_keys=False, width=120)


def residents_form(s: Session, suffix: str) -> bytes:
    """The residents' form, as .xlsx or .csv (UTF-8 with a BOM, which Excel opens)."""
    rows = to_rows(export_registry(s)["residents"])
    if suffix == ".xlsx":
        return write_workbook(rows)
    if suffix == ".csv":
        return write_csv(rows)
    raise RegistryError([f"a residents' form is .xlsx or .csv, not '{suffix or 'no suffix'}'"])


def read_form(path: str | os.PathLike[str]) -> list[list[Any]]:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise RegistryError([f"{path}: cannot read: {e.strerror}"]) from None
    return read_workbook(data) if Path(path).suffix.lower() == ".xlsx" else read_csv(data)


def import_file(
    sessions: sessionmaker[Session],
    path: str | os.PathLike[str],
    *,
    now: datetime | None = None,
    actor: str | None = None,
) -> ImportReport:
    """`jinqiao import FILE`: a registry file replaces the registry, a form the residents. With an
    actor, the changes to each resident's record are in the audit list as theirs."""
    if Path(path).suffix.lower() not in FORMS:
        return import_registry(sessions, load_registry_file(path), now=now, actor=actor)
    sheet = Sheet(read_form(path))
    residents = sheet.residents()
    with sessions() as s:
        doc = export_registry(s)
    doc["residents"] = residents
    try:
        valid = validate_registry(doc)
    except RegistryError as e:
        ids = [r.get("id") for r in residents]
        raise RegistryError([sheet.where(p, ids) for p in e.problems]) from None
    return import_registry(sessions, valid, now=now, actor=actor)
