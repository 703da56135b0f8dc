"""A cluster whose shell is crmsh, on the lab, through signed Slack requests: the status says
the shell; a failover, a ban and its clear, a standby and back, a cleanup each run their crmsh
commands (the audit shows them) after the preview and approval, and leave the cluster as
they say; a runbook that only pcs can run is refused before anything runs, naming its step."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from habot.config import HabotConfig
from habot.lab.lab import Lab
from tests.fakes.clock import SkewedClock
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import crm_mon, resource_nodes, wait_for
from tests.slack.flows import answer, click, request_card, wait_card
from tests.slack.harness import Bot, make_bot, start_http
from tests.slack.test_runbooks import APPROVE, commands_run, fenced_lab, request_id_of

pytestmark = pytest.mark.lab


@pytest.fixture
async def crmsh_bot(
    lab_config: HabotConfig, fake_slack: FakeSlack, clock: SkewedClock
) -> AsyncIterator[Bot]:
    cluster = lab_config.clusters["mycluster"].model_copy(update={"shell": "crmsh"})
    config = lab_config.model_copy(update={"clusters": {"mycluster": cluster}})
    bot = await start_http(make_bot(config, fake_slack, clock=clock))
    yield bot
    await bot.stop()


async def ran(
    session: aiohttp.ClientSession, bot: Bot, command: str, *, preview: str = ""
) -> list[tuple[str, ...]]:
    """`/ha COMMAND`, approved; the commands its run ran (it succeeded)."""
    card = await request_card(session, bot, command)
    if preview:
        assert preview in str(card["blocks"]), card["blocks"]
    assert await click(session, bot, card, APPROVE, "UBOB") == 200
    await wait_card(bot, card, "succeeded", timeout=300)
    return commands_run(bot, request_id_of(card))


def node_attribute(lab: Lab, node: str, name: str) -> str:
    nodes = crm_mon(lab, "nodo1").find("nodes")
    assert nodes is not None
    return next(n.get(name, "") for n in nodes if n.get("name") == node)


async def test_the_everyday_verbs_speak_crmsh(
    lab: Lab, crmsh_bot: Bot, session: aiohttp.ClientSession
) -> None:
    fenced_lab(lab)
    said = await answer(crmsh_bot, session, "status", "UALICE")
    assert "shell crmsh (configured)" in said
    source = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    try:
        commands = await ran(
            session,
            crmsh_bot,
            f"failover VirtualIP {target}",
            preview="VirtualIP",  # the preview, simulated before the approval
        )
        assert ("crm", "--no", "resource", "move", "VirtualIP", target) in commands
        assert ("crm", "--no", "resource", "clear", "VirtualIP") in commands
        assert not any(c[0] == "pcs" for c in commands)
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]
        location = lab.exec("nodo1", ["cibadmin", "--query", "--scope", "constraints"]).stdout
        assert "cli-prefer-VirtualIP" not in location  # crmsh's constraint cleared

        commands = await ran(session, crmsh_bot, f"ban VirtualIP {target}")
        assert ("crm", "--no", "resource", "ban", "VirtualIP", target) in commands
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [source]
        commands = await ran(session, crmsh_bot, "clear VirtualIP")
        assert ("crm", "--no", "resource", "clear", "VirtualIP") in commands
        location = lab.exec("nodo1", ["cibadmin", "--query", "--scope", "constraints"]).stdout
        assert "cli-ban-VirtualIP" not in location

        commands = await ran(session, crmsh_bot, f"runbook standby node={target}")
        assert ("crm", "--no", "node", "standby", target) in commands
        assert node_attribute(lab, target, "standby") == "true"
        commands = await ran(session, crmsh_bot, f"runbook unstandby node={target}")
        assert ("crm", "--no", "node", "online", target) in commands
        wait_for("back online", lambda: node_attribute(lab, target, "standby") == "false")

        commands = await ran(session, crmsh_bot, "cleanup WebSite")
        assert ("crm", "--no", "resource", "cleanup", "WebSite") in commands
        commands = await ran(session, crmsh_bot, "restart WebSite")
        assert ("crm", "--no", "resource", "restart", "WebSite") in commands
    finally:
        lab.exec("nodo1", ["crm_resource", "--clear", "--resource", "VirtualIP"], check=False)

    refused = await answer(crmsh_bot, session, "runbook gfs2-activate", "UALICE")
    assert "has no crmsh form" in refused
    assert "dlm clone (shadow CIB)" in refused
