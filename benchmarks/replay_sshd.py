"""A real OpenSSH sshd on loopback whose cluster commands answer with recorded outputs: many
benchmark "nodes" share it (each its own connection and read sessions, as real nodes would).

`crm_mon`, `cibadmin`, `crm_attribute` and `journalctl` are small scripts first on the
sessions' PATH (sshd's SetEnv): crm_mon prints a lab capture, journalctl prints a recorded
batch on a first read (`--since`) and nothing after a cursor (a quiet cluster)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
CRM_MON = FIXTURES / "crm_mon" / "lab_seed_fenced.xml"
JOURNAL = FIXTURES / "logs" / "lab_dlm_without_fencing" / "nodo1_journal.json"
SCRIPTS = {
    "crm_mon": f"#!/bin/sh\ncat {CRM_MON}\n",
    "cibadmin": "#!/bin/sh\necho '<constraints/>'\n",
    "crm_attribute": "#!/bin/sh\necho mycluster\n",
    "journalctl": (
        '#!/bin/sh\nfor a in "$@"; do case $a in --after-cursor=*) exit 0;; esac; done\n'
        f"head -n 200 {JOURNAL}\n"
    ),
}


@dataclass(frozen=True)
class ReplaySshd:
    port: int
    pid: int
    client_key: Path
    known_hosts: Path
    user: str


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return Path(f"{path}.pub").read_text().strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running() -> Iterator[ReplaySshd]:
    """As root (sshd's privilege separation); stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix="habot-replay-") as tmp:
        home = Path(tmp)
        home.chmod(0o755)
        bin_dir = home / "bin"
        bin_dir.mkdir()
        for name, text in SCRIPTS.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        host_pub = _keygen(home / "host_key")
        client_pub = _keygen(home / "client_key")
        (home / "authorized_keys").write_text(client_pub + "\n")
        port = _free_port()
        (home / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
        (home / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home}/host_key\n"
            f"AuthorizedKeysFile {home}/authorized_keys\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n"
            f"PidFile {home}/sshd.pid\nMaxSessions 10\nMaxStartups 400:30:800\n"
            f"StrictModes no\nSetEnv PATH={bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        proc = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(home / "sshd_config")],
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the replay sshd did not start")
            time.sleep(0.05)
        user = os.environ.get("USER") or "root"
        try:
            yield ReplaySshd(port, proc.pid, home / "client_key", home / "known_hosts", user)
        finally:
            proc.terminate()
            proc.wait(10)
