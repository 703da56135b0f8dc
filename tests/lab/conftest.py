"""What the lab's tests share: habot's own transport to the lab's nodes, as its config says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from habot.config import HabotConfig
from habot.ssh.asyncssh_transport import AsyncsshTransport


@pytest.fixture
async def transport(lab_config: HabotConfig) -> AsyncIterator[AsyncsshTransport]:
    cluster = lab_config.clusters["mycluster"]
    t = AsyncsshTransport(client_key=cluster.ssh_key, known_hosts=cluster.known_hosts)
    yield t
    await t.close()
