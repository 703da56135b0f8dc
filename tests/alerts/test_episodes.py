"""Episodes, pure, on real lines: a condition that the cluster shows ended ends its episode;
a new occurrence after that is a new card (which notifies) saying how often it happened; the
card's times are the outage's own; a condition that keeps coming back is one flapping card.
Each rule's episode end on the lab's real captures (the journals of a crash and its return)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from habot.alerts import episodes, lifecycle
from habot.alerts.episodes import Flapping, fold, judge, rejoined
from habot.alerts.lifecycle import Alert, Change, Delivery, State
from habot.alerts.logline import LogLine, parse_journal
from habot.alerts.rules import Match, Rule, load_catalogue
from habot.cluster.crm_mon import parse_crm_mon
from habot.service import describe
from habot.service.alert_findings import canonical

CATALOGUE = load_catalogue()
LOGS = Path(__file__).parents[1] / "fixtures" / "logs"
CRM_MON = Path(__file__).parents[1] / "fixtures" / "crm_mon"
T0 = 1_800_000_000.0
FLAP = Flapping(episodes=3, window_s=600, quiet_s=120)


def match(text: str, at: float, identifier: str = "pacemaker-controld") -> Match:
    found = CATALOGUE.match(LogLine("nodo1", identifier, "notice", text, at))
    assert found is not None, text
    return found


def lost(at: float) -> Match:
    return match("Node nodo2 state is now lost", at)


def rule(alert: Alert) -> Rule:
    found = CATALOGUE.rule(alert.rule)
    assert found is not None
    return found


def posted(alert: Alert) -> Alert:
    """As delivered: the card is in the channel."""
    return lifecycle.delivered(alert, "CALERTS", f"{alert.first_seen:.6f}")


def status_shows_it_over(alert: Alert, at: float, *, first: bool = False) -> Alert | None:
    return judge(
        alert,
        rule(alert),
        over=True,
        resolved=True,
        status_at=at,
        now=at,
        flapping=FLAP,
        first=first,
    )


def test_a_node_back_ends_the_episode_at_the_status_that_showed_it() -> None:
    folded = fold(None, lost(T0), "mycluster", T0, FLAP)
    assert folded.change is Change.POST
    card = posted(folded.alert)
    # a read 1 s after the loss still shows nodo2 online (Pacemaker has not noticed): only a
    # candidate end, withdrawn by the next read that shows it down
    early = status_shows_it_over(card, T0 + 1)
    assert early is not None
    assert (early.gone_at, early.ended_at) == (T0 + 1, 0)
    down = judge(
        early, rule(early), over=False, resolved=False, status_at=T0 + 3, now=T0 + 3, flapping=FLAP
    )
    assert down is not None
    assert down.gone_at == 0
    # back at T0+6: the end is that read, confirmed (and the card resolved) by a read
    # resolve_after_s (30 s) after the line that still shows it over
    back = status_shows_it_over(down, T0 + 6)
    assert back is not None
    assert back.ended_at == 0
    assert status_shows_it_over(back, T0 + 20) is None  # no news until then
    resolved = status_shows_it_over(back, T0 + 30)
    assert resolved is not None
    assert (resolved.state, resolved.gone_at, resolved.ended_at) == (State.RESOLVED, T0 + 6, T0 + 6)
    assert describe.lasted(resolved).startswith("lasted 6 s")


def test_a_read_during_a_dc_election_ends_nothing() -> None:
    """The DC died with nodo2: until a new DC writes the node's state, crm_mon may show nodo2
    online — a read 12 s after the loss that says so ends no episode (a read 30 s after it,
    that still does, would)."""
    card = posted(fold(None, lost(T0), "mycluster", T0, FLAP).alert)
    stale = status_shows_it_over(card, T0 + 12)
    assert stale is not None
    assert stale.ended_at == 0
    again = fold(stale, lost(T0 + 14), "mycluster", T0 + 14, FLAP)
    assert again.change is Change.UPDATE  # the same episode: no second card


def test_a_second_loss_after_the_return_is_a_new_card_that_says_so() -> None:
    first = posted(fold(None, lost(T0), "mycluster", T0, FLAP).alert)
    ended = rejoined(first, rule(first), "nodo2", T0 + 6)
    assert ended is not None
    assert ended.ended_at == T0 + 6
    again = fold(ended, lost(T0 + 25), "mycluster", T0 + 25, FLAP)
    assert again.change is Change.POST  # a new card: people are notified
    assert again.alert.episodes == (T0,)
    assert episodes.episode_number(again.alert) == 2
    assert again.alert.line_first == T0 + 25
    old = again.archived
    assert old is not None
    assert old.key == f"node-lost:nodo2@{T0:.6f}"
    assert old.state is State.RESOLVED
    assert old.superseded
    assert old.delivery is Delivery.UPDATE  # its card is told it ended
    assert describe.lasted(old).startswith("lasted 6 s")


def test_a_line_of_the_same_episode_read_late_is_not_a_new_one() -> None:
    first = posted(fold(None, lost(T0), "mycluster", T0, FLAP).alert)
    ended = rejoined(first, rule(first), "nodo2", T0 + 6)
    assert ended is not None
    late = fold(ended, lost(T0 + 2), "mycluster", T0 + 30, FLAP)  # another node's, read now
    assert late.change is Change.UPDATE
    assert late.alert.ended_at == T0 + 6
    assert late.alert.count == 2


def test_another_nodes_return_ends_nothing() -> None:
    """The false friend: nodo1 rejoining says nothing of nodo2."""
    first = posted(fold(None, lost(T0), "mycluster", T0, FLAP).alert)
    assert rejoined(first, rule(first), "nodo1", T0 + 6) is None


def test_a_node_that_keeps_coming_back_is_one_flapping_card() -> None:
    notified, alert = 0, None
    for cycle in range(10):
        start = T0 + cycle * 25
        folded = fold(alert, lost(start), "mycluster", start, FLAP)
        notified += folded.change is Change.POST
        alert = folded.alert if folded.change is Change.UPDATE else posted(folded.alert)
        alert = rejoined(alert, rule(alert), "nodo2", start + 6) or alert
    assert alert is not None
    assert notified == 4  # three cards, then one flapping card that counts the rest
    assert alert.flapping
    assert episodes.episode_number(alert) >= 10 - 3
    assert alert.count == 7
    # the flapping card resolves once it stays quiet for quiet_s, not resolve_after_s
    quiet = status_shows_it_over(alert, alert.line_last + 60)
    assert quiet is None or quiet.active
    done = status_shows_it_over(alert, alert.line_last + 121)
    assert done is not None
    assert done.state is State.RESOLVED


def test_missing_stonith_lasts_until_fencing_is_configured() -> None:
    """Its lines repeat at every scheduler run; the card's duration runs from the first
    line to the status that shows fencing configured, not to the last line."""
    text = "Resource start-up disabled since no STONITH resources have been defined"
    alert = posted(fold(None, match(text, T0, "pacemaker-schedulerd"), "mycluster", T0, FLAP).alert)
    for minute in (1, 2, 3):
        nxt = match(text, T0 + 60 * minute, "pacemaker-schedulerd")
        alert = fold(alert, nxt, "mycluster", T0 + 60 * minute, FLAP).alert
    fenced = status_shows_it_over(alert, T0 + 600)
    assert fenced is not None
    assert fenced.state is State.RESOLVED
    assert describe.lasted(fenced).startswith("lasted 10 min")  # not "lasted 3 min"


def test_what_ended_before_habot_watched_ended_with_its_last_line() -> None:
    alert = fold(None, lost(T0), "mycluster", T0, FLAP).alert
    seen = status_shows_it_over(alert, T0 + 3600, first=True)
    assert seen is not None
    assert seen.state is State.RESOLVED
    assert seen.ended_at == T0  # its last line: habot does not know better


def test_each_rules_episode_ends_on_the_real_crash_and_return() -> None:
    """The lab's crash of nodo2 and its return, as nodo1's journal has them: every card the
    crash raised ends at nodo2's return ("state is now member"), and no line of the crash
    comes after it."""
    case = LOGS / "lab_crash_vs_stop"
    lines = parse_journal("nodo1", (case / "nodo1_journal.json").read_bytes()).lines
    status = parse_crm_mon((CRM_MON / "lab_seed_fenced.xml").read_bytes())  # names node ids
    alerts: dict[str, Alert] = {}
    back: float = 0.0
    for line in lines:
        found = CATALOGUE.match(line)
        if found is None:
            continue
        found = canonical(found, status)  # as the poller names it (corosync's peer id: nodo2)
        if found.rule.marks == "rejoin" and found.fields.get("rejoined") == "nodo2":
            back = back or line.at
            for key, alert in list(alerts.items()):
                ended = rejoined(alert, rule(alert), "nodo2", line.at)
                alerts[key] = ended or alert
            continue
        if found.rule.marks:
            continue
        alerts[found.key] = fold(alerts.get(found.key), found, "mycluster", line.at, FLAP).alert
    assert back
    about_nodo2 = {k: a for k, a in alerts.items() if rule(a).ends_on_rejoin}
    assert {k.split(":")[0] for k in about_nodo2} >= {"node-lost", "node-fenced"}
    for alert in about_nodo2.values():
        assert alert.ended_at == back, alert.key
        assert replace(alert, state=State.RESOLVED).ended_at - lifecycle.began(alert) < 60
