"""A real OpenSSH sshd on loopback whose cluster commands answer with recorded outputs: many
benchmark "nodes" share it (each its own connection and read sessions, as real nodes would).

`crm_mon`, `cibadmin`, `crm_attribute` and `journalctl` are small scripts first on the
sessions' PATH (sshd's SetEnv): crm_mon prints a lab capture, journalctl prints a recorded
batch on a first read (`--since`) and nothing after a cursor (a quiet cluster)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.ssh import server
from tests.ssh.server import Sshd

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


@contextlib.contextmanager
def running() -> Iterator[Sshd]:
    """As root (sshd's privilege separation); stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix="habot-replay-") as tmp:
        home = Path(tmp)
        home.chmod(0o755)
        bin_dir = home / "bin"
        bin_dir.mkdir()
        for name, text in SCRIPTS.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        extra = f"MaxStartups 400:30:800\nSetEnv PATH={bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin\n"
        with server.running(home, extra) as sshd:
            yield sshd
