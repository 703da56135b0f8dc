"""The runbook format (pydantic, unknown keys refused). `habot runbooks schema` prints its
JSON Schema; `habot runbooks lint` checks files against it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from habot.cluster.predicates import Predicate

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,47}$")]  # an alert rule's id
RunbookName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
ArgvElement = Annotated[str, Field(max_length=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamType(StrEnum):
    RESOURCE = "resource"  # must name a resource of the live cluster
    NODE = "node"  # must name a node of the live cluster
    STRING = "string"  # must match `pattern`
    INT = "int"
    BOOL = "bool"
    CHOICE = "choice"


class Parameter(_Strict):
    type: ParamType
    help: str = ""
    default: str | int | bool | None = None
    pattern: str | None = Field(None, description="full-match regex, required for strings")
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    online: bool = Field(False, description="a node parameter: the node must be online")

    @model_validator(mode="after")
    def _complete(self) -> Parameter:
        if self.type is ParamType.STRING and not self.pattern:
            raise ValueError("a string parameter needs a pattern")
        if self.type is ParamType.CHOICE and not self.choices:
            raise ValueError("a choice parameter needs choices")
        return self


class Loop(StrEnum):
    """What a `for_each` group repeats over, fixed when the run is planned (the approver sees
    every repetition), and the names its steps see."""

    NODES = "nodes"  # each node of the cluster in turn, as {{ node }}
    PLACED = (
        "placed"  # each resource that runs on one node, as {{ resource }}; that node: {{ home }}
    )

    @property
    def variables(self) -> dict[str, ParamType]:
        if self is Loop.NODES:
            return {"node": ParamType.NODE}
        return {"resource": ParamType.RESOURCE, "home": ParamType.NODE}


class Step(_Strict):
    """One of: `run` an argv on a target; `wait` for predicates; `cib` pcs edits applied
    atomically to a shadow CIB; `pause` for a person (Continue or Abort; its timeout aborts);
    or a group of such steps repeated `for_each` node or placed resource."""

    name: str = Field(min_length=1, max_length=100)
    run: tuple[ArgvElement, ...] | None = None
    target: str = Field(
        "any",
        description="where `run` and `cib` steps run: any | all | dc | "
        "a node name or {{ node parameter }}",
    )
    crmsh: tuple[ArgvElement, ...] | None = Field(
        None,
        description="a run step's crmsh form, on clusters whose shell is crmsh (without it, "
        "the pcs command's crmsh translation, when crmsh has one)",
    )
    wait: tuple[Predicate, ...] | None = None
    cib: tuple[tuple[ArgvElement, ...], ...] | None = Field(
        None, description="pcs arguments, each applied as `pcs -f SHADOW ...`"
    )
    crmsh_cib: tuple[tuple[ArgvElement, ...], ...] | None = Field(
        None,
        description="a cib step's crmsh form: crm arguments (`configure …`), each applied as "
        "`crm --no ...` to the same pulled copy (CIB_file), pushed as one difference",
    )
    pause: str | None = Field(
        None,
        min_length=1,
        max_length=300,
        description="what a person must do now (a template); the run waits for Continue, "
        "from the requester or an approver; Abort, or no answer within `timeout`, fails the "
        "step (the rollback runs)",
    )
    for_each: Loop | None = Field(
        None,
        description="repeat `steps` for each node (as {{ node }}) or each resource running on "
        "one node when the run is planned (as {{ resource }}, on {{ home }}); each step's name "
        "is prefixed with the node or resource",
    )
    steps: tuple[Step, ...] | None = Field(None, description="the steps of a for_each group")
    timeout: float = Field(60, gt=0, le=4 * 3600)
    unless: tuple[Predicate, ...] = Field((), description="skip when all of these hold")

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [
            k for k in ("run", "wait", "cib", "pause", "steps") if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                f"a step is exactly one of run, wait, cib, pause, for_each steps "
                f"(got {kinds or 'none'})"
            )
        if self.run is not None and not self.run:
            raise ValueError("run needs an argv")
        if self.crmsh is not None and (self.run is None or not self.crmsh):
            raise ValueError("crmsh is a run step's other form: give run too, and an argv")
        if self.crmsh_cib is not None and (
            self.cib is None or not self.crmsh_cib or not all(self.crmsh_cib)
        ):
            raise ValueError("crmsh_cib is a cib step's other form: give cib too, and crm edits")
        if self.cib is not None and not all(self.cib):
            raise ValueError("every cib edit needs pcs arguments")
        if (self.steps is None) != (self.for_each is None):
            raise ValueError("for_each and steps go together")
        if self.steps is not None:
            if not self.steps:
                raise ValueError("a for_each group needs steps")
            if any(s.steps is not None for s in self.steps):
                raise ValueError("a for_each group cannot hold another")
            if self.unless:
                raise ValueError("a for_each group has no unless (give it to its steps)")
        return self

    @property
    def kind(self) -> str:
        if self.run is not None:
            return "run"
        if self.wait is not None:
            return "wait"
        if self.steps is not None:
            return "for_each"
        return "cib" if self.cib is not None else "pause"

    def leaves(self) -> tuple[Step, ...]:
        """The step itself, or a group's steps (once each, whatever the repetitions)."""
        return self.steps if self.steps is not None else (self,)


class Approval(StrEnum):
    NONE = "none"
    ONE = "one"
    TWO = "two"


class Runbook(_Strict):
    name: RunbookName
    summary: str = Field(min_length=1, max_length=200)
    description: str = ""
    destructive: bool = False
    approval: Approval = Approval.ONE
    aliases: tuple[RunbookName, ...] = ()
    parameters: dict[Identifier, Parameter] = {}
    preconditions: tuple[Predicate, ...] = ()
    preview: tuple[tuple[ArgvElement, ...], ...] = Field(
        (), description="pcs edits (as with `pcs -f SHADOW`) whose effect crm_simulate shows"
    )
    steps: tuple[Step, ...] = Field(min_length=1)
    expects: tuple[RuleId, ...] = Field(
        (),
        description="alert rules a run of this runbook causes on purpose, for what its "
        "parameters name (the node it fences, the resource it moves): while it runs, those "
        "alerts go to its thread as progress, not to the alerts channel",
    )
    on_failure: Literal["stop", "rollback"] = "stop"
    rollback: tuple[Step, ...] = ()

    @model_validator(mode="after")
    def _rollback_declared(self) -> Runbook:
        if self.on_failure == "rollback" and not self.rollback:
            raise ValueError("on_failure: rollback needs rollback steps")
        for step in (*self.steps, *self.rollback):
            taken = set(step.for_each.variables) & set(self.parameters) if step.for_each else ()
            if taken:
                raise ValueError(
                    f"step {step.name!r}: for_each {step.for_each} names "
                    f"{', '.join(sorted(taken))}, already a parameter"
                )
        return self

    def leaf_steps(self) -> tuple[Step, ...]:
        """Every step that runs something, groups opened (steps, then rollback)."""
        return tuple(leaf for s in (*self.steps, *self.rollback) for leaf in s.leaves())

    @property
    def approvals_needed(self) -> int:
        return {Approval.NONE: 0, Approval.ONE: 1, Approval.TWO: 2}[self.approval]
