"""`jinqiao import FILE` and `jinqiao export registry|residents FILE`: the registry in and out of
files (registry/files.py says what each file holds)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jinqiao.cli_settings import command_settings, migrated_engine


def cmd_import(args) -> int:
    from core.db import session_factory
    from jinqiao.cli_accounts import cli_actor
    from registry.fields import RegistryError
    from registry.files import import_file

    settings = command_settings()
    engine = migrated_engine(settings)
    try:
        report = import_file(session_factory(engine), args.file, actor=cli_actor())
    except RegistryError as exc:
        print(f"jinqiao import: {args.file}: nothing was changed:\n{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"jinqiao import: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


def cmd_export(args) -> int:
    from core.db import session_factory
    from registry.fields import RegistryError
    from registry.files import registry_yaml, residents_form

    settings = command_settings()
    sessions = session_factory(migrated_engine(settings))
    path = Path(args.file)
    try:
        with sessions() as s:
            if args.what == "registry":
                data = registry_yaml(s).encode("utf-8")
            else:
                data = residents_form(s, path.suffix.lower())
        path.write_bytes(data)
    except RegistryError as exc:
        print(f"jinqiao export: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"jinqiao export: {args.file}: cannot write: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{args.what} written to {args.file}")
    return 0


def add_file_commands(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import", help="import the registry from a YAML file, or the residents from a .xlsx or .csv form"
    )
    imp.add_argument("file")
    imp.set_defaults(fn=cmd_import)
    exp = sub.add_parser("export", help="write the registry (YAML) or the residents' form (.xlsx or .csv)")
    exp.add_argument("what", choices=["registry", "residents"])
    exp.add_argument("file", help="registry: FILE.yaml; residents: FILE.xlsx or FILE.csv")
    exp.set_defaults(fn=cmd_export)
