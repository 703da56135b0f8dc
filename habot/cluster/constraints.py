"""Pure parsers: the CIB's constraints section (location and colocation) into frozen types."""

from __future__ import annotations

from dataclasses import replace

from habot.cluster.crm_mon import Element, score, xml_root
from habot.cluster.model import ClusterStatus, Colocation, LocationConstraint


def parse_constraints(xml: bytes) -> tuple[LocationConstraint, ...]:
    """Location constraints from `cibadmin --query --scope constraints` (or a whole CIB)."""
    root = xml_root(xml, ("constraints", "cib"))
    found = []
    for loc in root.iter("rsc_location"):
        rule = loc.find("rule")
        node = loc.get("node") or _rule_node(rule)
        points = loc.get("score") or (rule.get("score") if rule is not None else None) or "0"
        role = loc.get("role") or (rule.get("role") if rule is not None else None) or ""
        found.append(
            LocationConstraint(
                id=loc.get("id", ""),
                resource=loc.get("rsc", ""),
                node=node,
                score=score(points),
                role=role,
                expires=_expires(rule),
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
            score=score(c.get("score", "0")),
        )
        for c in root.iter("rsc_colocation")
        if c.get("rsc") and c.get("with-rsc")
    )


def with_constraints(status: ClusterStatus, xml: bytes) -> ClusterStatus:
    return replace(status, constraints=parse_constraints(xml), colocations=parse_colocations(xml))


def _expires(rule: Element | None) -> str:
    """A lifetime (`pcs resource ban … lifetime=PT2H`) is a date expression `lt` its end."""
    if rule is None:
        return ""
    for expr in rule.iter("date_expression"):
        if expr.get("operation") == "lt" and expr.get("end"):
            return expr.get("end", "")
    return ""


def _rule_node(rule: Element | None) -> str:
    if rule is None:
        return ""
    expr = rule.find("expression")
    if expr is not None and expr.get("attribute") == "#uname":
        return expr.get("value", "")
    return ""
