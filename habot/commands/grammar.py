"""`/ha ...` text into a typed command (pure). Anything else is a UsageError with the usage."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from habot.errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")

USAGE = """\
`/ha status [CLUSTER]` — nodes, resources, failed actions and warnings
`/ha help` — this list"""


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Status:
    cluster: str | None = None


Command = Help | Status


def parse(text: str) -> Command:
    words = _split(text)
    if not words or words[0] in ("help", "-h", "--help"):
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb == "status":
        return Status(cluster=_optional_name(args, "status"))
    raise UsageError(f"unknown command `{words[0][:40]}`")


def _split(text: str) -> list[str]:
    try:
        words = shlex.split(text.strip())
    except ValueError as e:
        raise UsageError(f"cannot read that command: {e}") from e
    if words and words[0] == "/ha":
        words = words[1:]
    return words


def _optional_name(args: list[str], verb: str) -> str | None:
    if len(args) > 1:
        raise UsageError(f"`{verb}` takes at most one cluster name")
    if not args:
        return None
    return name(args[0], "cluster")


def name(text: str, what: str) -> str:
    """A resource, node or cluster name as typed: refused unless it looks like one."""
    if not NAME.match(text):
        raise UsageError(f"`{text[:40]}` is not a valid {what} name")
    return text
