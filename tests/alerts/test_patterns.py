"""Alert patterns match in linear time whatever a node-local user writes into the log: RE2
compiles every pattern, lookarounds are refused (`unless:` says what a field must not be), and
the worst patterns the bounded-repetition check still admits finish on the worst lines."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from habot.alerts.logline import LogLine
from habot.alerts.patterns import linear
from habot.alerts.rules import Catalogue, Rule, load_catalogue

RULE = {"id": "r", "severity": "warning", "title": "t", "key": "k:{x}", "remedy": "r"}

# Admitted by the bounded-repetition check (no `+`/`*`, no nesting, bounds ≤ 1000), and each
# exponential or high-polynomial for a backtracking matcher on the line beside it.
WORST = [
    (r"^(?:a|aa){0,1000}c", "a" * 1000 + "bc"),
    (r"(?:a|a|aa){0,1000}(?P<x>b)c", "a" * 1000 + "bxc"),
    (r"^\S{0,1000}\S{0,1000}\S{0,1000}\S{0,1000}x!", "y" * 1000 + " x!"),
    (r"(?:\w|\d|[a-z0-9]){1,1000}!", "7" * 1000 + " !"),
]


def line(text: str) -> LogLine:
    return LogLine(node="nodo1", identifier="pacemaker-controld", level="notice", text=text)


def test_a_lookaround_or_backreference_is_refused_with_the_way_out() -> None:
    for pattern in (r"returned 0(?!\d)", r"(?<!\S)(?P<x>\S{1,9}) cannot run", r"(\w)\1"):
        with pytest.raises(ValueError, match=r"not a linear-time pattern.*`unless:`"):
            Rule.model_validate({**RULE, "patterns": [pattern]})
    with pytest.raises(ValueError, match="not a linear-time pattern"):
        Rule.model_validate({**RULE, "patterns": ["(?P<x>x)"], "unless": {"x": "a(?=b)"}})
    with pytest.raises(ValueError, match="`unless:` needs patterns"):
        Rule.model_validate({**RULE, "finding": "no-stonith", "unless": {"x": "a"}})


def test_unless_excludes_a_field_only_when_the_whole_value_matches() -> None:
    rule = Rule.model_validate(
        {**RULE, "patterns": [r"op (?P<x>\w{1,20}) failed"], "unless": {"x": "probe|ok"}}
    )
    catalogue = Catalogue([rule])
    assert catalogue.match(line("op probe failed")) is None
    assert catalogue.match(line("op ok failed")) is None
    found = catalogue.match(line("op probes failed"))  # not wholly "probe": still an alert
    assert found is not None
    assert found.fields["x"] == "probes"
    found = catalogue.match(line("op start failed"))
    assert found is not None
    assert found.key == "k:start"


def test_every_pattern_of_the_catalogue_is_an_re2_program() -> None:
    catalogue = load_catalogue()
    rules = [r for r in catalogue.rules if r.patterns]
    assert rules
    for rule in rules:
        for pattern in rule.patterns:
            assert type(linear(pattern).program).__module__.startswith("re2"), pattern


def test_the_worst_admitted_patterns_finish_on_the_worst_lines() -> None:
    """Run in a child process: were the matcher backtracking, the child would run for years
    (holding the GIL) and be killed at the hang guard; RE2 answers at once (timings are in
    benchmarks/bench_crafted_lines.py)."""
    for pattern, text in WORST:
        assert Rule.model_validate({**RULE, "patterns": [pattern]})  # the check admits it
        assert linear(pattern).literal in text  # and the literal prefilter does not spare it
    child = textwrap.dedent(
        f"""
        from habot.alerts.logline import LogLine
        from habot.alerts.rules import Catalogue, Rule
        for pattern, text in {WORST!r}:
            rule = Rule.model_validate({RULE!r} | {{"patterns": [pattern]}})
            line = LogLine(node="n", identifier="pacemaker-controld", level="notice", text=text)
            print(Catalogue([rule]).match(line))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None"] * len(WORST)


def test_the_literal_prefilter_never_hides_a_match() -> None:
    """Over every example, false friend and real fixture line: the prefiltered pattern finds
    exactly what RE2 alone finds."""
    from benchmarks.bench_crafted_lines import real_lines

    catalogue = load_catalogue()
    texts = [*(e for r in catalogue.rules for e in r.examples), *catalogue.false_friends]
    texts += [ln.head for ln in real_lines()[::3]]  # a third of them: the shapes repeat
    found = 0
    for rule in catalogue.rules:
        for pattern in rule.patterns:
            compiled = linear(pattern)
            for text in texts:
                alone = compiled.program.search(text)
                assert (compiled.search(text) is None) == (alone is None), (pattern, text)
                found += alone is not None
    assert found > 40


def test_the_prefilter_relies_only_on_literals_every_match_contains() -> None:
    assert linear(r"Quorum lost").literal == "Quorum lost"
    assert linear(r"a|Quorum lost").literal == ""  # an alternative at the top
    assert linear(r"(?:Quorum )?lost").literal == "lost"  # the optional part is not relied on
    assert linear(r"(?i)quorum lost").literal == ""
    assert linear(r"x{0,3}Quorum").literal == "Quorum"
