"""Planning a runbook (pure): parameters validated against the live status, preconditions
checked, every argv rendered and every target resolved — what the approver sees is what runs."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from habot.cluster.model import ClusterStatus, NodeState, ResourceKind
from habot.cluster.predicates import RUNNING, Predicate, check, describe
from habot.errors import HabotError
from habot.runbooks.model import Loop, Parameter, ParamType, Runbook, Step
from habot.runbooks.predicates import render_predicate
from habot.runbooks.render import RenderError, render, render_argv
from habot.runbooks.replay import edit_of, shown
from habot.runbooks.shells import Shell, crmsh_form

MAX_VALUE_LENGTH = 200
TARGET_KEYWORDS = ("any", "all", "dc")


class PlanError(HabotError):
    """The runbook cannot run now: each reason says why."""

    def __init__(
        self, runbook: str, reasons: list[str], fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{runbook} cannot run: " + "; ".join(reasons))
        self.runbook = runbook
        self.reasons = tuple(reasons)
        self.fields = dict(fields or {})  # parameter -> what is wrong with its value


@dataclass(frozen=True, slots=True)
class PlannedStep:
    name: str
    kind: str  # run | wait | cib | pause
    target: str  # any | all | dc | a node name
    timeout: float
    argv: tuple[str, ...] = ()
    edits: tuple[tuple[str, ...], ...] = ()
    wait: tuple[Predicate, ...] = ()
    unless: tuple[Predicate, ...] = ()
    text: str = ""  # a pause's words to the person
    pcs: tuple[str, ...] = ()  # a run step planned in crmsh: its pcs form (what a preview replays)

    def describe(self) -> str:
        if self.kind == "pause":
            return f"pause: {self.text} (Continue or Abort; aborts after {self.timeout:g} s)"
        if self.kind == "run":
            return f"on {self.target}: {shlex.join(self.argv)}"
        if self.kind == "cib" and self.edits[:1] and self.edits[0][:1] == ("crm",):
            return (
                f"on {self.target}, a copy of the CIB: "
                + "; ".join("crm --no " + " ".join(e[1:]) for e in self.edits)
                + "; pushed as one difference"
            )
        if self.kind == "cib":
            return (
                f"on {self.target}, shadow CIB: "
                + "; ".join("pcs -f … " + " ".join(e) for e in self.edits)
                + "; cib-push --config"
            )
        return "wait until " + ", ".join(describe(p) for p in self.wait)


@dataclass(frozen=True, slots=True)
class Plan:
    runbook: str
    cluster: str
    params: tuple[tuple[str, str], ...]
    steps: tuple[PlannedStep, ...]
    rollback: tuple[PlannedStep, ...]
    preview_edits: tuple[tuple[str, ...], ...]
    approvals_needed: int
    destructive: bool
    # With no `preview:` of its own, the edits are the steps' (habot.runbooks.replay), and
    # what cannot be replayed is named here: "step name (`pcs cluster stop …`)".
    unsimulated: tuple[str, ...] = ()
    shell: Shell = Shell.PCS  # what its run steps speak

    @property
    def param_map(self) -> dict[str, str]:
        return dict(self.params)

    def same_actions(self, other: Plan) -> bool:
        """Whether `other` would run exactly what this plan runs."""
        return (self.steps, self.rollback) == (other.steps, other.rollback)


def make_plan(
    runbook: Runbook,
    raw: Mapping[str, str],
    status: ClusterStatus,
    *,
    cluster: str,
    configured: Collection[str] | None = None,
    shell: Shell = Shell.PCS,
) -> Plan:
    """`configured`: the nodes habot may run commands on (its config); a step aimed at any
    other node is refused here, before anyone is asked to approve it. `shell`: the cluster's;
    on crmsh, each run step runs its crmsh form, and a step without one is refused here,
    named."""
    if shell is Shell.CRMSH:  # before any value: no value would make it run there
        missing = crmsh_refusals(runbook)
        if missing:
            raise PlanError(runbook.name, missing)
    params, reasons, fields = _params(runbook, raw, status)
    if reasons:
        raise PlanError(runbook.name, reasons, fields)
    context = _context(params, status, cluster)
    try:
        failed = [
            why
            for p in runbook.preconditions
            if (why := check(render_predicate(p, context), status)) is not None
        ]
        if failed:
            raise PlanError(runbook.name, [f"precondition: {why}" for why in failed])
        reach = frozenset(configured) if configured is not None else None
        planning = Planning(context, status, reach, shell)
        steps = tuple(p for s in runbook.steps for p in _steps(s, planning))
        rollback = tuple(p for s in runbook.rollback for p in _steps(s, planning))
        preview = tuple(render_argv(e, context) for e in runbook.preview)
    except RenderError as e:
        raise PlanError(runbook.name, [str(e)]) from e
    unsimulated: tuple[str, ...] = ()
    if not runbook.preview:
        preview, unsimulated = replayed(steps)
    return Plan(
        runbook=runbook.name,
        cluster=cluster,
        params=tuple((k, str(v)) for k, v in params.items()),
        steps=steps,
        rollback=rollback,
        preview_edits=preview,
        approvals_needed=runbook.approvals_needed,
        destructive=runbook.destructive,
        unsimulated=unsimulated,
        shell=shell,
    )


def crmsh_refusals(runbook: Runbook) -> list[str]:
    """Why the runbook cannot run on a crmsh cluster, a reason per step; none when it can."""
    return list(dict.fromkeys(why for s in runbook.leaf_steps() if (why := no_crmsh_form(s))))


def no_crmsh_form(step: Step) -> str | None:
    """Why `step` cannot run on a crmsh cluster, or None when it can."""
    if step.cib is not None and step.crmsh_cib is None:
        return (
            f"step {step.name!r} edits the CIB with pcs (`pcs -f`), and has no crmsh form: "
            "on a crmsh cluster it cannot run"
        )
    if step.run is not None and step.crmsh is None and crmsh_form(step.run) is None:
        if step.run[0] != "pcs":
            return None  # not a shell's command: the same on both
        return (
            f"step {step.name!r} runs `{shown(step.run)}`, which has no crmsh form: give the "
            "step a `crmsh:` form to run it on a crmsh cluster"
        )
    return None


def replayed(
    steps: Sequence[PlannedStep],
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """(the steps' CIB edits, in order; the steps that cannot be simulated)."""
    edits: list[tuple[str, ...]] = []
    unsimulated: list[str] = []
    for step in steps:
        if step.edits:
            edits += step.edits
        elif step.argv:
            edit = edit_of(step.pcs or step.argv)
            if edit is None:
                unsimulated.append(f"{step.name} (`{shown(step.argv)}`)")
            else:
                edits.append(edit)
    return tuple(edits), tuple(unsimulated)


def _context(params: Mapping[str, Any], status: ClusterStatus, cluster: str) -> dict[str, Any]:
    """What templates see: the parameters, and `cluster` — name, nodes, node_count, dc,
    location (resource -> the node it runs on) and other (resource -> another node)."""
    nodes = [n.name for n in status.nodes]
    location: dict[str, str] = {}
    for res in status.resources:
        running = res.nodes_in_role(*RUNNING)
        for name in (res.id, *res.primitive_ids):
            location[name] = running[0] if running else ""
    other = {name: next((n for n in nodes if n != where), "") for name, where in location.items()}
    facts = {
        "name": status.cluster_name or cluster,
        "nodes": nodes,
        "node_count": len(nodes),
        "dc": status.summary.dc or "",
        "location": location,
        "other": other,
    }
    return {**params, "cluster": facts}


@dataclass(frozen=True, slots=True)
class Planning:
    """What every step of one plan is planned with."""

    context: Mapping[str, Any]  # what templates see
    status: ClusterStatus
    reach: frozenset[str] | None  # the nodes habot may run commands on
    shell: Shell


def _steps(step: Step, planning: Planning) -> list[PlannedStep]:
    """A step planned, or a for_each group's steps planned once per node or resource (named
    "nodo1: standby"), in order: the plan says every repetition, fixed now."""
    if step.steps is None or step.for_each is None:
        return [_step(step, planning)]
    planned = []
    for label, names in loop_values(step.for_each, planning.status):
        inner = replace(planning, context={**planning.context, **names})
        for leaf in step.steps:
            planned.append(replace(_step(leaf, inner), name=f"{label}: {leaf.name}"))
    return planned


def loop_values(loop: Loop, status: ClusterStatus) -> list[tuple[str, dict[str, str]]]:
    """(label, the names a for_each group's steps see) per repetition: every node, in the
    order crm_mon lists them; or every resource that runs on exactly one node now, fencing
    devices and clones aside (they have no one home), with that node."""
    if loop is Loop.NODES:
        return [(n.name, {"node": n.name}) for n in status.nodes]
    found = []
    for res in status.resources:
        if res.kind in (ResourceKind.CLONE, ResourceKind.BUNDLE) or res.is_fencing:
            continue
        running = res.nodes_in_role(*RUNNING)
        if len(running) == 1:
            found.append((res.id, {"resource": res.id, "home": running[0]}))
    return found


def _step(step: Step, planning: Planning) -> PlannedStep:
    context = planning.context
    planned = PlannedStep(
        name=step.name,
        kind=step.kind,
        target=_target(step.target, context, planning.status, planning.reach),
        timeout=step.timeout,
        unless=tuple(render_predicate(p, context) for p in step.unless),
    )
    if step.run is not None:
        argv = render_argv(step.run, context)
        if planning.shell is not Shell.CRMSH or (step.crmsh is None and argv[0] != "pcs"):
            return replace(planned, argv=argv)
        crm = render_argv(step.crmsh, context) if step.crmsh else crmsh_form(argv)
        if crm is None:  # no_crmsh_form refused it before: this is a rendered value's doing
            raise RenderError(f"step {step.name!r}: `{shown(argv)}` has no crmsh form")
        return replace(planned, argv=crm, pcs=argv if argv[0] == "pcs" else ())
    if step.cib is not None and planning.shell is Shell.CRMSH and step.crmsh_cib is not None:
        edits = tuple(("crm", *render_argv(e, context)) for e in step.crmsh_cib)
        return replace(planned, edits=edits)
    if step.cib is not None:
        return replace(planned, edits=tuple(render_argv(e, context) for e in step.cib))
    if step.pause is not None:
        return replace(planned, text=render(step.pause, context))
    return replace(planned, wait=tuple(render_predicate(p, context) for p in step.wait or ()))


def _target(
    spec: str, context: Mapping[str, Any], status: ClusterStatus, reach: frozenset[str] | None
) -> str:
    target = render(spec, context)
    if target in TARGET_KEYWORDS:
        return target
    if status.node(target) is None:
        raise RenderError(f"step target {target!r} is not a node of the cluster")
    if reach is not None and target not in reach:
        raise RenderError(
            f"step target {target!r} is a node of the cluster but not in habot's config "
            "(habot runs commands only on the nodes it is configured for)"
        )
    return target


def _params(
    runbook: Runbook, raw: Mapping[str, str], status: ClusterStatus
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """(the values, every reason they cannot be used, the reasons of each parameter)."""
    reasons = [f"unknown parameter `{k[:40]}`" for k in raw if k not in runbook.parameters]
    values: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for name, spec in runbook.parameters.items():
        if name not in raw and spec.default is None:
            fields[name] = f"missing parameter `{name}` ({spec.type.value})"
            reasons.append(fields[name])
            continue
        text = raw[name] if name in raw else str(spec.default)
        try:
            values[name] = _value(name, spec, text, status)
        except ValueError as e:
            fields[name] = str(e)
            reasons.append(str(e))
    return values, reasons, fields


def _value(name: str, spec: Parameter, text: str, status: ClusterStatus) -> Any:
    if len(text) > MAX_VALUE_LENGTH:
        raise ValueError(f"`{name}` is longer than {MAX_VALUE_LENGTH} characters")
    if spec.type in (ParamType.RESOURCE, ParamType.NODE, ParamType.STRING) and (
        text.startswith("-") or not text.isprintable()
    ):
        raise ValueError(f"`{name}`: {text[:40]!r} is not a valid value")
    if spec.type is ParamType.RESOURCE:
        if status.resource(text) is None:
            raise ValueError(f"`{name}`: no resource `{text[:40]}` in the cluster")
        return text
    if spec.type is ParamType.NODE:
        return _node(name, spec, text, status)
    if spec.type is ParamType.STRING:
        if not re.fullmatch(spec.pattern or "", text):
            raise ValueError(f"`{name}`: {text[:40]!r} does not match {spec.pattern}")
        return text
    return _scalar(name, spec, text)


def _node(name: str, spec: Parameter, text: str, status: ClusterStatus) -> str:
    node = status.node(text)
    if node is None:
        known = ", ".join(n.name for n in status.nodes)
        raise ValueError(f"`{name}`: no node `{text[:40]}` in the cluster (nodes: {known})")
    if spec.online and node.state is not NodeState.ONLINE:
        raise ValueError(f"`{name}`: node {text} is {node.state.value}, not online")
    return text


def _scalar(name: str, spec: Parameter, text: str) -> Any:
    if spec.type is ParamType.BOOL:
        lowered = text.lower()
        if lowered not in ("true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"`{name}`: {text[:40]!r} is not true or false")
        return lowered in ("true", "yes", "on")
    if spec.type is ParamType.CHOICE:
        if text not in spec.choices:
            raise ValueError(f"`{name}`: {text[:40]!r} is not one of {', '.join(spec.choices)}")
        return text
    try:
        number = int(text)
    except ValueError as e:
        raise ValueError(f"`{name}`: {text[:40]!r} is not a whole number") from e
    if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
        raise ValueError(f"`{name}`: {number} is outside {spec.min}..{spec.max}")
    return number
