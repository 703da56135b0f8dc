"""What the machine must have before the lab can start; every failure says how to fix it."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from importlib import resources

from habot.errors import LabPreflightError
from habot.lab.layout import LabLayout


def lab_packages() -> tuple[str, ...]:
    text = (resources.files("habot.lab") / "packages.txt").read_text()
    return tuple(line for line in text.split("\n") if line and not line.startswith("#"))


def missing_packages(packages: tuple[str, ...] | None = None) -> list[str]:
    """Debian packages (default: the lab's) that dpkg does not report as installed."""
    packages = lab_packages() if packages is None else packages
    query = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = {
        line.split()[0] for line in query.stdout.splitlines() if line.endswith(" installed")
    }
    return [p for p in packages if p not in installed]


def install_line(packages: list[str]) -> str:
    return "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y " + " ".join(
        packages
    )


def check_root() -> None:
    if os.geteuid() != 0:
        raise LabPreflightError("the lab needs root (network and mount namespaces): run it as root")


def check_packages() -> None:
    missing = missing_packages()
    if missing:
        raise LabPreflightError(
            f"missing Debian packages: {', '.join(missing)}\n  fix: {install_line(missing)}"
        )


def check_netns() -> None:
    """Create and delete a throwaway namespace: proves `ip netns` works here."""
    probe = f"habot-probe-{uuid.uuid4().hex[:8]}"
    added = subprocess.run(
        ["ip", "netns", "add", probe], capture_output=True, text=True, check=False
    )
    if added.returncode != 0:
        raise LabPreflightError(
            f"network namespaces are not available here: {added.stderr.strip()}"
        )
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True, check=False)


def check_ports(layout: LabLayout) -> None:
    for node in layout.nodes:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((node.ssh_host, layout.ssh_port))
            except OSError as e:
                raise LabPreflightError(
                    f"{node.ssh_host}:{layout.ssh_port} (ssh to {node.name}) is in use: "
                    f"{e.strerror}; free it or set HABOT_LAB_SSH_PORT to another port"
                ) from e


def check_all(layout: LabLayout) -> None:
    check_root()
    check_packages()
    check_netns()
    check_ports(layout)
