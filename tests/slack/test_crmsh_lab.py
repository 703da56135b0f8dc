"""A cluster run with crmsh, on a lab of its own brought up with `--shell crmsh` (crmsh and no
pcs on the nodes, the seed loaded with crm), through signed Slack requests: habot finds the
shell by itself and says so; the seed's story starts as with pcs — the missing-STONITH status,
then `stonith-libvirt` (crm edits on a copy of the CIB, previewed, pushed as one difference);
a failover, a ban and its clear, a standby and back, a cleanup and a restart each run their
crmsh commands (the audit shows them) and leave the cluster as they say; then the
seed's last chapters, gfs2-activate and haproxy, with crm edits on a copy of the CIB, and the
site answers through HAProxy from both web servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from habot.approvals.model import State
from habot.config import load_config
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout
from tests.conftest import lab_unavailable
from tests.fakes.clock import SkewedClock
from tests.fakes.slack_server import FakeSlack
from tests.lab.cluster import crm_mon, resource_nodes, wait_for
from tests.slack.flows import (
    answer,
    card_updates,
    click,
    request_card,
    thread_posts,
    wait_card,
)
from tests.slack.harness import Bot, make_bot, start_http
from tests.slack.test_node_patch_lab import answered
from tests.slack.test_runbooks import APPROVE, commands_run, request_id_of

pytestmark = pytest.mark.lab
CRMSH_LABS = 10  # the crmsh lab beside lab N is lab N + 10 (its own addresses and namespaces)


@pytest.fixture(scope="module")
def crmsh_lab() -> Iterator[Lab]:
    reason = lab_unavailable()
    if reason is not None:
        pytest.skip(reason)
    beside = LabLayout.default()
    root = Path(f"{beside.root}-crmsh")
    the_lab = Lab(LabLayout.numbered(root, beside.lab + CRMSH_LABS, "crmsh"))
    if the_lab.is_up() or the_lab.leftovers():
        the_lab.down(lambda line: None, grace=0)
    the_lab.up(lambda line: print(f"crmsh lab: {line}"))
    yield the_lab
    the_lab.down(lambda line: None, grace=0)


@pytest.fixture
async def crmsh_bot(
    crmsh_lab: Lab, fake_slack: FakeSlack, clock: SkewedClock
) -> AsyncIterator[Bot]:
    config = load_config(crmsh_lab.layout.config_file)  # shell: auto — found on the nodes
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
    ended = await bot.fake.wait_for(
        f"{command} to end",
        lambda: [u for u in card_updates(bot, card) if "succeeded" in u or "; failed" in u],
        timeout=300,
    )
    assert "succeeded" in ended[-1], (command, thread_posts(bot, card))
    return commands_run(bot, request_id_of(card))


def node_attribute(lab: Lab, node: str, name: str) -> str:
    nodes = crm_mon(lab, "nodo1").find("nodes")
    assert nodes is not None
    return next(n.get(name, "") for n in nodes if n.get("name") == node)


def constraints(lab: Lab) -> str:
    return lab.exec("nodo1", ["cibadmin", "--query", "--scope", "constraints"]).stdout


async def test_the_seed_story_and_the_everyday_verbs_speak_crmsh(
    crmsh_lab: Lab, crmsh_bot: Bot, session: aiohttp.ClientSession
) -> None:
    lab = crmsh_lab
    assert lab.exec("nodo1", ["sh", "-c", "command -v pcs"], check=False).returncode != 0
    said = await answer(crmsh_bot, session, "status", "UALICE")
    assert "shell crmsh, found on the nodes" in said
    assert "no fencing device is configured" in said

    commands = await ran(
        session, crmsh_bot, "runbook stonith-libvirt", preview="fencing-libvirt: start"
    )
    [push] = [c for c in commands if c[1:3] == ("cib", "push")]
    assert (
        '["crm","configure","primitive","fencing-libvirt","stonith:external/libvirt"' in (push[3])
    )
    wait_for("the seed running", lambda: bool(resource_nodes(crm_mon(lab, "nodo1"), "WebSite")))
    source = resource_nodes(crm_mon(lab, "nodo1"), "WebSite")[0]
    target = "nodo2" if source == "nodo1" else "nodo1"
    try:
        commands = await ran(
            session, crmsh_bot, f"failover VirtualIP {target}", preview="VirtualIP"
        )
        assert ("crm", "--no", "resource", "move", "VirtualIP", target) in commands
        assert ("crm", "--no", "resource", "clear", "VirtualIP") in commands
        assert not any(c[0] == "pcs" for c in commands)
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [target]
        assert "cli-prefer-VirtualIP" not in constraints(lab)  # crmsh's constraint cleared

        commands = await ran(session, crmsh_bot, f"ban VirtualIP {target}")
        assert ("crm", "--no", "resource", "ban", "VirtualIP", target) in commands
        assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == [source]
        commands = await ran(session, crmsh_bot, "clear VirtualIP")
        assert ("crm", "--no", "resource", "clear", "VirtualIP") in commands
        assert "cli-ban-VirtualIP" not in constraints(lab)

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

    # the seed's last chapters: active-active on GFS2, then HAProxy — crm edits on the copy
    card = await request_card(session, crmsh_bot, "runbook gfs2-activate")
    assert "crm --no configure clone dlm-clone dlm" in str(card["blocks"])
    await click(session, crmsh_bot, card, APPROVE, "UBOB")
    await wait_card(crmsh_bot, card, "approved by <@UBOB>")
    await click(session, crmsh_bot, card, APPROVE, "UCAROL")  # destructive: two approvers
    await wait_card(crmsh_bot, card, "succeeded", timeout=400)
    status = crm_mon(lab, "nodo1")
    for clone in ("dlm-clone", "WebFS-clone", "WebSite-clone"):
        nodes = {n.get("name") for c in status.iter("clone") if c.get("id") == clone
                 for n in c.iter("node")}  # fmt: skip
        assert nodes == {"nodo1", "nodo2"}, clone
    assert lab.exec("nodo1", ["blkid", "-o", "value", "-s", "TYPE", "/dev/drbd1"]).stdout == (
        "gfs2\n"
    )
    commands = await ran(session, crmsh_bot, "runbook haproxy mode=active-active")
    [push] = [c for c in commands if c[1:3] == ("cib", "push")]
    assert '["crm","configure","clone","haproxy-clone","haproxy"' in push[3]
    vip = f"http://{lab.layout.vip}:8080/"
    served = set()
    for _ in range(6):  # bounded: six requests
        head = lab.exec("nodo2", ["curl", "-s", "-D", "-", "-o", "/dev/null", vip]).stdout
        served |= {
            line.split(":", 1)[1].strip()
            for line in head.splitlines()
            if line.lower().startswith("x-served-by:")
        }
    assert served == {"web1", "web2"}  # both web servers, in turn


async def test_every_other_everyday_runbook_speaks_crmsh(
    crmsh_lab: Lab, crmsh_bot: Bot, session: aiohttp.ClientSession
) -> None:
    """After the story (fencing, GFS2, HAProxy): each remaining everyday runbook through
    Slack, each with the crmsh command it must have run."""
    lab = crmsh_lab
    wait_for("VirtualIP", lambda: bool(resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")))
    home = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")[0]
    other = "nodo2" if home == "nodo1" else "nodo1"
    crm, o = "crm --no", other
    expected = [  # the command typed; what must have run (split on spaces)
        (f"ban VirtualIP {o} PT2H", f"{crm} resource ban VirtualIP {o} PT2H"),
        (f"clear VirtualIP {o}", f"crm_resource --clear --resource VirtualIP --node {o}"),
        ("runbook refresh resource=WebSite-clone", f"{crm} resource refresh WebSite-clone"),
        (f"cleanup WebSite-clone {o}", f"{crm} resource cleanup WebSite-clone {o}"),
        (
            f"restart WebSite-clone {o}",
            f"crm_resource --restart --resource WebSite-clone --node {o}",
        ),
        ("runbook unmanage resource=VirtualIP", f"{crm} resource unmanage VirtualIP"),
        ("runbook manage resource=VirtualIP", f"{crm} resource manage VirtualIP"),
        ("runbook disable resource=haproxy-clone", f"{crm} resource stop haproxy-clone"),
        ("runbook enable resource=haproxy-clone", f"{crm} resource start haproxy-clone"),
        (f"runbook node-maintenance node={o} mode=on", f"{crm} node maintenance {o}"),
        (f"runbook node-maintenance node={o} mode=off", f"{crm} node ready {o}"),
        ("runbook maintenance mode=on", f"{crm} configure property maintenance-mode=true"),
        ("runbook maintenance mode=off", f"{crm} configure property maintenance-mode=false"),
        (f"runbook fence-history-cleanup node={o}", f"stonith_admin --history {o} --cleanup"),
        ("runbook failover-test", f"{crm} resource move VirtualIP {o}"),
    ]
    # alert-agent: the lab registered the agent as the runbook does; taken away, registered again
    lab.exec("nodo1", ["cibadmin", "--delete", "--xml-text", '<alert id="habot"/>'])
    commands = await ran(session, crmsh_bot, "runbook alert-agent")
    [push] = [c for c in commands if c[1:3] == ("cib", "push")]
    assert '["crm","configure","alert","habot","/usr/local/libexec/habot/habot-alert"' in push[3]
    alerts = lab.exec("nodo1", ["cibadmin", "--query", "--scope", "alerts"]).stdout
    assert "habot-alert" in alerts
    assert "habot-events.jsonl" in alerts
    try:
        for command, argv in expected:
            commands = await ran(session, crmsh_bot, command)
            assert tuple(argv.split()) in commands, (command, commands)
            assert not any(c[0] == "pcs" for c in commands), command
    finally:
        lab.exec("nodo1", ["crm_resource", "--clear", "--resource", "VirtualIP"], check=False)
    assert "cli-" not in constraints(lab)  # nothing left behind
    assert "maintenance" not in lab.exec("nodo1", ["crm_mon", "-1"]).stdout.lower()


async def test_a_fence_test_and_a_rolling_maintenance_speak_crmsh(
    crmsh_lab: Lab, crmsh_bot: Bot, session: aiohttp.ClientSession
) -> None:
    """The node-level runbooks: fence-test (the node's services stopped with systemctl, as
    crmsh's own `cluster stop` would over ssh as root, then the fencing request, which stays
    `stonith_admin`), and rolling-maintenance with its pauses answered
    through Slack — every node in standby in turn, then everything back where it ran."""
    lab = crmsh_lab
    card = await request_card(session, crmsh_bot, "runbook fence-test node=nodo2")
    await click(session, crmsh_bot, card, APPROVE, "UBOB")
    await wait_card(crmsh_bot, card, "approved by <@UBOB>")
    await click(session, crmsh_bot, card, APPROVE, "UCAROL")
    await wait_card(crmsh_bot, card, "succeeded", timeout=300)
    commands = commands_run(crmsh_bot, request_id_of(card))
    assert ("systemctl", "stop", "pacemaker.service", "corosync.service") in commands
    assert ("stonith_admin", "--reboot", "nodo2") in commands
    wait_for("nodo2 back", lambda: "nodo2" in lab.online_nodes(via="nodo1"), timeout=120)
    wait_for("VirtualIP", lambda: bool(resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")))

    before = resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP")
    card = await request_card(session, crmsh_bot, "runbook rolling-maintenance")
    continued = [(n, "habot_pause_continue", "UALICE") for n in ("nodo1", "nodo2")]
    done = await answered(lab, crmsh_bot, session, card, continued)
    assert done is State.SUCCEEDED
    commands = commands_run(crmsh_bot, request_id_of(card))
    for node in ("nodo1", "nodo2"):
        assert ("crm", "--no", "node", "standby", node) in commands
        assert ("crm", "--no", "node", "online", node) in commands
        assert node_attribute(lab, node, "standby") == "false"
    assert resource_nodes(crm_mon(lab, "nodo1"), "VirtualIP") == before  # back where it ran
    assert "cli-" not in constraints(lab)
