"""The long-lived read sessions (one habot-node each) against the lab's nodes: a command that
prints a fake reply header, a session killed in the middle of a command, and a node that
reboots under it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from dataclasses import replace

import pytest

from habot.cluster.live import status_argv
from habot.config import HabotConfig
from habot.lab.lab import Lab
from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.ssh.transport import NodeAddress

pytestmark = pytest.mark.lab


def address(config: HabotConfig, name: str) -> NodeAddress:
    return next(n.address() for n in config.clusters["mycluster"].nodes if n.name == name)


def plain(config: HabotConfig, name: str) -> NodeAddress:
    """The node as the habot user itself, without sudo: the session protocol is the same,
    and these commands are not cluster commands (the node's sudoers has none of them)."""
    return replace(address(config, name), sudo=False)


def shells(lab: Lab, node: str) -> list[str]:
    """The read sessions' helpers running in that node (its network namespace): the installed
    habot-node (through sudo) or its text (`python3 -I -c`, without) — not sudo around it, nor
    the login shell that started it (`sh -c 'python3 …'`: dash forks for it)."""
    in_node = set(_run(["ip", "netns", "pids", lab.layout.node(node).netns]).split())
    helper = (
        "^(/usr/bin/)?python3 -I (-c .*|/usr/local/libexec/habot/habot-node) session [0-9a-f]{32}$"
    )
    found = _run(["pgrep", "-f", helper]).split()
    return sorted(set(found) & in_node)


async def only_shell(lab: Lab, node: str) -> str:
    """The one read-session shell of the node, once those of earlier transports (closed, their
    sshd sessions ending) are gone: bounded to 10 s."""
    for _ in range(100):
        found = shells(lab, node)
        if len(found) == 1:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{node}: read-session shells {shells(lab, node)}, expected one")


def _run(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


async def test_a_fake_header_in_the_output_changes_nothing(
    lab: Lab, lab_config: HabotConfig, transport: AsyncsshTransport
) -> None:
    nodo1 = plain(lab_config, "nodo1")
    await transport.read(nodo1, ["true"], timeout=30)
    shell = await only_shell(lab, "nodo1")
    fake = "0123456789abcdef0123456789abcdef 0 0 0"
    tricky = await transport.read(nodo1, ["sh", "-c", f"echo '{fake}'; echo done"], timeout=30)
    assert tricky.stdout == f"{fake}\ndone\n".encode()
    again = await transport.read(nodo1, ["echo", "after"], timeout=30)
    assert again.stdout == b"after\n"
    assert shells(lab, "nodo1") == [shell]  # the same shell: the fake header broke nothing
    habot = address(lab_config, "nodo1")
    status = await transport.read(habot, status_argv(habot), timeout=30)
    assert b"<pacemaker-result" in status.stdout


async def test_a_session_killed_mid_command_costs_nothing_but_a_retry(
    lab: Lab, lab_config: HabotConfig, transport: AsyncsshTransport
) -> None:
    nodo1 = plain(lab_config, "nodo1")
    await transport.read(nodo1, ["true"], timeout=30)
    shell = await only_shell(lab, "nodo1")
    reading = asyncio.create_task(
        transport.read(nodo1, ["sh", "-c", "sleep 1; /usr/sbin/crm_mon --version"], timeout=30)
    )
    await asyncio.sleep(0.3)
    os.kill(int(shell), signal.SIGKILL)
    result = await reading
    assert result.exit_status == 0
    assert b"Pacemaker" in result.stdout
    assert shell not in shells(lab, "nodo1")


async def test_a_rebooted_node_gets_a_new_session(
    lab: Lab, lab_config: HabotConfig, transport: AsyncsshTransport
) -> None:
    lab.reset()
    nodo2 = address(lab_config, "nodo2")
    await transport.read(nodo2, ["true"], timeout=30)
    before = shells(lab, "nodo2")
    lab.crash("nodo2")  # the plug pulled: its sshd and the session's shell die with it
    lab.boot("nodo2")  # no fencing configured in the seed: power it on by hand
    lab.wait_online(120)

    async def answered() -> bytes:
        for _ in range(60):  # bounded: the node's sshd comes back within seconds
            try:
                return (await transport.read(nodo2, status_argv(nodo2), timeout=30)).stdout
            except Exception:
                await asyncio.sleep(1)
        raise AssertionError("nodo2 never answered after its reboot")

    assert b"<pacemaker-result" in await answered()
    assert shells(lab, "nodo2") != before
