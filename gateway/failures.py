"""What kind of failure a database error is, and how to write one into a row."""

from __future__ import annotations

from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as SqlTimeout


def transient(exc: Exception) -> bool:
    """A failure of the connection or of concurrency, not of what we tried to store: retry the same."""
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, SqlTimeout)) or bool(
        getattr(exc, "connection_invalidated", False)
    )


def of_the_message(exc: Exception) -> bool:
    """The database refused the values (DBAPI's DataError, IntegrityError), or binding them failed outright."""
    return isinstance(exc, (DataError, IntegrityError)) or not isinstance(exc, SQLAlchemyError)


def text(value: str) -> str:
    return value.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL


def first_line(exc: Exception) -> str:
    line = str(exc).splitlines()[0] if str(exc) else ""
    return text(f"{type(exc).__name__}: {line}"[:300])
