"""A cluster on the scripted transport: habot's real service layer, no lab, no root.

Status reads answer from a real crm_mon capture; every other command must be expected."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from habot.cluster.live import SEPARATOR, STATUS
from habot.config import HabotConfig
from habot.runbooks.loader import load_all
from habot.service.clusters import SCORES, ClusterHandle, Ops
from habot.service.workflow import Workflow
from habot.ssh.scripted import ScriptedTransport
from habot.store import Store

CRM_MON = Path(__file__).parents[1] / "fixtures" / "crm_mon"
CRM_SIMULATE = Path(__file__).parents[1] / "fixtures" / "crm_simulate"
NOW = 1_800_000_000.0


def status_output(
    crm_mon: bytes, constraints: bytes = b"<constraints/>", *, read_at: float | None = None
) -> bytes:
    """What the one-channel status script prints: crm_mon, constraints, cluster name. With
    `read_at`, crm_mon says it was read then (as a real crm_mon says "now"): a capture's own
    "last updated" is when it was captured."""
    if read_at is not None:
        stamp = datetime.fromtimestamp(read_at, UTC).strftime("%a %b %d %H:%M:%S %Y")
        crm_mon = re.sub(
            rb'<last_update time="[^"]*"', f'<last_update time="{stamp}"'.encode(), crm_mon
        )
    cut = b"\n" + SEPARATOR + b"\n"
    return crm_mon + cut + constraints + cut + b"mycluster\n"


def watching(s: Scene, *sources: str) -> None:
    """habot has polled this cluster before (a cursor per node and source): its next poll
    is news, not the first poll's history."""
    for node in ("nodo1", "nodo2"):
        for source in sources or ("journal",):
            cursor = "1234:0" if source.startswith("file:") else "s=0;i=0"
            s.store.put(f"cursor|mycluster|{node}|{source}", cursor)


def config(
    nodes: tuple[str, ...] = ("nodo1", "nodo2"), alerts: dict[str, Any] | None = None, **top: Any
) -> HabotConfig:
    settings: dict[str, Any] = {"approvers": "anyone", "allowed_channels": "any", **top}
    return HabotConfig.model_validate(
        {
            **settings,
            "clusters": {
                "mycluster": {
                    "ssh_key": "/nonexistent/key",
                    "known_hosts": "/nonexistent/known_hosts",
                    "nodes": [{"name": n, "host": f"{n}.invalid"} for n in nodes],
                    "alerts_channel": "CALERTS",
                    "status_hedge_s": 0.2,
                    "alerts": alerts or {},
                }
            },
        }
    )


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Scene:
    transport: ScriptedTransport
    config: HabotConfig
    ops: Ops
    store: Store
    workflow: Workflow
    clock: Clock


def scene(
    db: Path | str = ":memory:",
    *,
    capture: str | Path = "lab_seed_fenced.xml",
    store: Store | None = None,
    **config_args: Any,
) -> Scene:
    """`capture`: a file in fixtures/crm_mon, or the path of any crm_mon document."""
    transport = ScriptedTransport()
    transport.answer(None, STATUS, stdout=status_output((CRM_MON / capture).read_bytes()))
    cfg = config(**config_args)
    ops = Ops({"mycluster": ClusterHandle("mycluster", cfg.clusters["mycluster"], transport)})
    the_store = store if store is not None else Store(db)
    clock = Clock()
    ids = iter(f"r{i}" for i in range(1, 10_000))
    workflow = Workflow(ops, the_store, load_all(), cfg, clock=clock, new_id=lambda: next(ids))
    return Scene(transport, cfg, ops, the_store, workflow, clock)


def journal(node: str, messages: list[tuple[str, str]], first: int = 1, at: float = NOW) -> bytes:
    """`journalctl -o json` output: (SYSLOG_IDENTIFIER, MESSAGE) records, cursors numbered,
    logged at `at` (a microsecond apart)."""
    records = [
        json.dumps(
            {
                "__CURSOR": f"s=1;i={first + i}",
                "__REALTIME_TIMESTAMP": str(int(at * 1_000_000) + i),
                "_HOSTNAME": node,
                "SYSLOG_IDENTIFIER": ident,
                "PRIORITY": "3",
                "MESSAGE": message,
            }
        )
        for i, (ident, message) in enumerate(messages)
    ]
    return ("\n".join(records) + "\n").encode() if records else b""


NO_STONITH = [
    (
        "pacemaker-schedulerd",
        "error: Resource start-up disabled since no STONITH resources have been defined",
    ),
    (
        "pacemaker-schedulerd",
        "error: Either configure some or disable STONITH with the stonith-enabled option",
    ),
]


def scored(s: Scene) -> Scene:
    """The scene's placement scores (`crm_simulate -Ls`) answer as the lab's did with nodo1
    fenced (a real capture)."""
    text = (CRM_SIMULATE / "crm_simulate_Ls_lab_fenced.txt").read_bytes()
    s.transport.answer(None, SCORES, stdout=text)
    return s
