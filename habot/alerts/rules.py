"""The alert rule catalogue (YAML, validated) and matching a log line against it (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from habot import yaml_load
from habot.alerts.logline import LogLine, agent_of
from habot.alerts.patterns import MAX_MATCHED, LinearPattern, bounded_field, linear, unbounded
from habot.cluster.predicates import Predicate
from habot.errors import ConfigError

_CLONE_SUFFIX = re.compile(r":\d{1,6}$")


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"


class RunbookRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    params: dict[str, str] = {}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,47}$")
    severity: Severity
    title: str
    patterns: tuple[str, ...] = ()
    unless: dict[str, str] = Field(
        {},
        description="field: pattern — a match whose field is wholly this pattern does not count "
        "(what a lookahead would say, in linear time)",
    )
    finding: str | None = Field(None, description="a status finding code instead of patterns")
    synthetic: bool = Field(False, description="raised by habot itself (node unreachable)")
    identifiers: tuple[str, ...] = Field((), description="only lines from these programs")
    key: str
    remedy: str
    runbook: RunbookRef | None = None
    resolved_when: Predicate | None = None
    ends_when: Predicate | None = Field(
        None,
        description="when the cluster shows the episode over (default: resolved_when): a new "
        "match after that is a new episode, with a card of its own",
    )
    ends_on_rejoin: str | None = Field(
        None,
        description='the field naming a node: that node back in the cluster ("state is now '
        "member\") ends the episode, at that line's time",
    )
    window_s: float = Field(3600, gt=0, description="a match within it updates the same card")
    resolve_after_s: float = Field(
        30,
        ge=0,
        description="resolved only on a status read this long after the newest line (by "
        "the cluster's clock): the time the cluster needs to notice what the line said",
    )
    examples: tuple[str, ...] = Field((), description="real lines this rule must match")
    false_friends: tuple[str, ...] = Field((), description="lines no rule may match")
    marks: Literal["stop", "rejoin"] | None = Field(
        None,
        description="not an alert: a node stopping cleanly (`stopping`, else `node`), or a "
        "node back in the cluster (`rejoined`)",
    )
    quiet_when_stopping: str | None = Field(
        None, description="the field naming a node: no alert while that node stops cleanly"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Rule:
        sources = [bool(self.patterns), self.finding is not None, self.synthetic]
        if sum(sources) != 1:
            raise ValueError("a rule has patterns, a finding, or synthetic: true (one of them)")
        for pattern in (*self.patterns, *self.unless.values()):
            why = unbounded(pattern)
            if why is not None:
                raise ValueError(f"pattern {pattern!r}: {why}")
        if self.unless and not self.patterns:
            raise ValueError("`unless:` needs patterns")
        return self


@dataclass(frozen=True, slots=True)
class Match:
    rule: Rule
    key: str
    fields: dict[str, str]
    line: LogLine


class Catalogue:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._compiled = [_Compiled.of(r) for r in rules if r.patterns]

    @property
    def false_friends(self) -> tuple[str, ...]:
        return tuple(f for r in self.rules for f in r.false_friends)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def match(self, line: LogLine) -> Match | None:
        head = line.head[:MAX_MATCHED]
        for compiled in self._compiled:
            rule = compiled.rule
            if rule.identifiers and line.identifier not in rule.identifiers:
                continue
            for pattern in compiled.patterns:
                found = next(
                    (
                        f
                        for f in pattern.each(head)
                        if not _excluded(f.groupdict(), compiled.unless)
                    ),
                    None,
                )
                if found is not None:
                    fields = {
                        "node": bounded_field(line.node),
                        **_agent_fields(line.identifier),
                        **{k: bounded_field(v) for k, v in found.groupdict().items() if v},
                    }
                    if "resource" in fields:  # "dlm:0" is an instance of dlm
                        fields["resource"] = _CLONE_SUFFIX.sub("", fields["resource"])
                    return Match(rule, fill(rule.key, rule.id, fields), fields, line)
        return None


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    patterns: tuple[LinearPattern, ...]
    unless: tuple[tuple[str, LinearPattern], ...]

    @classmethod
    def of(cls, rule: Rule) -> _Compiled:
        return cls(
            rule,
            tuple(linear(p) for p in rule.patterns),
            tuple((field, linear(p)) for field, p in rule.unless.items()),
        )


def _excluded(fields: dict[str, str | None], unless: tuple[tuple[str, LinearPattern], ...]) -> bool:
    return any(
        (value := fields.get(name)) is not None and pattern.fullmatch(value) is not None
        for name, pattern in unless
    )


def _agent_fields(identifier: str) -> dict[str, str]:
    """A resource agent's line names its resource in its identifier: `controld(dlm)`."""
    agent = agent_of(identifier)
    if agent is None:
        return {}
    return {"agent": bounded_field(agent[0]), "resource": bounded_field(agent[1])}


def fill(template: str, rule_id: str, fields: dict[str, str]) -> str:
    """`{name}` placeholders from the match's fields; an unknown one is left as `?`."""
    return re.sub(
        r"\{(\w+)\}",
        lambda m: fields.get(m.group(1), "?") if m.group(1) != "rule" else rule_id,
        template,
    )


_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def fill_title(template: str, rule_id: str, fields: dict[str, str]) -> str:
    """`fill`, where a `[...]` part shows only when every field it names is known:
    "Fencing of {node} failed[ (device {device})]"."""

    def part(m: re.Match[str]) -> str:
        names = re.findall(r"\{(\w+)\}", m.group(1))
        return m.group(1) if all(fields.get(n) for n in names) else ""

    return fill(_OPTIONAL.sub(part, template), rule_id, fields)


def fill_predicate(predicate: Predicate, rule_id: str, fields: dict[str, str]) -> Predicate:
    """A rule's `resolved_when` with the alert's fields in its `{name}` placeholders."""

    def filled(value: Any) -> Any:
        if isinstance(value, str):
            return fill(value, rule_id, fields)
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        return value

    return Predicate.model_validate(filled(predicate.model_dump(exclude_none=True)))


def load_catalogue(extra: Iterable[Path] = ()) -> Catalogue:
    """The shipped rules, then rules from `extra` files (a later id replaces an earlier one)."""
    texts = [
        (
            Path("habot/alerts/rules.yaml"),
            (resources.files("habot.alerts") / "rules.yaml").read_text(),
        )
    ]
    for path in extra:
        try:
            texts.append((path, path.read_text()))
        except OSError as e:
            raise ConfigError(f"alert rules {path}: {e.strerror or e}") from e
    rules: dict[str, Rule] = {}
    for path, text in texts:
        for rule in _parse(path, text):
            rules[rule.id] = rule
    return Catalogue(list(rules.values()))


def _parse(path: Path, text: str) -> list[Rule]:
    try:
        data: Any = yaml_load.safe_load(text)
        return TypeAdapter(list[Rule]).validate_python(data)
    except yaml.YAMLError as e:
        raise ConfigError(f"alert rules {path}: not valid YAML: {e}") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"alert rules {path}: {where}: {first['msg']}") from e
