"""up, down and recovery from a half-up lab; clear errors when the machine cannot run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from habot.errors import LabError, LabPreflightError
from habot.lab import preflight, processes
from habot.lab.lab import Lab

pytestmark = pytest.mark.lab


def lab_footprint(lab: Lab) -> list[str]:
    """Everything of this lab that should not outlive `down`: its namespaces and what runs in
    them, processes that name its directory, its listeners (other labs of this machine, the
    tests' other lanes, are theirs)."""
    names = [spec.netns for spec in lab.layout.nodes]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    found = [
        f"netns {n}" for n in (ln.split()[0] for ln in listed.stdout.splitlines()) if n in names
    ]
    inside = {
        pid
        for name in names
        for pid in subprocess.run(
            ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
        ).stdout.split()
    }
    root = str(lab.layout.root)
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit() or not processes.alive(int(pid_dir.name)):
            continue
        try:
            cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if root in cmdline or pid_dir.name in inside:
            found.append(f"pid {pid_dir.name}: {cmdline.strip()}")
    for spec in lab.layout.nodes:
        with socket.socket() as s:
            if s.connect_ex((spec.ssh_host, lab.layout.ssh_port)) == 0:
                found.append(f"listener {spec.ssh_host}:{lab.layout.ssh_port}")
    return found


def test_down_leaves_nothing_and_up_again_works(lab: Lab) -> None:
    said: list[str] = []
    lab.down(said.append, grace=0)
    assert lab_footprint(lab) == []
    assert not lab.is_up()
    lab.up(said.append)
    assert lab.is_up()
    assert lab.online_nodes() == {"nodo1", "nodo2"}
    lab.up(said.append)
    assert said[-1].startswith("the lab is already up")


def test_up_cleans_what_a_killed_lab_left_behind(lab: Lab) -> None:
    for node in lab.nodes():  # a crashed `up`: its processes killed, namespaces left behind
        node.kill_all()  # the anchor too
        assert node.anchor() is None
        assert Path("/run/netns", node.spec.netns).exists()
    said: list[str] = []
    lab.up(said.append)
    assert any(line.startswith("cleaning what a previous lab left behind") for line in said)
    assert lab.online_nodes() == {"nodo1", "nodo2"}


def test_cli_up_twice_and_status(lab: Lab) -> None:
    habot = [sys.executable, "-m", "habot", "lab"]
    up = subprocess.run([*habot, "up"], capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0
    assert "the lab is already up" in up.stdout
    status = subprocess.run([*habot, "status"], capture_output=True, text=True, check=False)
    assert "online in the cluster: nodo1, nodo2" in status.stdout
    ssh = subprocess.run(
        [*habot, "ssh", "nodo1", "sudo", "pcs", "status"],  # as admin: root cannot log in
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Current DC:" in ssh.stdout
    unknown = subprocess.run(
        [*habot, "crash", "nodo9"], capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 1
    assert "no lab node 'nodo9' (the lab has nodo1, nodo2)" in unknown.stderr


def test_not_root_is_refused_with_a_clear_error() -> None:
    done = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            # not root, yet able to read a checkout under a 0700 directory (mktemp -d, /root)
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
            sys.executable,
            "-m",
            "habot",
            "lab",
            "up",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HABOT_LAB_DIR": "/nonexistent/habot-lab"},
        cwd="/",
    )
    assert done.returncode == 1
    assert "the lab needs root" in done.stderr


def test_missing_packages_name_the_apt_line() -> None:
    missing = preflight.missing_packages(("bash", "habot-no-such-package"))
    assert missing == ["habot-no-such-package"]
    assert preflight.install_line(missing).endswith("apt-get install -y habot-no-such-package")


def test_port_in_use_is_named(lab: Lab) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.4", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = replace(lab.layout.nodes[0], ssh_host="127.0.0.4")
        layout = replace(lab.layout, nodes=(spec,), ssh_port=port)
        with pytest.raises(LabPreflightError, match=f"127.0.0.4:{port} .ssh to nodo1. is in use"):
            preflight.check_ports(layout)


def test_node_not_online_in_time_prints_its_logs(lab: Lab) -> None:
    with pytest.raises(LabError) as caught:
        lab.wait_online(0.1, nodes={"nodo3"})
    assert "nodo3 not online within 0.1 s" in str(caught.value)
    assert "--- nodo1: var/log/pacemaker/pacemaker.log" in str(caught.value)
