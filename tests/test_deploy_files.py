"""The deployment files in deploy/ name real commands and real settings: every long-running process
has a systemd unit and a service in the city's compose file, each runs a `jinqiao` command the CLI
has, sets only settings Jinqiao knows (with values it accepts), and restarts forever. The compose
file's Mosquitto configuration starts a real Mosquitto. (Docker itself is not on our CI machine:
compose.yaml is checked here, not run.)"""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from core.settings import load_settings, setting_of
from jinqiao.cli import build_parser
from simulators.services import find_binary, free_port
from tests.support.waiting import eventually

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PROCESSES = ("gateway", "dispatcher", "web", "watchdog")


def runs(argv: list[str]) -> None:
    """The CLI parses `argv` (a command it has), without running it."""
    build_parser().parse_args(argv)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case sensitive
    parser.read(DEPLOY / "systemd" / name)
    return parser


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_has_a_unit_that_restarts_it_forever(process):
    (path,) = (DEPLOY / "systemd").glob(f"jinqiao-{process}*.service")
    service = unit(path.name)["Service"]
    command = service["ExecStart"].split()
    assert command[0] == "/opt/jinqiao/.venv/bin/jinqiao" and command[1] == process
    runs(command[1:])
    assert service["Restart"] == "always" and unit(path.name)["Unit"]["StartLimitIntervalSec"] == "0"
    assert "\nEnvironmentFile=/etc/jinqiao/jinqiao.env\n" in path.read_text()  # the settings every process reads


def test_the_env_example_sets_only_known_settings_with_values_they_accept():
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "systemd" / "jinqiao.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert [k for k in env if setting_of(k) is None] == []
    given = {setting_of(k): v for k, v in env.items() if v}
    settings = load_settings(**given)  # raises on a value a setting refuses
    assert settings.gateway_share_group == "gateways" and "target_session_attrs=read-write" in settings.database_url


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "city" / "compose.yaml").read_text())


def test_the_city_runs_every_process_with_real_commands_and_settings():
    services = compose()["services"]
    jinqiao = {name: s for name, s in services.items() if s.get("image") == "jinqiao:latest"}
    commands = {s["command"][0] for s in jinqiao.values()}
    assert set(PROCESSES) <= commands and "db" in commands  # and the migration before them
    for name, service in jinqiao.items():
        runs(service["command"])
        env = service["environment"]
        assert [k for k in env if setting_of(k) is None] == [], name
        values = {setting_of(k): re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}
        load_settings(**values)  # each value accepted, the two-host URL and the two brokers included
    gateways = [s for s in jinqiao.values() if s["command"] == ["gateway"]]
    assert len(gateways) >= 2 and len({g["environment"]["JINQIAO_GATEWAY_ID"] for g in gateways}) == len(gateways)
    assert all(len(g["environment"]["JINQIAO_MQTT_URL"].split(",")) == 2 for g in gateways)
    assert {s["restart"] for name, s in services.items() if name != "migrate"} == {"always"}


def test_the_citys_broker_configuration_starts_a_real_mosquitto(tmp_path):
    port = free_port()
    text = (DEPLOY / "city" / "mosquitto.conf").read_text()
    text = text.replace("listener 1883", f"listener {port} 127.0.0.1").replace("/mosquitto/data/", f"{tmp_path}/")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    proc = subprocess.Popen([find_binary("mosquitto"), "-c", str(conf)], stderr=subprocess.PIPE, text=True)
    try:
        import socket

        def listening() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"mosquitto refused the configuration: {proc.stderr.read()}")  # type: ignore[union-attr]
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        eventually(listening, 10, "mosquitto listening with the city's configuration")
    finally:
        proc.kill()
        proc.wait()
