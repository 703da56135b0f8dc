"""What the cluster would do: crm_simulate's <actions> on a shadow CIB (parse is pure)."""

from __future__ import annotations

from dataclasses import dataclass

from habot.cluster.crm_mon import Element, base_id, xml_root
from habot.errors import StatusParseError


@dataclass(frozen=True, slots=True)
class PlannedAction:
    resource: str
    action: str  # move, start, stop, restart, promote, demote, recover, migrate
    source: str = ""
    target: str = ""

    def describe(self) -> str:
        if self.source and self.target:
            return f"{self.resource}: {self.action} {self.source} → {self.target}"
        node = self.target or self.source
        return f"{self.resource}: {self.action}" + (f" on {node}" if node else "")


def parse_actions(xml: bytes) -> tuple[PlannedAction, ...]:
    root = xml_root(xml, ("pacemaker-result",))
    actions = root.find("actions")
    if actions is None:
        status = root.find("status")
        if status is not None and status.get("code", "0") != "0":
            raise StatusParseError(f"crm_simulate failed: {status.get('message', '')}")
        return ()
    return tuple(_action(a) for a in actions.iterchildren("rsc_action"))


def _action(el: Element) -> PlannedAction:
    action = el.get("action", "")
    node = el.get("node", "")
    source = el.get("source", "")
    dest = el.get("dest", "")
    if action in ("stop", "demote") and not source:
        source = node
    elif not dest:
        dest = node
    resource = base_id(el.get("resource", ""))
    return PlannedAction(resource=resource, action=action, source=source, target=dest)
