"""What every `jinqiao` command does first: read and check its settings, then open the database.

A configuration error ends the command with exit code 2 and one line on stderr; settings that are
set but do nothing (an unknown name, a Twilio URL without Twilio) are logged as warnings.
"""

from __future__ import annotations

import sys

from core.logs import configure_logging
from core.settings import Settings, SettingsError, load_settings


def command_settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"jinqiao: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    _warn_about_settings(settings)
    return settings


def _warn_about_settings(settings: Settings) -> None:
    import structlog

    from core.settings import Settings as Defaults
    from core.settings import unknown_names

    log = structlog.get_logger("jinqiao.settings")
    if settings.twilio_api_url != Defaults.model_fields["twilio_api_url"].default and not settings.twilio_enabled:
        log.warning(
            "settings.twilio_api_url_unused",
            twilio_api_url=settings.twilio_api_url,
            message="JINQIAO_TWILIO_API_URL is set, but without JINQIAO_TWILIO_ACCOUNT_SID, "
            "JINQIAO_TWILIO_AUTH_TOKEN and JINQIAO_TWILIO_FROM the console notifier is used",
        )
    for where, name, closest in unknown_names():
        hint = f"did you mean {closest}?" if closest else "it sets nothing"
        log.warning(
            "settings.unknown_name",
            name=name,
            where=where,
            closest=closest,
            message=f"{name} is not a Jinqiao setting and is ignored; {hint}",
        )


def migrated_engine(settings: Settings):
    """The database at the newest schema: every command that touches the registry migrates first."""
    from core.db import make_engine, upgrade

    upgrade(settings.database_url)
    return make_engine(settings.database_url)
