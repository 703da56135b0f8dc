"""The rule catalogue against real lines: every pattern, the false friends, real log files."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from habot.alerts.logline import LogLine, parse_file_line
from habot.alerts.rules import load_catalogue
from habot.errors import ConfigError

CATALOGUE = load_catalogue()
LOGS = Path(__file__).parents[1] / "fixtures" / "logs"
REQUIRED = {
    "no-stonith",
    "dlm-needs-fencing",
    "quorum-lost",
    "node-lost",
    "node-unclean",
    "node-fenced",
    "fencing-failed",
    "resource-failed",
    "resource-timeout",
    "migration-threshold",
    "multiply-active",
    "move-constraint-left",
    "shutdown-escalation",
    "corosync-link-down",
    "token-loss",
    "drbd-split-brain",
    "gfs2-withdraw",
    "node-unreachable",
}


def line(text: str) -> LogLine:
    return LogLine(node="nodo1", identifier="pacemaker-controld", level="notice", text=text)


def test_the_catalogue_covers_the_required_conditions() -> None:
    assert {r.id for r in CATALOGUE.rules} >= REQUIRED


@pytest.mark.parametrize("rule", [r for r in CATALOGUE.rules if r.patterns], ids=lambda r: r.id)
def test_every_pattern_matches_one_of_its_examples(rule: object) -> None:
    from habot.alerts.rules import Rule

    assert isinstance(rule, Rule)
    for pattern in rule.patterns:
        assert any(re.search(pattern, line(e).head) for e in rule.examples), pattern
    for example in rule.examples:
        found = CATALOGUE.match(line(example))
        assert found is not None, example
        assert found.rule.id == rule.id, (example, found.rule.id)


@pytest.mark.parametrize("text", CATALOGUE.false_friends)
def test_false_friends_raise_nothing(text: str) -> None:
    found = CATALOGUE.match(line(text))
    assert found is None or found.rule.marks is not None  # a marker is never a card


def test_patterns_never_need_the_extended_info() -> None:
    for rule in CATALOGUE.rules:
        for example in rule.examples:
            stripped = example.split(" | ")[0]
            found = CATALOGUE.match(line(stripped))
            assert found is not None
            assert found.rule.id == rule.id


def test_fields_and_keys() -> None:
    found = CATALOGUE.match(
        line("Result of monitor operation for WebSite on nodo2: not running | CIB update 97")
    )
    assert found is not None
    assert found.key == "resource-failed:WebSite:nodo2"
    assert found.fields["result"] == "not running"
    assert found.rule.runbook is not None
    assert found.rule.runbook.params == {"resource": "{resource}"}


def test_the_seed_triple_is_one_key() -> None:
    keys = {
        m.key
        for e in CATALOGUE.rule("no-stonith").examples[:3]  # type: ignore[union-attr]
        if (m := CATALOGUE.match(line(e)))
    }
    assert keys == {"no-stonith"}


def test_a_real_two_node_session_log() -> None:
    raw = (LOGS / "pacemaker_log_nodo1_2node_session.log").read_bytes().splitlines()
    lines = [ln for r in raw if (ln := parse_file_line("nodo1", r))]
    found = Counter(m.rule.id for ln in lines if (m := CATALOGUE.match(ln)))
    assert {
        "no-stonith",
        "node-lost",
        "node-unclean",
        "node-fenced",
        "resource-failed",
        "migration-threshold",
    } <= set(found)
    assert found["no-stonith"] == 3


def test_rules_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "- id: x\n  severity: severe\n  title: t\n  patterns: [a]\n  key: k\n  remedy: r\n"
    )
    with pytest.raises(ConfigError, match=r"0\.severity: Input should be 'critical'"):
        load_catalogue([bad])
    bad.write_text(
        "- id: x\n  severity: high\n  title: t\n  patterns: ['(']\n  key: k\n  remedy: r\n"
    )
    with pytest.raises(ConfigError, match=r"pattern '\(': missing \)"):
        load_catalogue([bad])


def test_unless_sets_aside_one_match_not_the_line() -> None:
    """A match that `unless:` sets aside (a probe's result) does not hide a later match on the
    same line; the line with only the probe is still no failure (its false friend)."""
    catalogue = load_catalogue()
    both = LogLine(
        node="nodo1",
        identifier="pacemaker-controld",
        level="notice",
        text="Result of probe operation for A on nodo1: not running; "
        "Result of monitor operation for WebSite on nodo1: not running",
    )
    found = catalogue.match(both)
    assert found is not None
    assert found.key == "resource-failed:WebSite:nodo1"
    probe = replace(both, text="Result of probe operation for A on nodo1: not running")
    assert catalogue.match(probe) is None
