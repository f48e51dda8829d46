"""`jinqiao` command line: up | gateway | dispatcher | web | watchdog | db upgrade |
import FILE | export registry|residents FILE (in cli_files.py) |
user add|disable|enable|token (in cli_accounts.py) | device add | device password | device export-auth.

Each command reads its settings and opens the database through cli_settings.py.
"""

from __future__ import annotations

import argparse
import os
import sys

from core.settings import DEFAULT_CONFIG, Settings, SettingsError, load_settings
from jinqiao.cli_accounts import add_user_commands
from jinqiao.cli_files import add_file_commands
from jinqiao.cli_settings import command_settings, migrated_engine


def _refusing_taken_ports(command: str, run, settings: Settings) -> int:
    from dispatcher.sms_templates import TemplateError
    from jinqiao.ports import PortTaken

    try:
        return run(settings)
    except (PortTaken, TemplateError) as exc:
        print(f"jinqiao {command}: {exc}", file=sys.stderr)
        return 2


def cmd_up(args) -> int:
    from jinqiao.runtime import run_up

    return _refusing_taken_ports("up", run_up, command_settings())


def cmd_gateway(args) -> int:
    from jinqiao.runtime import run_gateway

    return _refusing_taken_ports("gateway", run_gateway, command_settings())


def cmd_web(args) -> int:
    from jinqiao.runtime import run_web

    return _refusing_taken_ports("web", run_web, command_settings())


def cmd_dispatcher(args) -> int:
    from jinqiao.runtime import run_dispatcher

    return _refusing_taken_ports("dispatcher", run_dispatcher, command_settings())


def cmd_watchdog(args) -> int:
    from jinqiao.runtime import run_watchdog

    return run_watchdog(command_settings())


def cmd_db_upgrade(args) -> int:
    from core.db import upgrade

    settings = command_settings()
    upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


def cmd_device_add(args) -> int:
    from core.db import session_factory
    from devices.registration import DeviceError, add_device

    settings = command_settings()
    engine = migrated_engine(settings)
    try:
        creds = add_device(
            session_factory(engine),
            device_id=args.id,
            resident_id=args.resident,
            kind=args.kind,
            heartbeat=args.heartbeat,
            adapter=args.adapter,
            source=args.source,
        )
    except DeviceError as exc:
        print(f"jinqiao device add: {exc}", file=sys.stderr)
        return 1
    print(f"device {creds.device_id} registered")
    if args.adapter == "zigbee2mqtt":
        print(f"Zigbee2MQTT device '{args.source}': pair it with the bridge; it needs no MQTT account of its own")
    else:
        print(f"MQTT user name: {creds.device_id}")
        print(f"MQTT password:  {creds.password}")
    if args.adapter == "native":
        print(f"publish events to: {settings.mqtt_root}/v1/dev/{creds.device_id}/event")
    return _export_auth_if_configured(settings, engine, "jinqiao device add")


def _export_auth_if_configured(settings: Settings, engine, command: str) -> int:
    if not (settings.mosquitto_password_file and settings.mosquitto_acl_file):
        return 0
    return _export_auth(settings, engine, settings.mosquitto_password_file, settings.mosquitto_acl_file, command)


def _export_auth(settings: Settings, engine, password_file: str, acl_file: str, command: str) -> int:
    from urllib.parse import unquote, urlsplit

    from core.db import session_factory
    from devices.mosquitto_auth import DEFAULT_GATEWAY_USER, export_auth

    url = urlsplit((settings.mqtt_url or "").split(",")[0])  # the gateway's account: the same on every broker
    user = unquote(url.username) if url.username else DEFAULT_GATEWAY_USER
    password = unquote(url.password) if url.password else None
    try:
        files = export_auth(
            session_factory(engine),
            root=settings.mqtt_root,
            password_file=password_file,
            acl_file=acl_file,
            gateway_user=user,
            gateway_password=password,
        )
    except OSError as exc:
        print(f"{command}: cannot write the Mosquitto files: {exc}", file=sys.stderr)
        return 1
    print(
        f"Mosquitto files written: {password_file} ({files.accounts} device accounts), {acl_file}; "
        "reload Mosquitto (SIGHUP) to apply them"
    )
    if files.without_password:
        print(f"no password yet (run `jinqiao device password ID`): {' '.join(files.without_password)}")
    return 0


def cmd_device_password(args) -> int:
    from core.db import session_factory
    from devices.registration import DeviceError, reset_password

    settings = command_settings()
    engine = migrated_engine(settings)
    try:
        creds = reset_password(session_factory(engine), args.id)
    except DeviceError as exc:
        print(f"jinqiao device password: {exc}", file=sys.stderr)
        return 1
    print(f"MQTT user name: {creds.device_id}")
    print(f"MQTT password:  {creds.password}")
    return _export_auth_if_configured(settings, engine, "jinqiao device password")


