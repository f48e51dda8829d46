"""Typed settings: every JINQIAO_* variable, validated once at start-up and passed down.

Values come from the environment, then from the TOML file named by JINQIAO_CONFIG, whose keys are
the variables' names as SPEC 6 spells them (`JINQIAO_HTTP_PORT = 8001`; `http_port = 8001` is read
too). A key of the file, or a JINQIAO_* variable, that names no setting is not silently ignored:
`unknown_names` says which, with the closest known name. Nothing here is read at import time.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "JINQIAO_"
DEFAULT_CONFIG = "jinqiao.toml"  # the command line reads it from the working directory when JINQIAO_CONFIG is unset
NOT_SETTINGS = ("JINQIAO_CONFIG",)  # variables that are read, but are not settings
NOT_SETTINGS_PREFIXES = ("JINQIAO_TEST_", "JINQIAO_DEMO_")  # the test suite's and scripts/demo.sh's own


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///jinqiao.db"
    mqtt_url: str | None = None
    mqtt_root: str = "jinqiao"
    # Where `jinqiao up` starts its embedded broker when JINQIAO_MQTT_URL is unset (on 127.0.0.1).
    embedded_broker_port: int = Field(default=1883, ge=1, le=65535)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)  # `web` and `up`
    # Beyond SPEC section 6: each process that runs alone serves /healthz, /readyz and /metrics on a
    # port of its own, so that a dispatcher, a gateway and a web process fit on one machine.
    dispatcher_http_port: int = Field(default=8001, ge=1, le=65535)  # also the Twilio webhooks
    gateway_http_port: int = Field(default=8002, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    # Who carries SMS (docs/channels.md): twilio (the console without its credentials) or aliyun,
    # with its RAM user's key, the approved signature, the template file and the push URLs' token.
    sms_provider: str = Field(default="twilio", pattern=r"^(twilio|aliyun)$")
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: str | None = None
    aliyun_sign_name: str | None = None
    aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com"
    aliyun_templates: str | None = None
    aliyun_push_token: str | None = Field(default=None, min_length=16)
    # Who places calls: twilio (the console without its credentials) or aliyun (the same key, the
    # voice templates of the same file, the number Aliyun rents us to call from; ivr listens for
    # keys 1 and 2, tts only speaks, for an account without IVR).
    voice_provider: str = Field(default="twilio", pattern=r"^(twilio|aliyun)$")
    aliyun_voice_endpoint: str = "https://dyvmsapi.aliyuncs.com"
    aliyun_voice_show_number: str | None = Field(default=None, pattern=r"^[0-9]{5,20}$")
    aliyun_voice_mode: str = Field(default="ivr", pattern=r"^(ivr|tts)$")
    # WeCom (企业微信): the corp, the self-built app that sends the cards (its AgentId and Secret) and
    # the app's callback (its Token and EncodingAESKey, from 接收消息 → 设置API接收), all or none.
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: str | None = None
    wecom_callback_token: str | None = None
    wecom_encoding_aes_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9+/]{43}$")
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    # The community work group's robot (群机器人): its webhook URL, with its key. Alone, or with the app.
    wecom_robot_url: str | None = None
    # Beyond SPEC section 6: an instance name, so several gateways keep distinct MQTT sessions.
    gateway_id: str = Field(default="main", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # Several gateways sharing the load (docs/deployment.md): the MQTT shared-subscription group
    # they all name (unset: each gateway receives every message), and the seconds a member's
    # session outlives its connection (unset: 0 when shared, never otherwise).
    gateway_share_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    gateway_session_expiry: int | None = Field(default=None, ge=0, le=0xFFFFFFFF)
    # Outbound rate per sender number (Twilio's default for a long code is about 1 message a second).
    sms_per_second: float = Field(default=1.0, gt=0)
    calls_per_second: float = Field(default=1.0, gt=0)
    # Concurrent requests to Twilio: one slow answer (150 ms from China is common) must not hold up the rest.
    send_workers: int = Field(default=8, ge=1, le=64)
    log_level: str = "info"
    log_format: str = "auto"  # auto | json | console
    # Device supervision (docs/devices.md): seconds a device may report `offline` before a device
    # alert, seconds of slack on top of each device's heartbeat interval, and the battery level
    # (percent) below which a maintenance item opens.
    offline_grace: float = Field(default=180.0, ge=0)
    heartbeat_slack: float = Field(default=30.0, ge=0)
    battery_low: int = Field(default=20, ge=1, le=100)
    # The mediator's daily summary by SMS (dispatcher/mediator_day.py): the local time it goes out
    # (HH:MM, before 21:00), or "off".
    mediator_summary_at: str = Field(default="08:30", pattern=r"^(off|([01][0-9]|20):[0-5][0-9])$")
    # Days heartbeat rows are kept before they are compacted into device_days and deleted
    # (dispatcher/passes/retention.py; presses and everything an alert names are kept); 0: forever.
    events_keep_days: int = Field(default=14, ge=0, le=3650)
    # Commodity-button adapters the gateway subscribes for (comma separated; empty for none).
    adapters: str = "zigbee2mqtt,shelly,tasmota"
    # The CA the gateway trusts for mqtts:// (unset: the system's CAs).
    mqtt_ca_file: str | None = None
    # Mosquitto files `jinqiao device add` (and `jinqiao device export-auth`) rewrite.
    mosquitto_password_file: str | None = None
    mosquitto_acl_file: str | None = None
    # Heartbeats (core/heartbeat.py): seconds between two beats of a dispatcher's row, and the
    # instance name of this dispatcher (unset: host:http_port).
    heartbeat_interval: float = Field(default=5.0, gt=0, le=300)
    instance_name: str | None = Field(default=None, max_length=200)
    # The watchdog (dispatcher/watchdog.py, docs/deployment.md): its own Twilio account (unset: the
    # console), its own list of operators' phones, how often it looks, its thresholds in seconds.
    watchdog_twilio_account_sid: str | None = None
    watchdog_twilio_auth_token: str | None = None
    watchdog_twilio_from: str | None = None
    watchdog_twilio_api_url: str = "https://api.twilio.com"
    watchdog_phones: str = ""
    watchdog_interval: float = Field(default=10.0, gt=0, le=600)
    watchdog_process_silence: float = Field(default=30.0, gt=0)
    watchdog_step_overdue: float = Field(default=60.0, gt=0)
    watchdog_outbox_stuck: float = Field(default=120.0, gt=0)
    watchdog_events_slack: float = Field(default=120.0, ge=0)
    watchdog_http_port: int = Field(default=8009, ge=1, le=65535)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        scheme = v.split(":", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgresql+psycopg"):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if scheme == "postgresql":  # the plain scheme would pick psycopg2, which we do not ship
            v = "postgresql+psycopg" + v[len("postgresql") :]
        return v

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        # several brokers, each alone (not bridged), comma separated: a gateway connects to all
        for one in v.split(","):
            parts = urlsplit(one.strip())
            if parts.scheme not in ("mqtt", "mqtts"):
                raise ValueError("must be mqtt://user:pass@host:port or mqtts://… (several: comma separated)")
            if not parts.hostname:
                raise ValueError(f"{one.strip()!r} has no host")
            _ = parts.port  # raises ValueError on a bad port
        return ",".join(one.strip() for one in v.split(","))

    @field_validator("mqtt_root")
    @classmethod
    def _mqtt_root(cls, v: str) -> str:
        if not v or any(c in v for c in "+#") or v.startswith("/") or v.endswith("/"):
            raise ValueError("must be a plain topic prefix such as 'jinqiao'")
        return v

    @field_validator("public_url", "twilio_api_url", "aliyun_endpoint", "aliyun_voice_endpoint", "wecom_api_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return v.rstrip("/")

    @field_validator("wecom_robot_url")
    @classmethod
    def _robot_url(cls, v: str | None) -> str | None:
        if v is not None and (urlsplit(v).scheme not in ("http", "https") or "key=" not in urlsplit(v).query):
            raise ValueError("must be the robot's webhook URL, with its key (…/cgi-bin/webhook/send?key=…)")
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        if v.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("must be debug, info, warning or error")
        return v.lower()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v not in ("auto", "json", "console"):
            raise ValueError("must be auto, json or console")
        return v

    @field_validator("adapters")
    @classmethod
    def _adapters(cls, v: str) -> str:
        names = [a.strip() for a in v.split(",") if a.strip()]
        wrong = [a for a in names if a not in ("zigbee2mqtt", "shelly", "tasmota")]
        if wrong:
            raise ValueError(f"unknown adapter {wrong[0]!r}: use zigbee2mqtt, shelly, tasmota")
        return ",".join(names)

    @field_validator("watchdog_phones")
    @classmethod
    def _watchdog_phones(cls, v: str) -> str:
        numbers = [n.strip() for n in v.split(",") if n.strip()]
        wrong = [n for n in numbers if not re.fullmatch(r"\+[1-9]\d{6,14}", n)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not an E.164 number such as +8613900000001")
        return ",".join(numbers)

    @field_validator("watchdog_twilio_api_url")
    @classmethod
    def _watchdog_api_url(cls, v: str) -> str:
        return cls._http_url(v)

    @property
    def watchdog_phone_list(self) -> tuple[str, ...]:
        return tuple(n for n in self.watchdog_phones.split(",") if n)

    @property
    def watchdog_twilio_enabled(self) -> bool:
        return bool(self.watchdog_twilio_account_sid)

    @property
    def adapter_list(self) -> tuple[str, ...]:
        return tuple(a for a in self.adapters.split(",") if a)

    @model_validator(mode="after")
    def _twilio_all_or_nothing(self) -> Settings:
        given = [self.twilio_account_sid, self.twilio_auth_token, self.twilio_from]
        if any(given) and not all(given):
            raise ValueError(
                "JINQIAO_TWILIO_ACCOUNT_SID, JINQIAO_TWILIO_AUTH_TOKEN and JINQIAO_TWILIO_FROM go together"
            )
        return self

    @model_validator(mode="after")
    def _wecom_all_or_nothing(self) -> Settings:
        names = ("corp_id", "agent_id", "secret", "callback_token", "encoding_aes_key")
        given = [n for n in names if getattr(self, f"wecom_{n}") is not None]
        if given and len(given) < len(names):
            missing = ", ".join(f"JINQIAO_WECOM_{n.upper()}" for n in names if n not in given)
            raise ValueError(f"the WeCom settings go together: {missing} missing")
        return self

    @model_validator(mode="after")
    def _aliyun_complete(self) -> Settings:
        needs = {
            "JINQIAO_SMS_PROVIDER": ("access_key_id", "access_key_secret", "sign_name", "templates", "push_token"),
            "JINQIAO_VOICE_PROVIDER": ("access_key_id", "access_key_secret", "templates", "push_token", "voice_show_number"),
        }  # fmt: skip
        for setting, names in needs.items():
            if getattr(self, setting.removeprefix("JINQIAO_").lower()) != "aliyun":
                continue
            missing = [f"JINQIAO_ALIYUN_{n.upper()}" for n in names if not getattr(self, f"aliyun_{n}")]
            if missing:
                raise ValueError(f"{setting}=aliyun needs {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _watchdog_twilio_all_or_nothing(self) -> Settings:
        given = [self.watchdog_twilio_account_sid, self.watchdog_twilio_auth_token, self.watchdog_twilio_from]
        if any(given) and not all(given):
            raise ValueError(
                "JINQIAO_WATCHDOG_TWILIO_ACCOUNT_SID, JINQIAO_WATCHDOG_TWILIO_AUTH_TOKEN and "
                "JINQIAO_WATCHDOG_TWILIO_FROM go together"
            )
        return self

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def embedded_broker(self) -> bool:
        return self.mqtt_url is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if (path := config_path()) is not None:
            sources.append(ConfigFileSource(settings_cls, path))
        return tuple(sources)


def config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The configuration file JINQIAO_CONFIG names (the command line defaults it to ./jinqiao.toml)."""
    environ = os.environ if environ is None else environ
    named = environ.get(ENV_PREFIX + "CONFIG")
    return Path(named) if named else None


