"""Status from the first node that answers well: a frozen node does not hold the answer."""

from __future__ import annotations

import asyncio

import pytest

from habot.cluster.live import STATUS, read_status
from habot.errors import ClusterUnreachable, TransportError
from habot.ssh.scripted import ScriptedTransport
from habot.ssh.transport import NodeAddress
from tests.fakes.cluster import CRM_MON, status_output

NODES = [NodeAddress("nodo1", "nodo1.invalid"), NodeAddress("nodo2", "nodo2.invalid")]
GOOD = status_output((CRM_MON / "lab_seed_fenced.xml").read_bytes())


async def test_a_frozen_first_node_is_passed_by_the_next() -> None:
    t = ScriptedTransport()
    t.answer("nodo1", STATUS, delay=3600, stdout=GOOD)  # frozen: answers in an hour
    t.answer("nodo2", STATUS, stdout=GOOD)
    live = await asyncio.wait_for(read_status(t, "c", NODES, timeout=30, hedge_s=0.05), 60)
    assert live.answered_by == "nodo2"
    assert t.cancelled == [("nodo1", STATUS)]  # its read was abandoned, not awaited


async def test_a_failing_node_passes_at_once_and_reasons_keep_node_order() -> None:
    t = ScriptedTransport()
    t.answer("nodo1", STATUS, raises=TransportError("nodo1", "connection refused"))
    t.answer("nodo2", STATUS, stdout=GOOD)
    live = await read_status(t, "c", NODES, timeout=30, hedge_s=3600)
    assert (live.answered_by, live.unreachable) == ("nodo2", {"nodo1": "connection refused"})


async def test_a_healthy_first_node_is_the_only_one_asked() -> None:
    t = ScriptedTransport()
    t.answer(None, STATUS, stdout=GOOD)
    live = await read_status(t, "c", NODES, timeout=30, hedge_s=5)
    assert live.answered_by == "nodo1"
    assert [name for name, _ in t.calls] == ["nodo1"]


async def test_no_node_answers() -> None:
    t = ScriptedTransport()
    t.answer("nodo1", STATUS, rc=102)
    t.answer("nodo2", STATUS, raises=TransportError("nodo2", "host key changed"))
    with pytest.raises(ClusterUnreachable) as caught:
        await read_status(t, "c", NODES, timeout=30, hedge_s=0.01)
    assert list(caught.value.reasons) == ["nodo1", "nodo2"]
    assert "not running there (crm_mon rc 102)" in caught.value.reasons["nodo1"]


@pytest.mark.parametrize(
    ("real", "odd"),
    [
        ('<nodes_configured number="2"/>', '<nodes_configured number="²"/>'),
        ('<resources_configured number="6"', '<resources_configured number="٦"'),
    ],
    ids=["superscript", "arabic-indic"],
)
async def test_a_node_whose_answer_holds_a_non_ascii_digit_passes_to_the_next(
    real: str, odd: str
) -> None:
    """Python's isdigit() says yes to "²", int() says no: that node's answer is its own
    failure, and the next node answers."""
    bad = GOOD.replace(real.encode(), odd.encode(), 1)
    assert bad != GOOD
    t = ScriptedTransport()
    t.answer("nodo1", STATUS, stdout=bad)
    t.answer("nodo2", STATUS, stdout=GOOD)
    live = await read_status(t, "c", NODES, timeout=30, hedge_s=3600)
    assert live.answered_by == "nodo2"
    assert "not a whole number" in live.unreachable["nodo1"]
