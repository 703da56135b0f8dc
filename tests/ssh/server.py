"""A real OpenSSH sshd on 127.0.0.1: its own host key, one authorized client key, a config
of its own (the tests' server, and the benchmarks' server that answers recorded outputs)."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    port: int
    pid: int
    client_key: Path
    known_hosts: Path
    user: str

    def session_pids(self) -> list[int]:
        """sshd's per-connection processes (children of the listener)."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(p) for p in out.split()]


def free_port() -> int:
    """A port free now, below the kernel's range for outgoing connections: between this
    choice and the server binding it, no connection of another test (several run side by
    side) can be given it, as one from that range could."""
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        port = random.randrange(max(1024, low - 12000), low)  # noqa: S311 - a port, no secret
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return Path(f"{path}.pub").read_text().strip()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running(home: Path, extra_config: str = "") -> Iterator[Sshd]:
    """sshd with its keys and config in `home` (as root: its privilege separation), stopped
    after; RuntimeError with its log when it does not start within 10 s."""
    host_pub = keygen(home / "host_key")
    client_pub = keygen(home / "client_key")
    (home / "authorized_keys").write_text(client_pub + "\n")
    port = free_port()
    (home / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    (home / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home}/host_key\n"
        f"AuthorizedKeysFile {home}/authorized_keys\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n"
        f"PidFile {home}/sshd.pid\nMaxSessions 10\nStrictModes no\n{extra_config}"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    with (home / "sshd.log").open("wb") as log:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(home / "sshd_config")], stderr=log)
    deadline = time.monotonic() + 10
    while not _listening(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"sshd did not start: {(home / 'sshd.log').read_text()}")
        time.sleep(0.05)
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    )
    try:
        yield Sshd(port, proc.pid, home / "client_key", home / "known_hosts", user)
    finally:
        proc.terminate()
        proc.wait(10)
