"""Which of a cluster's resources and nodes a piece of text names (pure): a person's message
or an alert card, read word by word against the live status."""

from __future__ import annotations

import re
from dataclasses import dataclass

from habot.cluster.model import ClusterStatus

WORD = re.compile(r"[A-Za-z0-9_.:@-]+")


@dataclass(frozen=True, slots=True)
class Named:
    resources: tuple[str, ...]  # as the cluster names them, in the order the text does
    nodes: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.resources or self.nodes)


def named(text: str, status: ClusterStatus) -> Named:
    """Whole words only (`WebSite` is not named by `WebSiteOld`); a clone instance's `:N`
    suffix and a sentence's closing punctuation are dropped; names are case-sensitive, as
    Pacemaker's are."""
    resources = {n for r in status.resources for n in (r.id, *r.primitive_ids)}
    nodes = {n.name for n in status.nodes}
    found_resources: dict[str, None] = {}
    found_nodes: dict[str, None] = {}
    for match in WORD.finditer(text):
        word = match.group(0).rstrip(".:-")
        base = re.sub(r":[0-9]+$", "", word)
        for candidate in (word, base):
            if candidate in resources:
                found_resources[candidate] = None
                break
            if candidate in nodes:
                found_nodes[candidate] = None
                break
    return Named(tuple(found_resources), tuple(found_nodes))
