"""What a newcomer's registry file looks like: national phone numbers, and a file saved as GBK."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from sqlalchemy import select

from core.schema import Responder
from registry.fields import RegistryError
from registry.store import import_registry
from registry.validation import load_registry_file


@pytest.fixture
def example(example_registry) -> dict:
    return yaml.safe_load(example_registry.read_text(encoding="utf-8"))


def test_a_number_without_plus_86_is_read_as_a_chinese_number(sessions, example, tmp_path):
    by_id = {p["id"]: p for p in example["responders"]}
    by_id["pm-zhao"]["phone"] = "13900000002"
    by_id["pm-sun"]["phone"] = "139 0000 0003"
    path = tmp_path / "registry.yaml"
    text = yaml.safe_dump(example, allow_unicode=True).replace("'13900000002'", "13900000002")  # unquoted too
    assert "phone: 13900000002\n" in text
    path.write_text(text, encoding="utf-8")
    import_registry(sessions, path)
    with sessions() as s:
        phones = dict(s.execute(select(Responder.id, Responder.phone)).all())
    assert phones["pm-zhao"] == "+8613900000002" and phones["pm-sun"] == "+8613900000003"


def test_the_same_number_written_two_ways_is_still_a_duplicate(example, tmp_path):
    example["responders"][1]["phone"] = example["responders"][0]["phone"].removeprefix("+86")
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(example, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError, match="is already responder"):
        load_registry_file(path)


def test_a_gbk_saved_file_says_to_save_it_as_utf8(example_registry, tmp_path):
    path = tmp_path / "registry-gbk.yaml"
    path.write_bytes(example_registry.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(RegistryError) as raised:
        load_registry_file(path)
    message = str(raised.value)
    assert "not UTF-8" in message and "GBK" in message and "save it as UTF-8" in message
    assert "#x00" not in message
    result = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "import", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"},
    )
    assert result.returncode == 1 and "save it as UTF-8" in result.stderr and "nothing was changed" in result.stderr
