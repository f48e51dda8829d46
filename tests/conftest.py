"""Shared fixtures: real Mosquitto, real SQLite and PostgreSQL, all private to the test run.

Tests that take `db_url` run twice, on SQLite and on PostgreSQL. Set JINQIAO_TEST_DATABASES=sqlite
to run only SQLite (a quick local loop); CI runs both.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core.db import make_engine, session_factory, upgrade
from simulators.services import Mosquitto, Postgres

DATABASES = os.environ.get("JINQIAO_TEST_DATABASES", "sqlite,postgresql").split(",")
# The mediator's daily SMS goes out at 08:30 on the wall clock of every dispatcher a test starts, in
# this process or a child: a test about something else would count it only in Shanghai's daytime.
# Off for the suite; tests/test_mediator_day.py runs the pass on a fake clock.
os.environ["JINQIAO_MEDIATOR_SUMMARY_AT"] = "off"
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    # Not under pytest's tmp folder: that one is private to root, and PostgreSQL runs as `postgres`.
    workdir = Path(tempfile.mkdtemp(prefix="jinqiao-pg-"))
    workdir.chmod(0o755)
    pg = Postgres(workdir).start()
    yield pg
    pg.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=DATABASES)
def db_url(request, tmp_path) -> str:
    """A fresh, migrated database: a SQLite file, or a new database in our PostgreSQL cluster."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/jinqiao.db"
    else:
        pg = request.getfixturevalue("postgres")
        url = pg.create_database(f"t{os.getpid()}_{next(_db_counter)}")
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def mosquitto(tmp_path):
    broker = Mosquitto(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def example_registry(shared_dir) -> Path:
    """The registry example of the product contract; a copy ships in tests/data for clones without shared/."""
    path = shared_dir / "registry.example.yaml"
    return path if path.exists() else Path(__file__).parent / "data" / "registry.example.yaml"
