"""A throwaway PostgreSQL server for the tests: Debian's `initdb` into a private directory, a
loopback port, trust authentication (nothing but this machine can reach it), torn down after."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    directory: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://habot@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def running() -> Iterator[Server]:
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="habot-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: the server runs as `postgres`
        shutil.chown(directory, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data, log = directory / "data", directory / "log"
    try:
        subprocess.run(
            [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "habot"],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-w"]
        subprocess.run(
            [*pg_ctl, "-l", str(log), "-o", options, "start"],
            check=True,
            capture_output=True,
        )
        yield Server(port, directory)
    finally:
        if data.exists():
            subprocess.run(
                [
                    *as_user,
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-w",
                    "-m",
                    "immediate",
                    "stop",
                ],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(directory, ignore_errors=True)


_numbers = itertools.count()


def fresh_database(server: Server) -> str:
    """A new, empty database on the server: its URL."""
    import psycopg

    name = f"habot_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return server.url(name)
