"""The device settings: typed, validated once, named in the error."""

from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings
from dispatcher.service import build_dispatcher


def test_defaults_and_values_reach_the_supervisor(engine, db_url):
    settings = load_settings(
        database_url=db_url, offline_grace=60, heartbeat_slack=5, battery_low=15, adapters=" shelly , tasmota "
    )
    assert settings.adapter_list == ("shelly", "tasmota")
    rules = build_dispatcher(settings, engine).supervisor.rules
    assert (rules.offline_grace_s, rules.heartbeat_slack_s, rules.battery_low) == (60, 5, 15)
    defaults = load_settings(database_url=db_url)
    assert defaults.adapter_list == ("zigbee2mqtt", "shelly", "tasmota")
    assert (defaults.offline_grace, defaults.heartbeat_slack, defaults.battery_low) == (180, 30, 20)
    assert load_settings(database_url=db_url, adapters="").adapter_list == ()


@pytest.mark.parametrize(
    "name,value",
    [
        ("JINQIAO_ADAPTERS", "zigbee2mqtt,homekit"),
        ("JINQIAO_OFFLINE_GRACE", "-1"),
        ("JINQIAO_HEARTBEAT_SLACK", "soon"),
        ("JINQIAO_BATTERY_LOW", "0"),
        ("JINQIAO_BATTERY_LOW", "101"),
    ],
)
def test_a_bad_device_setting_names_its_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()
