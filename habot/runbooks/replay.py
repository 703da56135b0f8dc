"""Which of a runbook's steps can be replayed on a shadow CIB (pure): a `pcs` command that only
edits the configuration becomes `pcs -f SHADOW …`, so crm_simulate can say what the cluster
would do before anyone approves. What only acts on the live cluster (a restart, a cleanup,
`pcs cluster stop`, fencing, mkfs, a script) cannot be: it is named on the card instead."""

from __future__ import annotations

from collections.abc import Sequence

# (pcs area, subcommand) whose effect is a CIB edit `pcs -f` applies as well
EDITS = {
    "resource": {
        "ban",
        "clear",
        "move-with-constraint",
        "enable",
        "disable",
        "manage",
        "unmanage",
        "create",
        "update",
        "meta",
        "clone",
        "promotable",
        "group",
        "ungroup",
        "unclone",
        "op",
        "defaults",
        "op-defaults",
    },
    "constraint": {"location", "colocation", "order", "remove", "delete", "ticket"},
    "property": {"set", "unset"},
    "node": {"standby", "unstandby", "maintenance", "unmaintenance", "attribute", "utilization"},
    "stonith": {"create", "update", "enable", "disable", "level", "delete"},
}
# `pcs resource move` waits on the live cluster; its CIB effect is move-with-constraint's
RENAMED = {("resource", "move"): ("resource", "move-with-constraint")}


def edit_of(argv: Sequence[str]) -> tuple[str, ...] | None:
    """The `pcs -f` arguments that replay this command on a shadow CIB, or None."""
    if len(argv) < 3 or argv[0] != "pcs":
        return None
    area, sub = RENAMED.get((argv[1], argv[2]), (argv[1], argv[2]))
    if sub not in EDITS.get(area, ()):
        return None
    return (area, sub, *(a for a in argv[3:] if not a.startswith("--wait")))


def shown(argv: Sequence[str]) -> str:
    """A command named on the card: its program and first words."""
    return " ".join(argv[:3]) + (" …" if len(argv) > 3 else "")


def may_edit(template: Sequence[str]) -> tuple[str, ...] | None:
    """`edit_of` for a step's argv template: a subcommand that is itself a template (one of a
    choice's values) may render to an edit, so its `pcs -f` shape is allowed too."""
    if len(template) >= 3 and template[0] == "pcs" and "{" in template[2]:
        return tuple(template[1:]) if template[1] in EDITS else None
    return edit_of(template)
