"""The floors of the house only point down: a product module imports its own package or a lower floor.

Read from the source with ast (no import is run), so a lazy import inside a function counts too.
gateway and dispatcher share a floor and must not import each other; what both need lives in core.
"""

from __future__ import annotations

import ast
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


def product_modules() -> list[Path]:
    return sorted(p for package in FLOORS for p in (ROOT / package).rglob("*.py"))


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
