"""The tests' own OpenSSH sshd (tests/ssh/server.py), once per session, and a transport to it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.ssh.transport import NodeAddress
from tests.ssh.server import SSHD, Sshd, running


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not Path(SSHD).exists():
        pytest.fail("openssh-server is not installed (scripts/bootstrap installs it)")
    if os.geteuid() != 0 and os.environ.get("CI") != "true":
        pytest.skip("sshd needs root here (its privilege separation directory)")
    home = tmp_path_factory.mktemp("sshd")
    home.chmod(0o700)
    try:
        with running(home) as server:
            yield server
    except RuntimeError as e:
        pytest.fail(str(e))


def node(sshd: Sshd) -> NodeAddress:
    return NodeAddress("local", "127.0.0.1", sshd.port, sshd.user)


@pytest.fixture
async def transport(sshd: Sshd) -> AsyncIterator[AsyncsshTransport]:
    t = AsyncsshTransport(client_key=sshd.client_key, known_hosts=sshd.known_hosts)
    yield t
    await t.close()
