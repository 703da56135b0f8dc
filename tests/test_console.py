"""`habot console` on the lab: the same use cases as Slack, as text."""

from __future__ import annotations

import subprocess
import sys

import pytest

from habot.lab.lab import Lab

pytestmark = pytest.mark.lab


def test_console_status_help_and_bad_input(lab: Lab) -> None:
    lines = "/ha status\nstatus\n/ha help\n/ha nonsense\n/ha status nowhere\nquit\n"
    done = subprocess.run(
        [sys.executable, "-m", "habot", "console", "--config", str(lab.layout.config_file)],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("== mycluster:") == 2
    for name in (
        "nodo1: online",
        "nodo2: online",
        "VirtualIP (IPaddr2)",
        "WebSite (apache)",
        "WebData-clone [WebData] (promotable clone)",
        "WebFS (Filesystem)",
    ):
        assert name in out
    assert "unknown command `nonsense`" in out
    assert "unknown cluster `nowhere` (habot knows: mycluster)" in out
    assert "Traceback" not in out + done.stderr
