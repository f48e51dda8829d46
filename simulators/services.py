"""Private Mosquitto and PostgreSQL instances for tests and benchmarks, on free ports, in temporary folders.

Never the machine's own services: a test run owns what it starts and stops it afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def find_binary(name: str, *extra_dirs: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/local/sbin", *extra_dirs):
        candidate = Path(d) / name
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"{name} is not installed (scripts/test.sh installs it)")


@dataclass
class Mosquitto:
    """A Mosquitto broker of our own. `conf_extra` adds configuration lines."""

    workdir: Path
    conf_extra: str = ""
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    # a whole configuration of its own instead of the test one (it must listen on `port`)
    conf_text: str | None = None

    BASE_CONF = (
        "allow_anonymous true\n"
        "persistence true\n"
        "autosave_on_changes true\n"
        "autosave_interval 1\n"
        # the gateway keeps many QoS1 messages in flight and must find every queued one again
        "max_inflight_messages 0\n"
        "max_queued_messages 0\n"
        "max_queued_bytes 0\n"
        "set_tcp_nodelay true\n"
    )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        if self.conf_text is not None:
            conf.write_text(("user root\n" if os.geteuid() == 0 else "") + self.conf_text)
        else:
            conf.write_text(
                f"listener {self.port} 127.0.0.1\n"
                f"persistence_location {self.workdir}/\n"
                + self.BASE_CONF
                # as root, Mosquitto would drop to its own user, which cannot write pytest's private folder
                + ("user root\n" if os.geteuid() == 0 else "")
                + self.conf_extra
            )
        if os.geteuid() == 0:  # mosquitto drops to its own user when started as root
            shutil.chown(self.workdir, user="mosquitto") if _user_exists("mosquitto") else None
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115  (the broker writes it while it lives)
        self.proc = subprocess.Popen([find_binary("mosquitto"), "-c", str(conf)], stdout=log, stderr=log)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster. As root it runs as the `postgres` user (it refuses root)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    fsync: bool = False  # off for tests; the benchmarks measure with it on
    version: str = "?"
    settings: dict[str, str] = field(default_factory=dict)  # more `-c name=value` server settings
    primary: Postgres | None = None  # set: a streaming standby of that cluster, made by `standby()`

    def _run_as(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> Postgres:
        initdb = str(
            Path(find_binary("initdb", *sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")))).resolve()
        )
        pg_ctl = str(Path(initdb).with_name("pg_ctl"))
        data = self.workdir / "data"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, user="postgres")
        if self.primary is None:
            subprocess.run(
                [*self._run_as(), initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        else:  # a copy of the primary that follows its WAL (-R writes primary_conninfo and standby.signal)
            subprocess.run(
                [
                    *self._run_as(),
                    str(Path(initdb).with_name("pg_basebackup")),
                    *("-D", str(data), "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres"),
                    *("-R", "-X", "stream", "--no-sync"),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        extra = "".join(f" -c {k}={v}" for k, v in self.settings.items())
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.workdir} -c fsync={'on' if self.fsync else 'off'} -c max_connections=200{extra}"
        subprocess.run(
            [*self._run_as(), pg_ctl, "-D", str(data), "-l", str(self.workdir / "pg.log"), "-o", opts, "-w", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._pg_ctl = pg_ctl
        self._data = data
        self.version = subprocess.run(
            [str(Path(initdb).with_name("postgres")), "--version"], capture_output=True, text=True
        ).stdout.strip()
        return self

    def standby(self, workdir: Path) -> Postgres:
        """A streaming standby of this cluster in `workdir`, started; with `synchronous=True` set on
        this one (sync_with), a commit here returns only once the standby has it."""
        return Postgres(
            workdir, fsync=self.fsync, settings={"hot_standby": "on", "cluster_name": "standby"}, primary=self
        ).start()

    def sync_with(self, standby: Postgres) -> None:
        """Make every commit wait for `standby` (synchronous_standby_names), once it is streaming."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            for _ in range(200):
                if c.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").fetchone() != (0,):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("the standby never started streaming")
            c.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
            c.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
            c.execute("SELECT pg_reload_conf()")

    def promote(self) -> None:
        """The standby becomes a primary (pg_ctl promote, waiting until it accepts writes)."""
        subprocess.run(
            [*self._run_as(), self._pg_ctl, "-D", str(self._data), "-w", "promote"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend, as a machine that dies would."""
        pid = self.postmaster_pid()
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for p in [pid, *map(int, children)]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def postmaster_pid(self) -> int:
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database, empty or a copy of `template` (which nobody may be connected to)."""
        import psycopg

        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*self._run_as(), self._pg_ctl, "-D", str(self._data), "-m", "immediate", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def stop_process(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM, up to `grace` seconds to finish, then SIGKILL; nothing if it already ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
