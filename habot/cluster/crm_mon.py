"""Pure parser: crm_mon's XML status into frozen types.

Accepts the `<pacemaker-result>` root (Pacemaker 2.0.3 and later, `--output-as=xml`) and the
legacy `<crm_mon>` root (`crm_mon --as-xml`, Pacemaker 1.1 and 2.0), the Promoted/Unpromoted
and Master/Slave role names, clone instance suffixes (`WebData:0`), and INFINITY fail counts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, tzinfo

from lxml import etree

from habot.cluster.model import (
    INFINITY,
    ClusterStatus,
    FailCount,
    FailedAction,
    FenceEvent,
    Instance,
    Node,
    NodeState,
    Replica,
    Resource,
    ResourceKind,
    Role,
    Summary,
)
from habot.cluster.opkey import parse_op_key
from habot.errors import StatusParseError

# rc 102 (CRM_EX_NOT_CONNECTED): crm_mon could not connect to the cluster on that node.
RC_NOT_CONNECTED = 102
LEGACY_ROLES = {"Master": Role.PROMOTED, "Slave": Role.UNPROMOTED}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
Element = etree._Element


def parse_crm_mon(xml: bytes) -> ClusterStatus:
    root = xml_root(xml, ("pacemaker-result", "crm_mon"))
    status = root.find("status")
    if status is not None and status.get("code", "0") != "0":
        raise StatusParseError(
            f"crm_mon reported error {status.get('code')}: {status.get('message', '')}"
        )
    summary = root.find("summary")
    if summary is None:
        said = [e.text.strip() for e in root.iter("error") if e.text and e.text.strip()]
        if said:  # crm_mon ran, but could not read the cluster: its own words
            raise StatusParseError("crm_mon said: " + "; ".join(said)[:500])
        raise StatusParseError("crm_mon output has no <summary>")
    return ClusterStatus(
        summary=_summary(summary),
        nodes=tuple(_node(n) for n in _children(root, "nodes", "node")),
        resources=tuple(_resource(r) for r in _children(root, "resources", "*")),
        failed_actions=tuple(_failure(f) for f in _children(root, "failures", "failure")),
        fence_events=tuple(_fence(f) for f in _children(root, "fence_history", "fence_event")),
        fail_counts=_fail_counts(root),
    )


def xml_root(xml: bytes, tags: tuple[str, ...]) -> Element:
    if not xml.strip():
        raise StatusParseError("empty output where XML was expected")
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as e:
        raise StatusParseError(f"not XML: {e}") from e
    tag = str(root.tag)
    if tag not in tags:
        raise StatusParseError(f"unexpected XML root <{tag}> (expected {', '.join(tags)})")
    return root


def _children(root: Element, parent: str, tag: str) -> list[Element]:
    container = root.find(parent)
    if container is None:
        return []
    return [c for c in container.iterchildren(tag) if isinstance(c.tag, str)]


def _flag(el: Element, name: str) -> bool:
    return el.get(name, "false") == "true"


def _summary(summary: Element) -> Summary:
    dc = summary.find("current_dc")
    options = summary.find("cluster_options")
    configured = summary.find("resources_configured")
    present = dc is not None and _flag(dc, "present")
    return Summary(
        dc=dc.get("name") if present and dc is not None else None,
        with_quorum=dc is not None and _flag(dc, "with_quorum"),
        stonith_enabled=options is None or options.get("stonith-enabled", "true") == "true",
        maintenance_mode=options is not None and _flag(options, "maintenance-mode"),
        stack=_attr(summary, "stack", "type"),
        version=dc.get("version", "") if dc is not None else "",
        last_update=_attr(summary, "last_update", "time"),
        last_change=_attr(summary, "last_change", "time"),
        nodes_configured=_int(summary.find("nodes_configured"), "number"),
        resources_configured=_int(configured, "number"),
        resources_disabled=_int(configured, "disabled"),
        resources_blocked=_int(configured, "blocked"),
    )


def _int(el: Element | None, name: str, default: int = 0) -> int:
    """A whole-number attribute; anything else names the element and attribute."""
    if el is None:
        return default
    text = el.get(name)
    if text is None or text == "":
        return default
    value = text.strip().removesuffix("ms")  # 1.1 writes intervals as "10000ms"
    if not re.fullmatch(r"-?[0-9]{1,18}", value):  # ASCII digits: "²" is a digit to isdigit()
        raise StatusParseError(f"crm_mon: <{el.tag!s}> {name}={text[:40]!r} is not a whole number")
    return int(value)


def _attr(parent: Element, child: str, name: str) -> str:
    el = parent.find(child)
    return el.get(name, "") if el is not None else ""


def _node(el: Element) -> Node:
    return Node(
        name=el.get("name", ""),
        state=_node_state(el),
        is_dc=_flag(el, "is_dc"),
        resources_running=_int(el, "resources_running"),
        remote=el.get("type", "member") == "remote",
        node_id=el.get("id", ""),
    )


def _node_state(el: Element) -> NodeState:
    """crm_mon's own precedence: unclean, pending, then standby or maintenance (which show as
    offline when the node is not online), then online or offline."""
    online = _flag(el, "online")
    if _flag(el, "unclean"):
        return NodeState.UNCLEAN
    if _flag(el, "pending"):
        return NodeState.PENDING
    if not online:
        return NodeState.OFFLINE
    if _flag(el, "standby") or _flag(el, "standby_onfail"):
        return NodeState.STANDBY
    if _flag(el, "maintenance"):
        return NodeState.MAINTENANCE
    return NodeState.ONLINE


def _resource(el: Element) -> Resource:
    tag = str(el.tag)
    kind = {
        "resource": ResourceKind.PRIMITIVE,
        "group": ResourceKind.GROUP,
        "clone": ResourceKind.CLONE,
        "bundle": ResourceKind.BUNDLE,
    }.get(tag)
    if kind is None:
        raise StatusParseError(f"unknown resource element <{tag}>")
    if kind is ResourceKind.BUNDLE:
        return _bundle(el)
    instances = tuple(_instance(p) for p in el.iter("resource"))
    return Resource(
        id=base_id(el.get("id", "")),
        kind=kind,
        instances=instances,
        promotable=_flag(el, "multi_state") or _flag(el, "promotable"),
        disabled=_flag(el, "disabled") or _target_stopped(el),
        managed=el.get("managed", "true") == "true",
        failed=_flag(el, "failed") or any(i.failed for i in instances),
    )


def _bundle(el: Element) -> Resource:
    """A bundle as crm_mon shows it: one line per replica, on the node its container runs."""
    replicas = tuple(_replica(r) for r in el.iterchildren("replica"))
    primary = {
        r.id: _primary(rep) for rep, r in zip(el.iterchildren("replica"), replicas, strict=True)
    }
    instances = tuple(
        replace(inst, nodes=(r.host,) if r.host else ())
        for r in replicas
        if (inst := primary[r.id]) is not None
    )
    return Resource(
        id=el.get("id", ""),
        kind=ResourceKind.BUNDLE,
        instances=instances,
        managed=el.get("managed", "true") == "true",
        failed=_flag(el, "failed") or any(i.failed for i in instances),
        replicas=replicas,
        container=" ".join(v for v in (el.get("type", ""), el.get("image", "")) if v),
    )


def _replica(el: Element) -> Replica:
    parts = {_part(r): r for r in el.iterchildren("resource")}
    container, ip = parts.get("container"), parts.get("ip")
    remote, primary = parts.get("remote"), _primary(el)
    host = _first_node(container) or _first_node(remote)
    return Replica(
        id=el.get("id", ""),
        host=host,
        container=container.get("id", "") if container is not None else "",
        ip=(ip.get("id", "").rsplit("-ip-", 1)[-1]) if ip is not None else "",
        guest=remote.get("id", "") if remote is not None else "",
        role=primary.role if primary is not None else Role.STOPPED,
    )


def _part(el: Element) -> str:
    """What a resource inside a bundle replica is: its container, IP, remote connection, or
    the bundled resource itself."""
    agent = el.get("resource_agent", "")
    if agent.endswith((":podman", ":docker", ":rkt")) or "-podman-" in el.get("id", ""):
        return "container"
    if "-ip-" in el.get("id", "") and agent.endswith(":IPaddr2"):
        return "ip"
    if agent.endswith(":remote"):
        return "remote"
    return "primary"


def _primary(replica: Element) -> Instance | None:
    found = [r for r in replica.iterchildren("resource") if _part(r) == "primary"]
    return _instance(found[0]) if found else None


def _first_node(el: Element | None) -> str:
    if el is None:
        return ""
    node = el.find("node")
    return node.get("name", "") if node is not None else ""


def _instance(el: Element) -> Instance:
    return Instance(
        id=base_id(el.get("id", "")),
        agent=el.get("resource_agent", "").replace("::", ":"),  # 1.1: "ocf::heartbeat:IPaddr2"
        role=_role(el.get("role", "Unknown")),
        nodes=tuple(n.get("name", "") for n in el.iterchildren("node")),
        failed=_flag(el, "failed"),
        managed=el.get("managed", "true") == "true",
        blocked=_flag(el, "blocked"),
        disabled=_target_stopped(el),
    )


def _target_stopped(el: Element) -> bool:
    return el.get("target_role", "").lower() == "stopped"


def base_id(resource_id: str) -> str:
    """`WebData:1` -> `WebData` (anonymous clone instances carry a suffix)."""
    base, sep, suffix = resource_id.rpartition(":")
    return base if sep and re.fullmatch(r"[0-9]{1,9}", suffix) else resource_id


def _role(text: str) -> Role:
    if text in LEGACY_ROLES:
        return LEGACY_ROLES[text]
    try:
        return Role(text)
    except ValueError:
        return Role.UNKNOWN


def _failure(el: Element) -> FailedAction:
    """crm_mon writes `op_key` — or, for a history entry without one, that entry's `id` —
    and leaves out task and interval when the entry has no last-rc-change."""
    key = el.get("op_key") or el.get("id") or ""
    task = el.get("task", "")
    parsed = parse_op_key(key, task)
    resource = el.get("resource") or (parsed.resource if parsed else "")
    reason = el.get("exitreason", "")
    return FailedAction(
        resource=base_id(resource),
        operation=task or (parsed.task if parsed else ""),
        node=el.get("node", ""),
        exit_status=el.get("exitstatus", ""),
        exit_code=_int(el, "exitcode", 1),
        exit_reason="" if reason == "none" else reason,  # "none": crm_mon's no reason
        status=el.get("status", ""),
        interval_ms=_int(el, "interval", parsed.interval_ms if parsed else 0),
        last_change=el.get("last-rc-change", ""),
    )


def _fence(el: Element) -> FenceEvent:
    return FenceEvent(
        action=el.get("action", ""),
        target=el.get("target", ""),
        status=el.get("status", ""),
        origin=el.get("origin", ""),
        completed=el.get("completed", ""),
        delegate=el.get("delegate", ""),
        reason=el.get("exit-reason", "") or el.get("exit_reason", ""),
    )


def _fail_counts(root: Element) -> tuple[FailCount, ...]:
    found = []
    for node in _children(root, "node_history", "node"):
        for history in node.iterchildren("resource_history"):
            count = history.get("fail-count")
            if count is not None and score(count) > 0:
                found.append(
                    FailCount(
                        resource=base_id(history.get("id", "")),
                        node=node.get("name", ""),
                        count=score(count),
                        threshold=score(history.get("migration-threshold") or "INFINITY"),
                    )
                )
    return tuple(found)


def score(text: str) -> int:
    value = text.strip().lstrip("+")
    if value.lstrip("-").upper() == "INFINITY":
        return -INFINITY if value.startswith("-") else INFINITY
    try:
        return max(-INFINITY, min(INFINITY, int(value)))
    except ValueError as e:
        raise StatusParseError(f"not a score: {text!r}") from e


def crm_time(text: str, zone: tzinfo) -> float | None:
    """crm_mon's times ("Tue Dec  1 16:39:34 2026": the node's local time, C locale) as
    seconds since the epoch; None when unreadable."""
    try:
        when = datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return when.replace(tzinfo=zone).timestamp()