def origin_of(field: str, environ: Mapping[str, str] | None = None) -> str:
    """Where a setting's value comes from: its variable, the configuration file, or the default."""
    environ = os.environ if environ is None else environ
    variable = ENV_PREFIX + field.upper()
    if variable in environ:
        return variable
    path = config_path(environ)
    if path is not None and path.is_file():
        try:
            if any(setting_of(key) == field for key in read_config_file(path)):
                return str(path)
        except (OSError, tomllib.TOMLDecodeError):
            pass
    return "the default"


def setting_of(key: str) -> str | None:
    """The field a file key or variable name sets: `JINQIAO_HTTP_PORT` and `http_port` both give http_port."""
    name = key[len(ENV_PREFIX) :] if key.upper().startswith(ENV_PREFIX) else key
    name = name.lower()
    return name if name in Settings.model_fields else None


def read_config_file(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


class ConfigFileSource(PydanticBaseSettingsSource):
    """The TOML file: its keys spelled as the variables are (or lower case without the prefix)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.values = {}
        for key, value in read_config_file(path).items():
            if (field := setting_of(key)) is not None:
                self.values[field] = value

    def get_field_value(self, field, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def _closest(name: str) -> str | None:
    # compared without the shared prefix, which would make every name look alike
    bare = name.upper().removeprefix(ENV_PREFIX)
    known = [f.upper() for f in Settings.model_fields] + [n.removeprefix(ENV_PREFIX) for n in NOT_SETTINGS]
    found = difflib.get_close_matches(bare, known, n=1, cutoff=0.6)
    return ENV_PREFIX + found[0] if found else None


def unknown_names(environ: Mapping[str, str] | None = None) -> list[tuple[str, str, str | None]]:
    """(where, name, closest known name) for each JINQIAO_* variable and each key of the
    JINQIAO_CONFIG file that sets nothing: a typo there would otherwise be silently ignored."""
    environ = os.environ if environ is None else environ
    found: list[tuple[str, str, str | None]] = []
    for name in sorted(environ):
        if (
            name.startswith(ENV_PREFIX)
            and name not in NOT_SETTINGS
            and not name.startswith(NOT_SETTINGS_PREFIXES)
            and setting_of(name) is None
        ):
            found.append(("environment", name, _closest(name)))
    path = config_path(environ)
    if path is not None and path.is_file():
        config_file = str(path)
        try:
            keys = list(read_config_file(path))
        except (OSError, tomllib.TOMLDecodeError):
            keys = []  # load_settings reports a malformed file
        for key in keys:
            if setting_of(key) is None:
                guess = _closest(key if key.upper().startswith(ENV_PREFIX) else ENV_PREFIX + key)
                found.append((config_file, key, guess))
    return found


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, or raise SettingsError naming the variable."""
    config_file = os.environ.get(ENV_PREFIX + "CONFIG")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"{ENV_PREFIX}CONFIG: no such file: {config_file}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            name = ENV_PREFIX + field.upper() if field else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("; ".join(lines)) from None
    except Exception as exc:  # a malformed TOML file, for one
        raise SettingsError(f"{ENV_PREFIX}CONFIG: {exc}") from None