def cmd_device_export_auth(args) -> int:
    settings = command_settings()
    password_file = args.password_file or settings.mosquitto_password_file
    acl_file = args.acl_file or settings.mosquitto_acl_file
    if not (password_file and acl_file):
        print(
            "jinqiao device export-auth: give --password-file and --acl-file (or set "
            "JINQIAO_MOSQUITTO_PASSWORD_FILE and JINQIAO_MOSQUITTO_ACL_FILE)",
            file=sys.stderr,
        )
        return 2
    return _export_auth(settings, migrated_engine(settings), password_file, acl_file, "jinqiao device export-auth")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jinqiao")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jinqiao", description="Jinqiao 金桥: emergency calls for older people who live alone"
    )
    parser.add_argument("--version", action="version", version=f"jinqiao {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run everything in one process (single site, demo)").set_defaults(fn=cmd_up)
    sub.add_parser("gateway", help="run the MQTT gateway").set_defaults(fn=cmd_gateway)
    sub.add_parser("dispatcher", help="run the escalation dispatcher").set_defaults(fn=cmd_dispatcher)
    sub.add_parser("web", help="run the board, the API and health endpoints").set_defaults(fn=cmd_web)
    sub.add_parser(
        "watchdog",
        help="page the hotline and operators when the dispatchers or the gateway fail (run it apart from them)",
    ).set_defaults(fn=cmd_watchdog)
    add_file_commands(sub)
    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(fn=cmd_db_upgrade)
    add_user_commands(sub)
    device = sub.add_parser("device", help="devices").add_subparsers(dest="device_command", required=True)
    dev_add = device.add_parser("add", help="register a device and print its MQTT credentials")
    dev_add.add_argument("id")
    dev_add.add_argument("--resident", required=True)
    dev_add.add_argument("--kind", default="pager", choices=["pager", "pull_cord", "fall_detector"])
    dev_add.add_argument("--heartbeat", default=None, help="supervision interval, e.g. 10m")
    dev_add.add_argument("--adapter", default="native", choices=["native", "zigbee2mqtt", "shelly", "tasmota"])
    dev_add.add_argument(
        "--source", default=None, help="for an adapter: the Zigbee2MQTT name, Shelly id or Tasmota topic"
    )
    dev_add.set_defaults(fn=cmd_device_add)
    dev_pw = device.add_parser("password", help="give a registered device a new MQTT password and print it")
    dev_pw.add_argument("id")
    dev_pw.set_defaults(fn=cmd_device_password)
    dev_auth = device.add_parser("export-auth", help="write Mosquitto's password file and ACL from the registry")
    dev_auth.add_argument("--password-file", default=None)
    dev_auth.add_argument("--acl-file", default=None)
    dev_auth.set_defaults(fn=cmd_device_export_auth)
    return parser


SERVERS = ("up", "gateway", "dispatcher", "web")  # they log the database they opened
CREATORS = ("up", "import", "db")  # the only commands that may create a new SQLite file


def _use_local_config() -> None:
    """Without JINQIAO_CONFIG, a jinqiao.toml in the working directory is the configuration: the
    demo writes one, so a second terminal in the same directory finds the demo's database."""
    if not os.environ.get("JINQIAO_CONFIG") and os.path.isfile(DEFAULT_CONFIG):
        os.environ["JINQIAO_CONFIG"] = DEFAULT_CONFIG


def _database_check(command: str, full_command: str) -> int:
    """Say which database a command opens, and refuse to create a SQLite file unasked: a newcomer's
    `jinqiao user token demo` in the wrong directory must not make an empty ./jinqiao.db."""
    from sqlalchemy.engine import make_url

    from core.settings import origin_of

    try:
        settings = load_settings()
    except SettingsError:
        return 0  # the command itself reports it
    url = make_url(settings.database_url)
    origin = origin_of("database_url")
    if command not in SERVERS:
        print(f"jinqiao: database {url.render_as_string(hide_password=True)} (from {origin})", file=sys.stderr)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if command in CREATORS or not path or path == ":memory:" or os.path.exists(path):
        return 0
    print(
        f"jinqiao {full_command}: there is no database at {os.path.abspath(path)} and this command does not create "
        f"one. Is it elsewhere? Run this where `jinqiao up` or scripts/demo.sh runs (it reads ./{DEFAULT_CONFIG} "
        "there), or set JINQIAO_CONFIG or JINQIAO_DATABASE_URL; to start a new one, `jinqiao db upgrade`.",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _use_local_config()
    if refused := _database_check(
        args.command, " ".join(filter(None, [args.command, getattr(args, f"{args.command}_command", None)]))
    ):
        return refused
    return args.fn(args) or 0


if __name__ == "__main__":
    raise SystemExit(main())
