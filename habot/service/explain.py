""" "Why?" about any message: the resources and nodes it names, in the first cluster (of those
the person may view) where it names any, each answered as `/ha why` and a node's state are."""

from __future__ import annotations

from dataclasses import dataclass

from habot.cluster.mentions import Named, named
from habot.errors import UsageError
from habot.service import describe
from habot.service.policy import Actor, PolicyError
from habot.service.workflow import Workflow

RESOURCES_MAX = 3  # answered in one reply; the rest are listed
NODES_MAX = 2


@dataclass(frozen=True, slots=True)
class Explained:
    cluster: str
    named: Named
    lines: tuple[str, ...]


async def explain(
    workflow: Workflow, text: str, actor: Actor, cluster: str | None = None
) -> Explained:
    """UsageError when the text names nothing habot knows; PolicyError when it would, but
    only in clusters the person may not view."""
    names = [workflow.ops.cluster(cluster).name] if cluster else list(workflow.ops.clusters)
    refused: PolicyError | None = None
    for name in names:
        try:
            await workflow.may("view", actor, name)
        except PolicyError as e:
            refused = refused or e
            continue
        report = await workflow.ops.status(name)
        found = named(text, report.live.status)
        if found:
            return Explained(name, found, tuple(await _answer(workflow, name, found)))
    if refused is not None and len(names) == 1:
        raise refused
    raise UsageError(
        f"that message names no resource or node of {', '.join(names)} that you may view"
    )


async def _answer(workflow: Workflow, cluster: str, found: Named) -> list[str]:
    lines: list[str] = []
    for resource in found.resources[:RESOURCES_MAX]:
        lines += [*describe.why_lines(await workflow.ops.why(cluster, resource)), ""]
    more = list(found.resources[RESOURCES_MAX:])
    if not found.resources:  # a node alone: its state and what runs there
        status = (await workflow.ops.status(cluster)).live.status
        for node in found.nodes[:NODES_MAX]:
            lines += [*describe.node_lines(cluster, status, node), ""]
        more = list(found.nodes[NODES_MAX:])
    if more:
        lines.append(f"Also named: {', '.join(more)} (ask `/ha why NAME`)")
    return lines[:-1] if lines and not lines[-1] else lines
