"""`jinqiao user add|disable|enable|token|role|password`: the accounts of the board and the API, from the command line."""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from jinqiao.cli_settings import command_settings, migrated_engine


def _accounts(settings: Settings):
    from core.clock import utcnow
    from core.db import session_factory
    from web.accounts import Accounts

    return Accounts(session_factory(migrated_engine(settings)), utcnow)


def cli_actor() -> str:
    """Who the audit list names for a change from the command line: cli:<the OS user>."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(args, command: str = "add") -> str | None:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print(f"jinqiao user {command}: no terminal to ask for the password; use --password-stdin", file=sys.stderr)
        return None
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print(f"jinqiao user {command}: the two passwords differ; nothing was changed", file=sys.stderr)
        return None
    return first


def cmd_user_add(args) -> int:
    from web.accounts import AccountError

    settings = command_settings()
    password = _read_password(args)
    if password is None:
        return 1
    try:
        _accounts(settings).add_user(args.name, args.role, password, args.display_name, actor=cli_actor())
    except AccountError as exc:
        print(f"jinqiao user add: {exc}", file=sys.stderr)
        return 1
    print(f"account {args.name} ({args.role}) added")
    return 0


def cmd_user_token(args) -> int:
    from web.accounts import AccountError

    settings = command_settings()
    accounts = _accounts(settings)
    try:
        if args.revoke:
            changed = accounts.revoke_token(args.revoke, actor=cli_actor())
            print("token revoked" if changed else "token was revoked already")
            return 0
        if args.list:
            for t in accounts.tokens(args.name):
                state = f"revoked {t['revoked_at']:%Y-%m-%d %H:%M}" if t["revoked_at"] else "live"
                print(f"{t['id']}\t{t['user']}\t{state}\t{t['label']}")
            return 0
        if not args.name:
            print("jinqiao user token: give an account name (or --revoke TOKEN_OR_ID, or --list)", file=sys.stderr)
            return 2
        token = accounts.create_token(args.name, args.label, actor=cli_actor())
    except AccountError as exc:
        print(f"jinqiao user token: {exc}", file=sys.stderr)
        return 1
    print(token)
    print(
        f"(API token {accounts.token_id(token)} for {args.name}; send it as 'Authorization: Bearer <token>'; "
        "it is shown only now)",
        file=sys.stderr,
    )
    return 0


def cmd_user_active(args) -> int:
    from web.accounts import AccountError

    active = args.user_command == "enable"
    try:
        changed = _accounts(command_settings()).set_active(args.name, active, actor=cli_actor())
    except AccountError as exc:
        print(f"jinqiao user {args.user_command}: {exc}", file=sys.stderr)
        return 1
    word = "enabled" if active else "disabled (its sessions and tokens stop working now)"
    print(f"account {args.name} {word}" if changed else f"account {args.name} was {args.user_command}d already")
    return 0


def cmd_user_role(args) -> int:
    from web.accounts import AccountError

    try:
        changed = _accounts(command_settings()).set_role(args.name, args.role, actor=cli_actor())
    except AccountError as exc:
        print(f"jinqiao user role: {exc}", file=sys.stderr)
        return 1
    print(f"account {args.name} is now {args.role}" if changed else f"account {args.name} was {args.role} already")
    return 0


def cmd_user_password(args) -> int:
    from web.accounts import AccountError

    settings = command_settings()
    password = _read_password(args, "password")
    if password is None:
        return 1
    try:
        _accounts(settings).set_password(args.name, password, actor=cli_actor())
    except AccountError as exc:
        print(f"jinqiao user password: {exc}", file=sys.stderr)
        return 1
    print(f"password of {args.name} reset (its sessions ended; its API tokens still work)")
    return 0


def add_user_commands(sub: argparse._SubParsersAction) -> None:
    """The `user` command and its subcommands, on the parser of `jinqiao`."""
    user = sub.add_parser("user", help="operator accounts").add_subparsers(dest="user_command", required=True)
    user_add = user.add_parser("add", help="add an account (the password is asked twice, or read from stdin)")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    user_add.add_argument("--display-name", default="", help="the name the board and the texts show, e.g. 王芳")
    user_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    user_add.set_defaults(fn=cmd_user_add)
    user_token = user.add_parser("token", help="create an API token for an account and print it; or revoke or list")
    user_token.add_argument("name", nargs="?")
    user_token.add_argument("--label", default="", help="what the token is for")
    user_token.add_argument("--revoke", metavar="TOKEN_OR_ID", help="revoke a token (its value, or its id from --list)")
    user_token.add_argument("--list", action="store_true", help="list the tokens (of NAME, or all)")
    user_token.set_defaults(fn=cmd_user_token)
    for verb in ("disable", "enable"):
        p = user.add_parser(verb, help=f"{verb} an account (a disabled one cannot sign in or use its tokens)")
        p.add_argument("name")
        p.set_defaults(fn=cmd_user_active)
    user_role = user.add_parser("role", help="give an account another role (the last admin keeps theirs)")
    user_role.add_argument("name")
    user_role.add_argument("role", choices=["viewer", "operator", "admin"])
    user_role.set_defaults(fn=cmd_user_role)
    user_password = user.add_parser("password", help="reset an account's password (its sessions end)")
    user_password.add_argument("name")
    user_password.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    user_password.set_defaults(fn=cmd_user_password)
