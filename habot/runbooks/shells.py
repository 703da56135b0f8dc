"""The cluster shells habot's steps speak (pure): pcs, the Red Hat family's, and crmsh, SUSE's
(`crm`). A runbook step gives its pcs form; its crmsh form is the step's own `crmsh:` when it
gives one, else the translation below of a pcs command whose meaning crmsh has too. Both are
element by element, so a template stays one element and a value stays one argument.

What crmsh does differently is the runbooks' business, not the translation's: `crm resource
move` waits for nothing and leaves its constraint (the runbooks wait for the resource and
clear what is left, as they do for pcs), `crm resource start` sets target-role where `pcs
resource enable` deletes it (the same meaning), and a prompt is answered "no" (`--no`), never
"yes"."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

CRM = ("crm", "--no")  # never a prompt: answered "no" (a step that needs "yes" fails, and says so)


class Shell(StrEnum):
    PCS = "pcs"
    CRMSH = "crmsh"

    @property
    def program(self) -> str:
        """The program a node needs for it."""
        return "pcs" if self is Shell.PCS else "crm"


# pcs words -> crmsh words, where the arguments that follow keep their places
_SAME_ARGS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("resource", "move"): ("resource", "move"),
    ("resource", "ban"): ("resource", "ban"),
    ("resource", "refresh"): ("resource", "refresh"),
    ("resource", "enable"): ("resource", "start"),
    ("resource", "disable"): ("resource", "stop"),
    ("resource", "restart"): ("resource", "restart"),
    ("resource", "manage"): ("resource", "manage"),
    ("resource", "unmanage"): ("resource", "unmanage"),
    ("node", "standby"): ("node", "standby"),
    ("node", "unstandby"): ("node", "online"),
    ("node", "maintenance"): ("node", "maintenance"),
    ("node", "unmaintenance"): ("node", "ready"),
    ("property", "set"): ("configure", "property"),
}
# how many arguments each takes after its words (pcs and crmsh alike)
_ARITY: dict[tuple[str, ...], tuple[int, ...]] = {
    ("resource", "move"): (2,),
    ("resource", "ban"): (2,),
    ("property", "set"): (1,),
    ("resource", "restart"): (1,),  # crmsh restarts everywhere: no node form
}


def crmsh_form(pcs: Sequence[str]) -> tuple[str, ...] | None:
    """The crmsh command that does what the pcs command `pcs` does (a template or rendered
    argv), or None when there is none (the step must give its own `crmsh:` form)."""
    if len(pcs) < 3 or pcs[0] != "pcs" or any(a.startswith("-") for a in pcs[1:3]):
        return None
    words, args = (pcs[1], pcs[2]), tuple(pcs[3:])
    if words in _SAME_ARGS and len(args) in _ARITY.get(words, (1,)):
        return (*CRM, *_SAME_ARGS[words], *args)
    return _reworded(words, args)


def _reworded(words: tuple[str, str], args: tuple[str, ...]) -> tuple[str, ...] | None:
    """The pcs commands whose arguments crmsh takes in another shape."""
    if words == ("resource", "ban") and len(args) == 3 and args[2].startswith("lifetime="):
        return (*CRM, "resource", "ban", args[0], args[1], args[2].removeprefix("lifetime="))
    if words == ("resource", "cleanup") and len(args) == 1:
        return (*CRM, "resource", "cleanup", args[0])
    if words == ("resource", "cleanup") and len(args) == 2 and args[1].startswith("node="):
        return (*CRM, "resource", "cleanup", args[0], args[1].removeprefix("node="))
    if words == ("resource", "clear") and len(args) == 1:
        return (*CRM, "resource", "clear", args[0])
    if words == ("resource", "clear") and len(args) == 2:  # crmsh's clear takes no node
        return ("crm_resource", "--clear", "--resource", args[0], "--node", args[1])
    if words == ("stonith", "history") and len(args) == 2 and args[0] == "cleanup":
        return ("stonith_admin", "--history", args[1], "--cleanup")
    return None


def chosen(configured: str, found: Sequence[str] | None) -> tuple[Shell | None, str]:
    """The shell to speak to a cluster — configured (`pcs`, `crmsh`) or `auto`: the one found
    on the node that answered (pcs when both are) — and how it was chosen, in words; None
    with the reason when the one needed is not there. `found`: the programs the node has
    (`pcs`, `crm`), or None when the node did not say (an older habot-node: pcs)."""
    if configured in (Shell.PCS, Shell.CRMSH):
        shell = Shell(configured)
        if found is not None and shell.program not in found:
            return None, (
                f"the cluster's shell is {shell} (configured) but `{shell.program}` is not "
                "installed on the node that answered"
            )
        return shell, f"{shell}, as configured"
    if found is None:
        return Shell.PCS, "pcs: the node did not say which shell it has"
    if "pcs" in found:
        return Shell.PCS, "pcs, found on the nodes" + (" beside crmsh" if "crm" in found else "")
    if "crm" in found:
        return Shell.CRMSH, "crmsh, found on the nodes"
    return None, "neither pcs nor crmsh is installed on the node that answered"
