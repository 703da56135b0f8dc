"""The daily check's pure parts: when it is due, how long a move constraint has been left, and
the lifetime a ban carries in the CIB (`pcs resource ban … lifetime=PT1H`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from habot.alerts.daily import due, first_seen, left_too_long, parse_seen
from habot.cluster.constraints import parse_constraints, with_constraints
from habot.cluster.crm_mon import parse_crm_mon

MADRID = ZoneInfo("Europe/Madrid")
CRM_MON = Path(__file__).parents[1] / "fixtures" / "crm_mon"
SEED = parse_crm_mon((CRM_MON / "lab_seed_fenced.xml").read_bytes())
# the shapes crm_resource writes for `pcs resource ban` (with and without a lifetime) and move
CONSTRAINTS = b"""<constraints>
  <rsc_location id="cli-ban-VirtualIP-on-nodo1" rsc="VirtualIP" role="Started" node="nodo1"
      score="-INFINITY"/>
  <rsc_location id="cli-ban-WebSite-on-nodo2" rsc="WebSite" role="Started">
    <rule id="cli-ban-WebSite-on-nodo2-rule" score="-INFINITY" boolean-op="and">
      <expression id="cli-ban-WebSite-on-nodo2-expr" attribute="#uname" operation="eq"
          value="nodo2" type="string"/>
      <date_expression id="cli-ban-WebSite-on-nodo2-lifetime" operation="lt"
          end="2026-12-06 16:00:00 +00:00"/>
    </rule>
  </rsc_location>
  <rsc_location id="cli-prefer-WebFS" rsc="WebFS" role="Started" node="nodo2" score="INFINITY"/>
  <rsc_location id="location-WebSite" rsc="WebSite" node="nodo1" score="50"/>
</constraints>"""


def at(text: str, zone: ZoneInfo = MADRID) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def test_due_once_a_day_from_the_time_in_the_clusters_zone() -> None:
    assert due(None, at("2026-12-06 07:59"), "08:00", "Europe/Madrid") is None
    assert due(None, at("2026-12-06 08:00"), "08:00", "Europe/Madrid") == "2026-12-06"
    assert due("2026-12-06", at("2026-12-06 23:59"), "08:00", "Europe/Madrid") is None
    assert due("2026-12-06", at("2026-12-07 09:30"), "08:00", "Europe/Madrid") == "2026-12-07"
    # 07:30 UTC is 08:30 in Madrid: due there, not in UTC
    utc = at("2026-12-06 07:30", ZoneInfo("UTC"))
    assert due(None, utc, "08:00", "Europe/Madrid") == "2026-12-06"
    assert due(None, utc, "08:00", "UTC") is None


def test_a_ban_with_a_lifetime_is_read_with_its_end() -> None:
    found = {c.id: c for c in parse_constraints(CONSTRAINTS)}
    assert found["cli-ban-WebSite-on-nodo2"].expires == "2026-12-06 16:00:00 +00:00"
    assert found["cli-ban-WebSite-on-nodo2"].node == "nodo2"
    assert found["cli-ban-VirtualIP-on-nodo1"].expires == ""


def test_left_too_long_counts_from_first_seen_and_forgets_what_is_gone() -> None:
    status = with_constraints(SEED, CONSTRAINTS)
    now = at("2026-12-06 08:00")
    stored = {"cli-ban-VirtualIP-on-nodo1": now - 26 * 3600, "cli-ban-Gone-on-nodo1": 1.0}
    seen = first_seen(status, stored, now)
    assert seen == {
        "cli-ban-VirtualIP-on-nodo1": now - 26 * 3600,
        "cli-ban-WebSite-on-nodo2": now,
        "cli-prefer-WebFS": now,
    }  # the gone one forgotten: a new ban of the same id starts its age anew
    old = left_too_long(status, seen, now, 24)
    assert [(x.constraint.id, x.age) for x in old] == [("cli-ban-VirtualIP-on-nodo1", "26 h")]
    later = {k: v - 5 * 86400 for k, v in seen.items()}
    names = [x.constraint.id for x in left_too_long(status, later, now, 24)]
    assert names == ["cli-ban-VirtualIP-on-nodo1", "cli-prefer-WebFS"]  # never the lifetime one
    assert left_too_long(status, later, now, 24)[0].age == "6.1 days"
    # the seed's own location preference is not a move left behind
    assert "location-WebSite" not in names


def test_stored_times_that_cannot_be_read_count_as_never_seen() -> None:
    assert parse_seen(None) == {}
    assert parse_seen("not json") == {}
    assert parse_seen("[1, 2]") == {}
    assert parse_seen('{"a": 5, "b": "x", "c": NaN}') == {"a": 5.0}
