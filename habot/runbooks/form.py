"""A runbook's parameters as a form (pure): one field per parameter, the menus filled from a
live status, defaults and prefilled values as initial values, the runbook's help as hints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from habot.cluster.model import ClusterStatus
from habot.runbooks.model import Parameter, ParamType, Runbook
from habot.runbooks.plan import MAX_VALUE_LENGTH

STATIC_MAX = 100  # options in one static menu (Block Kit); more: loaded as the person types
OPTIONS_MAX = 100  # options in one answer to a typed filter
VALUE_MAX = 150  # characters of an option's value (Block Kit): a longer name is typed instead
BOOL = ("true", "false")
MENUS = (ParamType.RESOURCE, ParamType.NODE, ParamType.CHOICE, ParamType.BOOL)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: ParamType
    help: str
    required: bool  # no default anywhere: empty is not accepted
    initial: str | None = None
    options: tuple[str, ...] = ()  # a menu's entries (empty when `external`)
    external: bool = False  # too many for one menu: offered as the person types
    typed: bool = False  # a name typed, not chosen: the person may not see the cluster
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None

    @property
    def is_menu(self) -> bool:
        return self.kind in MENUS


@dataclass(frozen=True, slots=True)
class Form:
    cluster: str
    runbook: Runbook
    fields: tuple[Field, ...]


def missing(
    runbook: Runbook, given: Mapping[str, str], defaults: Mapping[str, str]
) -> tuple[str, ...]:
    """The parameters nobody gave a value for: the form asks for them."""
    return tuple(
        name
        for name, spec in runbook.parameters.items()
        if name not in given and name not in defaults and spec.default is None
    )


def make_form(
    runbook: Runbook,
    status: ClusterStatus | None,
    *,
    cluster: str,
    defaults: Mapping[str, str] = {},
    prefill: Mapping[str, str] = {},
) -> Form:
    """`defaults`: the cluster's configured `runbook_params`; `prefill`: values already known
    (typed with the command, or carried by an alert). Without a status (the person may ask
    for the runbook but not view the cluster), resources and nodes are typed, not listed."""
    fields = tuple(
        _field(name, spec, status, prefill.get(name, defaults.get(name)), name in defaults)
        for name, spec in runbook.parameters.items()
    )
    return Form(cluster, runbook, fields)


def _field(
    name: str, spec: Parameter, status: ClusterStatus | None, given: str | None, configured: bool
) -> Field:
    initial = given if given is not None else _text(spec.default)
    if status is None and spec.type in (ParamType.RESOURCE, ParamType.NODE):
        return Field(
            name=name,
            kind=spec.type,
            help=spec.help,
            required=spec.default is None and not configured,
            initial=initial[:MAX_VALUE_LENGTH] if initial is not None else None,
            typed=True,
        )
    choices = entries(spec, status)
    external = len(choices) > STATIC_MAX
    if spec.type in MENUS and not external and initial not in choices:
        initial = None  # a menu starts on an entry it has, or on none
    return Field(
        name=name,
        kind=spec.type,
        help=spec.help,
        required=spec.default is None and not configured,
        initial=initial[:MAX_VALUE_LENGTH] if initial is not None else None,
        options=() if external else choices,
        external=external,
        minimum=spec.min,
        maximum=spec.max,
        pattern=spec.pattern,
    )


def entries(spec: Parameter, status: ClusterStatus | None) -> tuple[str, ...]:
    """What a parameter's menu offers: the cluster's resources (each top-level resource and
    the primitives inside it), its nodes (online ones when it must be online), the choices."""
    if spec.type in (ParamType.RESOURCE, ParamType.NODE) and status is None:
        return ()
    if spec.type is ParamType.RESOURCE and status is not None:
        names = (n for r in status.resources for n in (r.id, *r.primitive_ids))
        return tuple(dict.fromkeys(n for n in names if len(n) <= VALUE_MAX))
    if spec.type is ParamType.NODE and status is not None:
        return status.online_nodes if spec.online else tuple(n.name for n in status.nodes)
    if spec.type is ParamType.CHOICE:
        return spec.choices
    if spec.type is ParamType.BOOL:
        return BOOL
    return ()


def matching(choices: tuple[str, ...], typed: str, limit: int = OPTIONS_MAX) -> tuple[str, ...]:
    """The entries holding what was typed (any case): those starting with it first."""
    needle = typed.strip().lower()
    found = [c for c in choices if needle in c.lower()]
    found.sort(key=lambda c: (not c.lower().startswith(needle), c.lower()))
    return tuple(found[:limit])


def _text(value: str | int | bool | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
