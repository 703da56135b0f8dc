"""A private directory on a node for a run's own files (shadow CIBs): `mktemp -d` makes it
0700 under a name nobody can guess, and it is removed whatever the outcome.

Through sudo, the whole shadow CIB — pull, edits, push or simulate — is one step of
habot-node (`helper_cib`), in a directory only root can enter: the node user can neither
plant a path for a root `pcs -f` to write through nor push a file it did not pull. A root
login or an unprivileged user without sudo (an ACL setup) uses /tmp and separate commands."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

from habot.errors import TransportError
from habot.node import HELPER
from habot.ssh.transport import NodeAddress, Transport

MKTEMP = ("mktemp", "-d", "/tmp/habot.XXXXXXXXXX")
MKTEMP_ROOT = ("mktemp", "-d", "/run/habot.XXXXXXXXXX")
# What each may make; the sudoers rules for shadow CIBs use the /run one.
MADE = r"/tmp/habot\.[A-Za-z0-9]{10}"
MADE_ROOT = r"/run/habot\.[A-Za-z0-9]{10}"
_MADE = re.compile(f"{MADE}|{MADE_ROOT}")


def mktemp(node: NodeAddress) -> tuple[str, ...]:
    return MKTEMP_ROOT if node.sudo else MKTEMP


def made_dir(node: str, rc: int | None, output: str) -> str:
    """The directory `mktemp -d` made, checked to be what was asked for."""
    path = output.strip()
    if rc != 0 or not _MADE.fullmatch(path):
        raise TransportError(
            node, f"cannot make a private directory (mktemp rc {rc}): {path[-200:]}"
        )
    return path


def removal(path: str) -> tuple[str, ...]:
    if not _MADE.fullmatch(path):
        raise ValueError(f"not a habot scratch directory: {path!r}")
    return ("rm", "-rf", "--", path)


@asynccontextmanager
async def scratch_dir(
    transport: Transport, node: NodeAddress, *, timeout: float
) -> AsyncIterator[str]:
    made = await transport.run(node, mktemp(node), timeout=timeout)
    path = made_dir(node.name, made.exit_status, made.stdout_text + made.stderr_text)
    try:
        yield path
    finally:
        with suppress(TransportError):  # the node went away: its /tmp is its own to clean
            await transport.run(node, removal(path), timeout=timeout)


# -- the shadow CIB in such a directory ----------------------------------------------------


# crmsh's edits (["crm", ARGS...]: a cluster with no pcs) on a copy pulled with cibadmin, and
# pushed as the difference: fixed scripts, the paths their arguments.
_PULL = 'exec cibadmin --query > "$1"'
_PUSH = (
    'crm_diff --original "$1" --new "$2" --no-version > "$3"; rc=$?; '
    '[ "$rc" -eq 0 ] && exit 0; [ "$rc" -eq 1 ] || exit "$rc"; '
    'exec cibadmin --patch --xml-file "$3"'
)


def is_crmsh(edits: Sequence[Sequence[str]]) -> bool:
    return bool(edits) and tuple(edits[0][:1]) == ("crm",)


def shadow_pull(shadow: str, crmsh: bool = False) -> tuple[str, ...]:
    if crmsh:
        return ("sh", "-c", _PULL, "habot-pull", shadow)
    return ("pcs", "cluster", "cib", shadow)


def shadow_edit(shadow: str, edit: Sequence[str]) -> tuple[str, ...]:
    if tuple(edit[:1]) == ("crm",):
        return ("env", f"CIB_file={shadow}", "crm", "--no", *edit[1:])
    return ("pcs", "-f", shadow, *edit)


def shadow_keep(shadow: str) -> tuple[str, ...]:
    """A copy of the CIB as pulled: what the push diffs against."""
    return ("cp", "--", shadow, original_of(shadow))


def original_of(shadow: str) -> str:
    return shadow.removesuffix(".xml") + "-original.xml"


def shadow_push(shadow: str, crmsh: bool = False) -> tuple[str, ...]:
    """Only habot's own changes: the difference between the pulled copy and the edited one,
    applied to the CIB as it is by then (`cibadmin --patch`) — what someone else changed
    meanwhile stays, and a change of habot's that no longer applies fails the push."""
    if crmsh:
        patch = shadow.removesuffix(".xml") + "-patch.xml"
        return ("sh", "-c", _PUSH, "habot-push", original_of(shadow), shadow, patch)
    return ("pcs", "cluster", "cib-push", shadow, f"diff-against={original_of(shadow)}")


def shadow_simulate(shadow: str) -> tuple[str, ...]:
    return ("crm_simulate", "--simulate", "--xml-file", shadow, "--output-as=xml")


def helper_cib(action: str, edits: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """habot-node's one step: pull the CIB, apply `edits`, then push it or simulate it."""
    return (HELPER, "cib", action, json.dumps([list(e) for e in edits], separators=(",", ":")))
