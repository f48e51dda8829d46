"""Shared fixtures: real Mosquitto, real SQLite and PostgreSQL, all private to the test run.

Tests that take `db_url` run twice, on SQLite and on PostgreSQL, except those in a browser: what a
page shows is the same on both, and the API under it runs on both in its own tests. Set
JINQIAO_TEST_DATABASES=sqlite to run only SQLite (a quick local loop); CI runs both.
JINQIAO_TEST_SHARD=i/n runs the i-th of n parts of the suite, split by each test's id: the
shifted-clock runs of scripts/test.sh share the suite out between their three clocks this way.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.db import make_engine, session_factory, upgrade
from simulators.services import Mosquitto, Postgres

DATABASES = os.environ.get("JINQIAO_TEST_DATABASES", "sqlite,postgresql").split(",")
# A browser test waits for what the page shows (`expect`), up to this long: on a loaded machine a
# live update can take longer than Playwright's default 5 s, and a longer wait costs nothing when
# the page is right. Only a failing test waits it out.
expect.set_options(timeout=20_000)
# The mediator's daily SMS goes out at 08:30 on the wall clock of every dispatcher a test starts, in
# this process or a child: a test about something else would count it only in Shanghai's daytime.
# Off for the suite; tests/test_mediator_day.py runs the pass on a fake clock.
os.environ["JINQIAO_MEDIATOR_SUMMARY_AT"] = "off"
_db_counter = itertools.count()


def pytest_collection_modifyitems(config, items) -> None:
    shard = os.environ.get("JINQIAO_TEST_SHARD")
    part, parts = (int(n) for n in shard.split("/")) if shard else (0, 1)

    def runs(item) -> bool:
        if "browser" in item.fixturenames and "[postgresql" in item.nodeid:
            return False
        return zlib.crc32(item.nodeid.encode()) % parts == part

    dropped = [item for item in items if not runs(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if runs(item)]


@pytest.fixture(scope="session")
def postgres():
    # Not under pytest's tmp folder: that one is private to root, and PostgreSQL runs as `postgres`.
    workdir = Path(tempfile.mkdtemp(prefix="jinqiao-pg-"))
    workdir.chmod(0o755)
    pg = Postgres(workdir).start()
    yield pg
    pg.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated once for the whole run: each test gets a copy (tests/test_migration_*
    and the processes' own start-up still run the migrations themselves)."""
    path = tmp_path_factory.mktemp("migrated") / "jinqiao.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres) -> str:
    """The name of a PostgreSQL database migrated once, the template of each test's database."""
    name = f"migrated_{os.getpid()}"
    upgrade(postgres.create_database(name))
    return name


@pytest.fixture(params=DATABASES)
def db_url(request, tmp_path) -> str:
    """A fresh, migrated database of its own: a SQLite file, or a new database in our PostgreSQL
    cluster, each a copy of one migrated at the start of the run."""
    if request.param == "sqlite":
        path = tmp_path / "jinqiao.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    pg = request.getfixturevalue("postgres")
    return pg.create_database(
        f"t{os.getpid()}_{next(_db_counter)}", template=request.getfixturevalue("migrated_postgres")
    )


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
