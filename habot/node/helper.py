#!/usr/bin/python3 -I
"""habot-node: the one program habot's node user may run as root (through sudo).

Installed root-owned on every node (`habot node-files` writes it, its rules and the sudoers
line), it receives habot's argv exactly as sent — sudo hands a program its arguments one by
one, it only *matches* them joined by spaces — and runs a command only when every argument
matches, one by one, the regular expression of the same position in one of its rules (the
runbooks' steps with their parameters' shapes, and habot's own reads). Two words merged into
one argument, or one split in two, match nothing. It runs from `/`, with a fixed PATH and
nothing of the caller's environment.

    habot-node exec COMMAND ARG...     one rule's command (argv exactly)
    habot-node status                   crm_mon, the constraints and the cluster name
    habot-node cib push|simulate EDITS  pull the CIB, apply the pcs edits (a JSON list of
                                        argument lists, each matching a `cib:` rule), then
                                        push it once or ask crm_simulate — one step, in a
                                        directory only root can enter, removed afterwards

It reads its rules from `rules.json` beside itself (root-owned too). It imports nothing but
Python's standard library, and never evaluates what it is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXIT_REFUSED = 77  # EX_NOPERM: the rules do not allow it (habot says "the node refused it")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
SEPARATOR = "--habot-section--"
STATUS = (
    ("crm_mon", "--one-shot", "--inactive", "--output-as=xml"),
    ("cibadmin", "--query", "--scope", "constraints"),
    ("crm_attribute", "--type", "crm_config", "--name", "cluster-name", "--query", "--quiet"),
)
MAX_EDITS = 64


class Refused(Exception):
    pass


def rules_file() -> Path:
    return Path(os.path.realpath(__file__)).parent / "rules.json"


def load_rules(path: Path) -> dict[str, object]:
    rules = json.loads(path.read_text())
    if not isinstance(rules, dict) or rules.get("version") != 1:
        raise Refused(f"{path}: not a habot-node rules file (version 1)")
    return rules


def matches(patterns: list[str], args: list[str]) -> bool:
    """Each argument against the pattern of its own position, whole; the same count."""
    if len(patterns) != len(args):
        return False
    return all(re.fullmatch(p, a) is not None for p, a in zip(patterns, args, strict=True))


def allowed(rules: dict[str, object], kind: str, command: str, args: list[str]) -> str:
    """The path of the command a rule allows `args` for; Refused when none does."""
    for rule in rules.get(kind, []):  # type: ignore[attr-defined]
        if rule["command"] == command and matches(rule["args"], args):
            return path_of(rules, command)
    shown = " ".join([command, *args])[:300]
    raise Refused(f"no rule allows `{shown}`")


def path_of(rules: dict[str, object], command: str) -> str:
    path = rules.get("paths", {}).get(command)  # type: ignore[attr-defined]
    if not isinstance(path, str) or not path.startswith("/"):
        raise Refused(f"no path for `{command}` in the rules")
    return path


def clean(text: str) -> bool:
    """No control character (a NUL, a newline) in an argument: none of habot's has one."""
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


def run_exec(rules: dict[str, object], argv: list[str]) -> int:
    if not argv or not all(clean(a) for a in argv):
        raise Refused("an empty command, or a control character in an argument")
    path = allowed(rules, "commands", argv[0], argv[1:])
    os.chdir("/")
    os.execve(path, [path, *argv[1:]], ENV)  # a rule's own path, argv exactly
    return 0  # not reached


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, cwd="/", env=ENV, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def run_status(rules: dict[str, object]) -> int:
    """The status read as one fixed program: no argument, nothing to split."""
    argvs = [[path_of(rules, argv[0]), *argv[1:]] for argv in STATUS]
    first = run(argvs[0], stdout=subprocess.PIPE)
    out = sys.stdout.buffer
    out.write(first.stdout)
    for argv in argvs[1:]:
        out.write(f"\n{SEPARATOR}\n".encode())
        done = run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out.write(done.stdout)
    out.flush()
    return first.returncode


def parse_edits(rules: dict[str, object], text: str) -> list[tuple[str, list[str]]]:
    try:
        edits = json.loads(text)
    except ValueError as e:
        raise Refused("the edits are not JSON") from e
    if not isinstance(edits, list) or not 0 < len(edits) <= MAX_EDITS:
        raise Refused(f"the edits must be a list of 1 to {MAX_EDITS} argument lists")
    checked = []
    for edit in edits:
        if not isinstance(edit, list) or not all(isinstance(a, str) and clean(a) for a in edit):
            raise Refused("each edit is a list of plain strings")
        checked.append((allowed(rules, "cib_edits", "pcs", edit), edit))
    return checked


def run_cib(rules: dict[str, object], action: str, text: str) -> int:
    """Pull, edit, then push or simulate: one step, in a directory only root can enter."""
    if action not in ("push", "simulate"):
        raise Refused("cib: push or simulate")
    edits = parse_edits(rules, text)
    pcs = path_of(rules, "pcs")
    private = tempfile.mkdtemp(prefix="habot-cib.", dir="/run")  # 0700, root's, unguessable
    shadow = os.path.join(private, "cib.xml")
    try:
        steps = [[pcs, "cluster", "cib", shadow]]
        steps += [[path, "-f", shadow, *edit] for path, edit in edits]
        if action == "push":
            steps.append([pcs, "cluster", "cib-push", shadow, "--config"])
        for argv in steps:
            done = run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            sys.stdout.buffer.write(done.stdout)
            sys.stderr.buffer.write(done.stderr)
            if done.returncode != 0:
                shown = " ".join(argv[3:] if argv[1] == "-f" else argv[1:3])
                sys.stderr.write(f"habot-node: `pcs {shown}` failed; nothing was pushed\n")
                return done.returncode
        if action == "simulate":
            simulate = path_of(rules, "crm_simulate")
            argv = [simulate, "--simulate", "--xml-file", shadow, "--output-as=xml"]
            done = run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            sys.stdout.buffer.write(done.stdout)
            sys.stderr.buffer.write(done.stderr)
            return done.returncode
        return 0
    finally:
        shutil.rmtree(private, ignore_errors=True)


def main(argv: list[str]) -> int:
    try:
        rules = load_rules(rules_file())
        if argv[:1] == ["exec"]:
            return run_exec(rules, argv[1:])
        if argv == ["status"]:
            return run_status(rules)
        if len(argv) == 3 and argv[0] == "cib":
            return run_cib(rules, argv[1], argv[2])
        raise Refused("usage: habot-node exec COMMAND ARG... | status | cib push|simulate EDITS")
    except Refused as e:
        sys.stderr.write(f"habot-node: refused: {e}\n")
        return EXIT_REFUSED
    except OSError as e:
        sys.stderr.write(f"habot-node: {e}\n")
        return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
