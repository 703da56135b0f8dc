"""`habot console` on the lab: the same use cases as Slack, as text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_console_runs_the_seed_runbooks_with_approval_at_the_prompt(
    lab: Lab, tmp_path: Path
) -> None:
    lab.reset()
    lines = (
        "\n".join(
            [
                "/ha runbook gfs2-activate",  # refused: no fencing yet
                "/ha runbook stonith-libvirt",
                "y",
                "/ha runbook failover-test",
                "y",
                "/ha runbook standby node=nodo2",
                "y",
                "/ha runbook unstandby node=nodo2",
                "y",
                "/ha runbook maintenance mode=on",
                "",  # denied at the prompt
                "/ha runbook maintenance mode=on",
                "yes",
                "/ha runbook maintenance mode=off",
                "y",
                "/ha runbook fence-test node=nodo2",  # two approvers in Slack; one operator here
                "y",
                "/ha audit 200",
                "quit",
            ]
        )
        + "\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "habot", "console", "--config", str(lab.layout.config_file)],
        input=lines,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "HABOT_DB": str(tmp_path / "habot.sqlite3")},
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "precondition: no fencing device is configured" in out
    for runbook in ("stonith-libvirt", "failover-test", "standby", "unstandby", "fence-test"):
        assert f"{runbook} succeeded" in out, out[-3000:]
    assert out.count("maintenance succeeded") == 2
    assert "denied: nothing ran" in out
    assert "single-operator mode" in out  # the audit says how each was approved
    assert "✓ 3. the site answers there" in out
    assert "Traceback" not in out + done.stderr
    assert "run succeeded" in out  # the audit lists them
    assert "habot@nodo2$ pcs cluster stop (sudo) → rc 0" in out  # who ran it on the node
    assert "root@" not in out
    lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)
