"""The cluster's shell in the service layer (scripted transport): found on the node that
answers, or configured; a configured shell the node lacks refuses the request before
anything runs; status says which."""

from __future__ import annotations

import pytest

from habot.cluster.live import SEPARATOR, STATUS
from habot.runbooks.loader import load_all
from habot.runbooks.plan import PlanError
from habot.service.clusters import ClusterHandle, Ops
from habot.service.workflow import Workflow
from habot.ssh.scripted import ScriptedTransport
from habot.store import Store
from tests.fakes.cluster import CRM_MON, Clock, config, status_output


def workflow(shell: str, found: str) -> tuple[Workflow, ScriptedTransport]:
    """A workflow on the fenced seed whose status read says the node has `found`."""
    transport = ScriptedTransport()
    said = status_output((CRM_MON / "lab_seed_fenced.xml").read_bytes())
    transport.answer(None, STATUS, stdout=said + SEPARATOR + b"\n" + found.encode() + b"\n")
    cfg = config()
    cluster = cfg.clusters["mycluster"].model_copy(update={"shell": shell})
    cfg = cfg.model_copy(update={"clusters": {"mycluster": cluster}})
    ops = Ops({"mycluster": ClusterHandle("mycluster", cluster, transport)})
    return Workflow(ops, Store(":memory:"), load_all(), cfg, clock=Clock()), transport


@pytest.mark.parametrize(
    ("shell", "found", "first"),
    [
        ("auto", "crm", ("crm", "--no", "resource", "move", "VirtualIP", "nodo2")),
        ("auto", "pcs crm", ("pcs", "resource", "move", "VirtualIP", "nodo2")),
        ("auto", "pcs", ("pcs", "resource", "move", "VirtualIP", "nodo2")),
        ("crmsh", "pcs crm", ("crm", "--no", "resource", "move", "VirtualIP", "nodo2")),
    ],
)
async def test_the_plan_speaks_the_shell_found_or_configured(
    shell: str, found: str, first: tuple[str, ...]
) -> None:
    flow, _ = workflow(shell, found)
    params = {"resource": "VirtualIP", "node": "nodo2"}
    proposal = await flow.propose(None, "failover", params, preview=False)
    assert proposal.plan.steps[0].argv == first
    report = await flow.ops.status(None)
    assert report.shell.startswith("crmsh" if first[0] == "crm" else "pcs")


@pytest.mark.parametrize(
    ("shell", "found", "why"),
    [
        ("crmsh", "pcs", "`crm` is not installed on the node that answered"),
        ("pcs", "crm", "`pcs` is not installed on the node that answered"),
        ("auto", " ", "neither pcs nor crmsh is installed"),  # said: it has neither
    ],
)
async def test_a_shell_the_node_lacks_refuses_before_anything_runs(
    shell: str, found: str, why: str
) -> None:
    flow, transport = workflow(shell, found)
    with pytest.raises(PlanError, match=why):
        await flow.propose(
            None, "failover", {"resource": "VirtualIP", "node": "nodo2"}, preview=False
        )
    assert [argv for _, argv in transport.calls if argv != STATUS] == []  # nothing ran
    assert "none: " in (await flow.ops.status(None)).shell
