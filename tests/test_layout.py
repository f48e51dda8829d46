"""The floors of the house only point down: a product module imports its own package or a lower floor.

Read from the source with ast (no import is run), so a lazy import inside a function counts too.
gateway and dispatcher share a floor and must not import each other; what both need lives in core.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FLOORS = {
    "core": 0,  # db, schema, migrations, settings, logs, metrics, wakeups, heartbeat, clock
    "registry": 1,  # the registry file, its validation and store, edits, roster, calendar
    "devices": 2,  # protocol, adapters, registration, broker auth
    "gateway": 3,
    "dispatcher": 3,
    "web": 4,
    "jinqiao": 5,  # cli, runtime, embedded broker: composition roots only
}


MAX_LINES = 400  # a module longer than this holds more than one thing: split it where it parts
MIGRATIONS = ("core", "migrations", "versions")  # generated once and never edited: no limit
PURE = ("registry/roster.py",)  # the pure cores that say so: the standard library only
ADAPTERS = {  # each outside library with a world of its own types is imported by one adapter module
    "paho": "gateway/mqtt_link.py",
    "twilio": "dispatcher/twilio_adapter.py",
    "chinese_calendar": "registry/china_calendar.py",
    "amqtt": "jinqiao/embedded_broker.py",
    "openpyxl": "registry/workbook.py",
    "alibabacloud_dysmsapi20170525": "dispatcher/aliyun_sms.py",
    "alibabacloud_dyvmsapi20170525": "dispatcher/aliyun_voice.py",
    "alibabacloud_tea_openapi": "dispatcher/aliyun_api.py",  # the client and errors both adapters share
    "darabonba": "dispatcher/aliyun_api.py",
}


def product_modules(root: Path = ROOT) -> list[Path]:
    return sorted(p for package in FLOORS for p in (root / package).rglob("*.py"))


def imported_packages(path: Path) -> set[tuple[int, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, alias.name.split(".")[0]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.lineno, node.module.split(".")[0]))
    return {(line, package) for line, package in found if package in FLOORS}


def upward_imports(path: Path, root: Path = ROOT) -> list[str]:
    own = path.relative_to(root).parts[0]
    return [
        f"{path.relative_to(root)}:{line} imports {package} (floor {FLOORS[package]}) from floor {FLOORS[own]}"
        for line, package in sorted(imported_packages(path))
        if package != own and FLOORS[package] >= FLOORS[own]
    ]


def test_every_floor_has_its_package():
    assert all((ROOT / package / "__init__.py").is_file() for package in FLOORS)


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_from_its_own_floor_or_above(path):
    assert upward_imports(path) == []


def test_the_check_sees_an_upward_import_even_inside_a_function(tmp_path):
    # A check that never fails proves nothing.
    module = tmp_path / "dispatcher" / "service.py"
    module.parent.mkdir()
    module.write_text(
        "from core.db import transaction\nfrom dispatcher import escalation\n\n\n"
        "def f():\n    from web.app import create_app\n    import gateway.service\n"
    )
    assert upward_imports(module, tmp_path) == [
        "dispatcher/service.py:6 imports web (floor 4) from floor 3",
        "dispatcher/service.py:7 imports gateway (floor 3) from floor 3",
    ]


def long_modules(root: Path = ROOT) -> list[str]:
    found = []
    for path in product_modules(root):
        if path.relative_to(root).parts[:3] == MIGRATIONS:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            found.append(f"{path.relative_to(root)}: {lines} lines (at most {MAX_LINES})")
    return found


def test_no_product_module_is_over_400_lines():
    assert long_modules() == []


def test_the_check_sees_a_long_module_but_not_a_migration(tmp_path):
    for path, lines in [
        ("dispatcher/long.py", MAX_LINES + 1),
        ("dispatcher/just_right.py", MAX_LINES),
        ("core/migrations/versions/0099_big.py", 2 * MAX_LINES),
    ]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x = 1\n" * lines)
    assert long_modules(tmp_path) == [f"dispatcher/long.py: {MAX_LINES + 1} lines (at most {MAX_LINES})"]


def outside_imports(path: Path) -> list[str]:
    """Imported top-level modules that are not the standard library's (relative imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." if node.level else (node.module or "").split(".")[0])
    return sorted(name for name in found if name not in sys.stdlib_module_names)


@pytest.mark.parametrize("module", PURE)
def test_a_pure_core_imports_only_the_standard_library(module):
    assert outside_imports(ROOT / module) == []


def test_the_check_sees_a_library_and_our_own_modules_in_a_pure_core(tmp_path):
    module = tmp_path / "roster.py"
    module.write_text(
        "from __future__ import annotations\nimport datetime as dt\nfrom zoneinfo import ZoneInfo\n\n\n"
        "def f():\n    import structlog\n    from core.clock import utcnow\n    from . import china_calendar\n"
    )
    assert outside_imports(module) == [".", "core", "structlog"]


def vendor_importers(root: Path = ROOT) -> dict[str, list[str]]:
    modules = {str(p.relative_to(root)): outside_imports(p) for p in product_modules(root)}
    return {library: sorted(m for m, names in modules.items() if library in names) for library in ADAPTERS}


def test_each_vendor_library_is_imported_by_its_one_adapter_module():
    assert vendor_importers() == {library: [module] for library, module in ADAPTERS.items()}


def test_the_check_sees_a_second_importer_of_a_vendor_library(tmp_path):
    for path, source in [
        ("gateway/mqtt_link.py", "import paho.mqtt.client as mqtt\n"),
        ("gateway/link_status.py", "def f():\n    from paho.mqtt.properties import Properties\n"),
    ]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(source)
    assert vendor_importers(tmp_path)["paho"] == ["gateway/link_status.py", "gateway/mqtt_link.py"]
