"""The TOML configuration file takes the keys as SPEC 6 spells them, and a name that sets nothing
(a typo in the file or in a JINQIAO_* variable) is reported with the closest known name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.settings import SettingsError, load_settings, unknown_names


@pytest.fixture
def config(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("JINQIAO_") and not n.startswith("JINQIAO_TEST_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "jinqiao.toml"
    monkeypatch.setenv("JINQIAO_CONFIG", str(path))
    return path


def test_the_file_takes_the_variables_names_as_spec_6_spells_them(config):
    config.write_text(
        'JINQIAO_HTTP_PORT = 8001\nJINQIAO_MQTT_ROOT = "site7"\n'
        'JINQIAO_PUBLIC_URL = "https://jinqiao.example.org/"\nsms_per_second = 2.5\n'
    )
    settings = load_settings()
    assert (settings.http_port, settings.mqtt_root, settings.public_url) == (
        8001,
        "site7",
        "https://jinqiao.example.org",
    )
    assert settings.sms_per_second == 2.5  # the older spelling (lower case, no prefix) still works
    assert unknown_names() == []


def test_the_environment_wins_over_the_file_and_a_bad_value_in_the_file_is_named(config, monkeypatch):
    config.write_text("JINQIAO_HTTP_PORT = 8001\n")
    monkeypatch.setenv("JINQIAO_HTTP_PORT", "8002")
    assert load_settings().http_port == 8002
    monkeypatch.delenv("JINQIAO_HTTP_PORT")
    config.write_text('JINQIAO_HTTP_PORT = "eighty"\n')
    with pytest.raises(SettingsError, match="JINQIAO_HTTP_PORT"):
        load_settings()
    config.write_text("JINQIAO_HTTP_PORT = \n")
    with pytest.raises(SettingsError, match="JINQIAO_CONFIG"):
        load_settings()


def test_unknown_names_in_the_file_and_the_environment_name_the_closest_setting(config):
    config.write_text('JINQIAO_DATABSE_URL = "sqlite:///x.db"\nhttp_prot = 8001\n[twilio]\nsid = "AC1"\n')
    environ = {
        "JINQIAO_CONFIG": str(config),
        "JINQIAO_TWILLIO_FROM": "+1555",
        "JINQIAO_HTTP_PORT": "8000",
        "JINQIAO_TEST_DATABASES": "sqlite",
        "JINQIAO_DEMO_USER": "demo",
        "JINQIAO_ZZZ": "1",
    }
    found = unknown_names(environ)
    assert ("environment", "JINQIAO_TWILLIO_FROM", "JINQIAO_TWILIO_FROM") in found
    assert ("environment", "JINQIAO_ZZZ", None) in found
    assert (str(config), "JINQIAO_DATABSE_URL", "JINQIAO_DATABASE_URL") in found
    assert (str(config), "http_prot", "JINQIAO_HTTP_PORT") in found
    assert [f for f in found if f[1] == "twilio"]  # a [twilio] table: the file has flat keys only
    assert len(found) == 5  # the test suite's and the demo's own variables are not settings, and not typos


def test_the_command_line_warns_about_a_mistyped_variable(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db",
        "JINQIAO_LOG_FORMAT": "json",
        "JINQIAO_HTTP_PROT": "8001",
    }
    result = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "db", "upgrade"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "settings.unknown_name" in line]
    assert warning and "JINQIAO_HTTP_PROT" in warning[0] and "did you mean JINQIAO_HTTP_PORT?" in warning[0]


def test_a_twilio_api_url_without_credentials_says_the_console_notifier_is_used(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db",
        "JINQIAO_LOG_FORMAT": "json",
        "JINQIAO_TWILIO_API_URL": "http://127.0.0.1:8089",
    }
    result = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "db", "upgrade"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "settings.twilio_api_url_unused" in result.stderr and "console notifier" in result.stderr
