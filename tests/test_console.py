"""`habot console` on the lab: the same use cases as Slack, as text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from habot.lab.lab import Lab
from tests.lab.cluster import (
    configure_seed_fencing,
    crm_mon,
    seed_running,
    wait_for,
)

pytestmark = pytest.mark.lab


def said_of_it(runbook: str, out: str, lab: Lab) -> None:
    """Fail with what the console said of the runbook's request, whole (an assertion's
    message would be cut short in the middle, where the failed step is), then what the
    cluster says now and what its scheduler logged last."""
    start = out.rfind(f"/ha runbook {runbook}")
    start = out.rfind(f"{runbook} on ") if start < 0 else start
    now = lab.exec("nodo1", ["crm_mon", "--one-shot", "--inactive", "--include=all"], check=False)
    pytest.fail(
        f"{runbook} did not succeed; the console said:\n{out[max(start, 0) :][:6000]}\n"
        f"--- crm_mon now:\n{now.stdout[-4000:]}\n{lab.log_tails(60)}"
    )


def console(lab: Lab, typed: list[str], db: Path, timeout: float = 1200) -> str:
    """`habot console` on the lab, fed `typed` line by line; what it printed (exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "habot", "console", "--config", str(lab.layout.config_file)],
        input="\n".join(typed) + "\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "HABOT_DB": str(db)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


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
    """The seed's story at the prompt, through its last chapter: fencing, the everyday node
    runbooks, GFS2 active-active, then the haproxy runbook (active-passive, on the VIP's node):
    requests to the VIP are answered by both web servers in turn, and still answered while one
    node is in standby."""
    lab.reset()
    lines = [
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
        "/ha runbook gfs2-activate",
        "y",
        "/ha runbook haproxy port=8080",
        "y",
        "/ha audit 200",
        "quit",
    ]
    out = console(lab, lines, tmp_path / "habot.sqlite3")
    assert "precondition: no fencing device is configured" in out
    for runbook in (
        "stonith-libvirt",
        "failover-test",
        "standby",
        "unstandby",
        "fence-test",
        "gfs2-activate",
        "haproxy",
    ):
        if f"{runbook} succeeded" not in out:
            said_of_it(runbook, out, lab)
    assert out.count("maintenance succeeded") == 2
    assert "denied: nothing ran" in out
    assert "single-operator mode" in out  # the audit says how each was approved
    assert "✓ 3. the site answers there" in out
    assert "run succeeded" in out  # the audit lists them
    assert "habot@nodo2$ pcs cluster stop (sudo) → rc 0" in out  # who ran it on the node
    assert "root@" not in out
    vip = f"http://{lab.layout.vip}:8080/"

    def served_by(node: str) -> list[str]:
        answers = []
        for _ in range(6):  # bounded: six requests
            head = lab.exec(node, ["curl", "-s", "-D", "-", "-o", "/dev/null", vip]).stdout
            answers += [
                ln.split(":", 1)[1].strip()
                for ln in head.splitlines()
                if ln.lower().startswith("x-served-by:")
            ]
        return answers

    assert set(served_by("nodo1")) == {"web1", "web2"}  # both web servers, in turn
    try:
        lab.exec("nodo1", ["pcs", "node", "standby", "nodo2"], timeout=120)
        wait_for("nodo2 drained", lambda: len(set(served_by("nodo1"))) == 1, 90)
        assert set(served_by("nodo1")) == {"web1"}  # still answered, by the one left
        failed = [f.get("op_key") for f in crm_mon(lab, "nodo1").iter("failure")]
        assert not [op for op in failed if str(op).startswith("WebSite")], failed
    finally:
        lab.exec("nodo1", ["pcs", "node", "unstandby", "nodo2"], check=False, timeout=120)
        lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)


def test_the_on_call_weeks_everyday_actions_run_on_the_lab(lab: Lab, tmp_path: Path) -> None:
    """Every everyday runbook, as the node user through habot-node, on the seed's cluster with
    fencing: typed as its verb where it has one, each approved at the prompt (the lab's
    single-operator console), each refused before anything runs when its input is bad."""
    lab.reset()
    configure_seed_fencing(lab)
    source = seed_running(lab)
    other = "nodo2" if source == "nodo1" else "nodo1"
    typed = [
        f"/ha ban VirtualIP {source}",  # moves it away
        f"/ha clear VirtualIP {source}",
        f"/ha ban VirtualIP {other} PT2H",
        "/ha clear VirtualIP",
        "/ha restart WebSite",
        "/ha cleanup WebSite",
        f"/ha cleanup WebSite {source}",
        "/ha runbook refresh resource=WebSite",
        "/ha runbook unmanage resource=WebSite",
        "/ha runbook manage resource=WebSite",
        "/ha runbook disable resource=WebSite",
        "/ha runbook enable resource=WebSite",
        f"/ha runbook node-maintenance node={other} mode=on",
        f"/ha runbook node-maintenance node={other} mode=off",
        f"/ha runbook fence-history-cleanup node={other}",
    ]
    bad = [
        "/ha ban NoSuchThing nodo2",  # unknown resource
        "/ha ban VirtualIP nodo9",  # unknown node
        "/ha ban VirtualIP nodo2 2hours",  # not an ISO 8601 duration
        "/ha restart",  # usage
    ]
    lines = [line for command in typed for line in (command, "y")] + bad + ["quit"]
    out = console(lab, lines, tmp_path / "habot.sqlite3")
    for runbook in (
        "ban",
        "clear-on-node",
        "ban-for",
        "clear",
        "restart",
        "cleanup",
        "cleanup-on-node",
        "refresh",
        "unmanage",
        "manage",
        "disable",
        "enable",
        "node-maintenance",
        "fence-history-cleanup",
    ):
        if f"{runbook} succeeded" not in out:
            said_of_it(runbook, out, lab)
    assert "no resource `NoSuchThing` in the cluster" in out
    assert "no node `nodo9` in the cluster" in out
    assert "'2hours' does not match" in out
    assert "usage: `/ha restart RESOURCE [NODE]`" in out
    assert "refused" not in out.replace("refused by", "")  # the node refused nothing
    lab.exec("nodo1", ["pcs", "resource", "clear", "VirtualIP"], check=False)
