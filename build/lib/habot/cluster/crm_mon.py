"""Pure parsers: crm_mon's XML status and the CIB's constraints section into frozen types.

Accepts the `<pacemaker-result>` root (Pacemaker 2.0.3 and later, `--output-as=xml`) and the
legacy `<crm_mon>` root (`crm_mon --as-xml`, Pacemaker 1.1 and 2.0), the Promoted/Unpromoted
and Master/Slave role names, clone instance suffixes (`WebData:0`), and INFINITY fail counts.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from habot.cluster.model import (
    INFINITY,
    ClusterStatus,
    Colocation,
    FailCount,
    FailedAction,
    FenceEvent,
    Instance,
    LocationConstraint,
    Node,
    NodeState,
    Resource,
    ResourceKind,
    Role,
    Summary,
)
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
        raise StatusParseError("crm_mon output has no <summary>")
    return ClusterStatus(
        summary=_summary(summary),
        nodes=tuple(_node(n) for n in _children(root, "nodes", "node")),
        resources=tuple(_resource(r) for r in _children(root, "resources", "*")),
        failed_actions=tuple(_failure(f) for f in _children(root, "failures", "failure")),
        fence_events=tuple(_fence(f) for f in _children(root, "fence_history", "fence_event")),
        fail_counts=_fail_counts(root),
    )


def parse_constraints(xml: bytes) -> tuple[LocationConstraint, ...]:
    """Location constraints from `cibadmin --query --scope constraints` (or a whole CIB)."""
    root = xml_root(xml, ("constraints", "cib"))
    found = []
    for loc in root.iter("rsc_location"):
        rule = loc.find("rule")
        node = loc.get("node") or _rule_node(rule)
        score = loc.get("score") or (rule.get("score") if rule is not None else None) or "0"
        role = loc.get("role") or (rule.get("role") if rule is not None else None) or ""
        found.append(
            LocationConstraint(
                id=loc.get("id", ""),
                resource=loc.get("rsc", ""),
                node=node,
                score=_score(score),
                role=role,
            )
        )
    return tuple(found)


def parse_colocations(xml: bytes) -> tuple[Colocation, ...]:
    """Two-resource colocation constraints (sets are not listed)."""
    root = xml_root(xml, ("constraints", "cib"))
    return tuple(
        Colocation(
            id=c.get("id", ""),
            resource=c.get("rsc", ""),
            with_resource=c.get("with-rsc", ""),
            score=_score(c.get("score", "0")),
        )
        for c in root.iter("rsc_colocation")
        if c.get("rsc") and c.get("with-rsc")
    )


def with_constraints(status: ClusterStatus, xml: bytes) -> ClusterStatus:
    return replace(status, constraints=parse_constraints(xml), colocations=parse_colocations(xml))


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
        nodes_configured=int(_attr(summary, "nodes_configured", "number") or 0),
        resources_configured=int(configured.get("number", "0")) if configured is not None else 0,
        resources_disabled=int(configured.get("disabled", "0")) if configured is not None else 0,
        resources_blocked=int(configured.get("blocked", "0")) if configured is not None else 0,
    )


def _attr(parent: Element, child: str, name: str) -> str:
    el = parent.find(child)
    return el.get(name, "") if el is not None else ""


def _node(el: Element) -> Node:
    return Node(
        name=el.get("name", ""),
        state=_node_state(el),
        is_dc=_flag(el, "is_dc"),
        resources_running=int(el.get("resources_running", "0")),
        remote=el.get("type", "member") == "remote",
    )


def _node_state(el: Element) -> NodeState:
    if _flag(el, "unclean"):
        return NodeState.UNCLEAN
    if not _flag(el, "online"):
        return NodeState.OFFLINE
    if _flag(el, "pending"):
        return NodeState.PENDING
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
    return base if sep and suffix.isdigit() else resource_id


def _role(text: str) -> Role:
    if text in LEGACY_ROLES:
        return LEGACY_ROLES[text]
    try:
        return Role(text)
    except ValueError:
        return Role.UNKNOWN


def _failure(el: Element) -> FailedAction:
    op_key = el.get("op_key", "")
    task = el.get("task", "")
    resource = el.get("resource") or _resource_of_op_key(op_key, task)
    return FailedAction(
        resource=base_id(resource),
        operation=task or op_key,
        node=el.get("node", ""),
        exit_status=el.get("exitstatus", ""),
        exit_code=int(el.get("exitcode", "1") or 1),
        exit_reason=el.get("exitreason", ""),
        status=el.get("status", ""),
        interval_ms=int(el.get("interval", "0").removesuffix("ms") or 0),
        last_change=el.get("last-rc-change", ""),
    )


def _resource_of_op_key(op_key: str, task: str) -> str:
    """`flaky_start_0` -> `flaky`; resource ids may contain underscores themselves."""
    marker = f"_{task}_" if task else "_"
    head, sep, _ = op_key.rpartition(marker)
    return head if sep else op_key


def _fence(el: Element) -> FenceEvent:
    return FenceEvent(
        action=el.get("action", ""),
        target=el.get("target", ""),
        status=el.get("status", ""),
        origin=el.get("origin", ""),
        completed=el.get("completed", ""),
        delegate=el.get("delegate", ""),
    )


def _fail_counts(root: Element) -> tuple[FailCount, ...]:
    found = []
    for node in _children(root, "node_history", "node"):
        for history in node.iterchildren("resource_history"):
            count = history.get("fail-count")
            if count is not None and _score(count) > 0:
                found.append(
                    FailCount(
                        resource=base_id(history.get("id", "")),
                        node=node.get("name", ""),
                        count=_score(count),
                    )
                )
    return tuple(found)


def _score(text: str) -> int:
    value = text.strip().lstrip("+")
    if value.lstrip("-").upper() == "INFINITY":
        return -INFINITY if value.startswith("-") else INFINITY
    try:
        return max(-INFINITY, min(INFINITY, int(value)))
    except ValueError as e:
        raise StatusParseError(f"not a score: {text!r}") from e


def _rule_node(rule: Element | None) -> str:
    if rule is None:
        return ""
    expr = rule.find("expression")
    if expr is not None and expr.get("attribute") == "#uname":
        return expr.get("value", "")
    return ""
