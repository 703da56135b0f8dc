"""A status read again from an unchanged cluster is not parsed again: the documents differ only
in crm_mon's read time, and what habot gets is exactly what a fresh parse gives."""

from __future__ import annotations

from pathlib import Path

from habot.cluster.constraints import with_constraints
from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.live import parsed
from habot.errors import StatusParseError

CRM_MON = Path(__file__).parents[1] / "fixtures" / "crm_mon"
CONSTRAINTS = (
    b'<constraints><rsc_location id="cli-ban-VirtualIP-on-nodo1" rsc="VirtualIP" '
    b'role="Started" node="nodo1" score="-INFINITY"/></constraints>'
)


def test_every_capture_parses_as_a_fresh_parse_would() -> None:
    for path in sorted(CRM_MON.glob("*.xml")):
        xml = path.read_bytes()
        try:
            fresh = with_constraints(parse_crm_mon(xml), CONSTRAINTS)
        except StatusParseError:
            continue  # not a status (rc 102's answer): refused by both
        assert parsed(xml, CONSTRAINTS) == fresh, path.name
        assert parsed(xml, CONSTRAINTS) == fresh, path.name  # the kept one too


def test_a_later_read_keeps_its_own_read_time_and_a_change_is_parsed() -> None:
    xml = (CRM_MON / "lab_seed_fenced.xml").read_bytes()
    first = parsed(xml, b"")
    later_xml = xml.replace(first.summary.last_update.encode(), b"Mon Dec  7 23:59:59 2026")
    assert later_xml != xml
    later = parsed(later_xml, b"")
    assert later.summary.last_update == "Mon Dec  7 23:59:59 2026"
    assert later == parse_crm_mon(later_xml)
    # the cluster changed (a resource stopped): a parse of its own, not the kept one
    changed_xml = later_xml.replace(b'role="Started"', b'role="Stopped"', 1)
    assert parsed(changed_xml, b"") == parse_crm_mon(changed_xml) != later
    # and the constraints are part of what is kept
    assert parsed(xml, CONSTRAINTS).constraints != first.constraints
