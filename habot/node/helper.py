#!/usr/bin/python3 -I
"""habot-node: the one program habot's node user may run as root (through sudo).

Installed root-owned on every node (`habot node-files` writes it, its rules and the sudoers
line), it receives habot's argv exactly as sent — sudo hands a program its arguments one by
one, it only *matches* them joined by spaces — and runs a command only when every argument
matches, one by one, the regular expression of the same position in one of its rules (the
runbooks' steps with their parameters' shapes). Two words merged into one argument, or one
split in two, match nothing. It runs from `/`, with a fixed PATH and nothing of the caller's
environment.

    habot-node exec COMMAND ARG...       one rule's command (argv exactly)
    habot-node status                     crm_mon, the constraints and the cluster name
    habot-node cib push|simulate EDITS    pull the CIB, apply the pcs edits (a JSON list of
                                          argument lists, each matching a `cib:` rule; or
                                          crmsh's, each ["crm", ARGS...]), then
                                          push habot's own changes once (a diff against what
                                          it pulled: what others changed meanwhile stays) or
                                          ask crm_simulate — one step, in a directory only
                                          root can enter, removed afterwards
    habot-node journal MODE               the cluster's daemons' journal records, selected on
                                          what only root and hacluster can write
    habot-node log stat|read PATH [OFFSET LENGTH]
                                          a configured log file (or its rotation `.1`):
                                          opened one path component at a time from `/`,
                                          never through a link, only a regular file with one
                                          link owned by its directory's owner; read by offset
    habot-node write-new PATH TEXT        a new file (never over one, never through a link,
                                          only in directories root alone can write)

    habot-node session NONCE             the reads above, one request a line, each answer
                                          framed by length: one sudo and one start for many

It reads its rules from `rules.json` beside itself (root-owned too). Run without an installed
copy (`python3 -I -c SOURCE VERB ...`, what habot does on nodes it logs into as root), it has
no rules: it runs what it is given as that user, and its reads and writes walk paths exactly
as above. It imports nothing but Python's standard library, and never evaluates what it is
given.
"""

from __future__ import annotations

import contextlib
import errno
import io as io_module
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

EXIT_REFUSED = 77  # EX_NOPERM: the rules do not allow it (habot says "the node refused it")
EXIT_MISSING = 1  # a log file that is not there (yet)
RULES_VERSION = 2
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
SEPARATOR = "--habot-section--"
STATUS = (
    ("crm_mon", "--one-shot", "--inactive", "--output-as=xml"),
    ("cibadmin", "--query", "--scope", "constraints"),
    ("crm_attribute", "--type", "crm_config", "--name", "cluster-name", "--query", "--quiet"),
)
SHELLS = ("pcs", "crm")  # said after the status: which one habot's steps may speak here
MAX_EDITS = 64
MAX_READ = 64 * 1024 * 1024  # bytes of one `log read`
MAX_WRITE = 64 * 1024  # bytes of one `write-new`
# The journal: the pacemaker daemons (2.0+ names and 1.1's), corosync, the DLM and fencing.
IDENTIFIERS = (
    "pacemakerd",
    "pacemaker-based",
    "pacemaker-fenced",
    "pacemaker-execd",
    "pacemaker-attrd",
    "pacemaker-schedulerd",
    "pacemaker-controld",
    "cib",
    "stonith-ng",
    "lrmd",
    "attrd",
    "pengine",
    "crmd",
    "corosync",
    "dlm_controld",
    "fence_legacy",
    "stonith",
    "drbd",
)
DAEMON_DIRS = ("/usr/lib/pacemaker", "/usr/libexec/pacemaker")
SBIN_DAEMONS = ("/usr/sbin/pacemakerd", "/usr/sbin/corosync", "/usr/sbin/dlm_controld")
DAEMON_USER = "hacluster"  # the pacemaker daemons that do not run as root run as this user
FACILITY_DAEMON = 3  # syslog's "daemon": the resource agents log there, as root
CURSOR = re.compile(r"[A-Za-z0-9=;]{1,255}")
JOURNAL_MODES = (
    re.compile(r"--since=@[0-9]{1,15}"),
    re.compile(r"--after-cursor=[A-Za-z0-9=;]{1,255} --lines=[0-9]{1,5}"),
    re.compile(r"--follow --lines=0"),
    re.compile(r"--follow --after-cursor=[A-Za-z0-9=;]{1,255}"),
)
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


class Refused(Exception):
    pass


def rules_file() -> Path | None:
    """rules.json beside the installed helper; None when run from source (`-c`)."""
    here = globals().get("__file__")
    return Path(os.path.realpath(here)).parent / "rules.json" if here else None


def load_rules(path: Path | None) -> dict[str, object] | None:
    if path is None:
        return None
    rules = json.loads(path.read_text())
    if not isinstance(rules, dict) or rules.get("version") != RULES_VERSION:
        raise Refused(f"{path}: not a habot-node rules file (version {RULES_VERSION})")
    return rules


def matches(patterns: list[str], args: list[str]) -> bool:
    """Each argument against the pattern of its own position, whole; the same count."""
    if len(patterns) != len(args):
        return False
    return all(re.fullmatch(p, a) is not None for p, a in zip(patterns, args, strict=True))


def allowed(rules: dict[str, object], kind: str, command: str, args: list[str]) -> str:
    """The path of the command a rule allows `args` for; Refused when none does."""
    permitted(rules, kind, command, args)
    return path_of(rules, command)


def permitted(rules: dict[str, object], kind: str, command: str, args: list[str]) -> None:
    """Refused unless one rule of `kind` allows `command` with exactly these arguments."""
    for rule in rules.get(kind, []):  # type: ignore[attr-defined]
        if rule["command"] == command and matches(rule["args"], args):
            return
    shown = " ".join([command, *args])[:300]
    raise Refused(f"no rule allows `{shown}`")


def path_of(rules: dict[str, object] | None, command: str) -> str:
    if rules is None:  # run from source by root: the standard places
        return shutil.which(command, path=ENV["PATH"]) or command
    path = rules.get("paths", {}).get(command)  # type: ignore[attr-defined]
    if not isinstance(path, str) or not path.startswith("/"):
        raise Refused(f"no path for `{command}` in the rules")
    return path


def clean(text: str) -> bool:
    """No control character (a NUL, a newline) in an argument: none of habot's has one."""
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


class Output:
    """Where a verb writes: the process's own stdout and stderr (one command), or buffers
    the session frames into one reply."""

    def __init__(self, out: BinaryIO, err: BinaryIO) -> None:
        self.out, self.err = out, err

    def say(self, text: str) -> None:
        self.err.write(text.encode())


@dataclass(frozen=True)
class Program:
    """A command to run as it is (exec'd in place of the helper, or run by a session)."""

    path: str
    argv: list[str]


def run_exec(rules: dict[str, object] | None, argv: list[str]) -> Program:
    """A rule's command, by the rule's own path, argv exactly. Run from its source (a root
    login, or a user whose rights come from Pacemaker ACLs), the helper has no rules: it runs
    what it is given, as that user could anyway."""
    if not argv:
        raise Refused("an empty command")
    if rules is None:  # what that user could run anyway
        return Program(path_of(None, argv[0]), argv)
    if not all(clean(a) for a in argv):
        raise Refused("a control character in an argument")
    path = allowed(rules, "commands", argv[0], argv[1:])
    return Program(path, [path, *argv[1:]])


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv,
        cwd="/",
        env=env or ENV,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def run_status(rules: dict[str, object] | None, io: Output) -> int:
    """The status read as one fixed program: no argument, nothing to split."""
    argvs = [[path_of(rules, argv[0]), *argv[1:]] for argv in STATUS]
    first = run(argvs[0])
    io.out.write(first.stdout)
    for argv in argvs[1:]:
        io.out.write(f"\n{SEPARATOR}\n".encode())
        io.out.write(run(argv).stdout)
    io.out.write(f"\n{SEPARATOR}\n".encode())  # the cluster shells this node has
    found = [name for name in SHELLS if shutil.which(name, path=ENV["PATH"])]
    io.out.write(" ".join(found).encode() + b"\n")
    return first.returncode


# -- the shadow CIB --------------------------------------------------------------------------


def parse_edits(rules: dict[str, object] | None, text: str) -> list[list[str]]:
    try:
        edits = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise Refused("the edits are not JSON") from e
    if not isinstance(edits, list) or not 0 < len(edits) <= MAX_EDITS:
        raise Refused(f"the edits must be a list of 1 to {MAX_EDITS} argument lists")
    for edit in edits:
        if not isinstance(edit, list) or not all(isinstance(a, str) and clean(a) for a in edit):
            raise Refused("each edit is a list of plain strings")
        if rules is not None:  # a crmsh edit is ["crm", ARGS...]; a pcs edit is pcs's ARGS
            command, args = ("crm", edit[1:]) if edit[:1] == ["crm"] else ("pcs", edit)
            permitted(rules, "cib_edits", command, args)
    return edits


def quick_edit(edit: list[str]) -> tuple[str, list[str]] | None:
    """The same edit with Pacemaker's own C tools (a fraction of pcs's Python start), for a
    simulation; None when there is no such form (pcs does it)."""
    if edit[:2] == ["node", "standby"] and len(edit) == 3:
        return "crm_attribute", ["--node", edit[2], "--name", "standby", "--update", "on"]
    if edit[:2] == ["node", "unstandby"] and len(edit) == 3:
        return "crm_attribute", ["--node", edit[2], "--name", "standby", "--update", "off"]
    if edit[:2] in (["node", "maintenance"], ["node", "unmaintenance"]) and len(edit) == 3:
        value = "on" if edit[1] == "maintenance" else "off"
        return "crm_attribute", ["--node", edit[2], "--name", "maintenance", "--update", value]
    if edit[:2] in (["resource", "move-with-constraint"], ["resource", "ban"]) and len(edit) == 4:
        verb = "--move" if edit[1] == "move-with-constraint" else "--ban"
        return "crm_resource", [verb, "--resource", edit[2], "--node", edit[3]]
    if edit[:2] == ["resource", "ban"] and len(edit) == 5 and edit[4].startswith("lifetime="):
        lifetime = edit[4].removeprefix("lifetime=")
        return "crm_resource", [
            "--ban",
            "--resource",
            edit[2],
            "--node",
            edit[3],
            "--lifetime",
            lifetime,
        ]
    if edit[:3] == ["constraint", "colocation", "delete"] and len(edit) == 5:
        if not all(re.fullmatch(r"[A-Za-z0-9_.:-]{1,128}", name) for name in edit[3:]):
            return None  # a name an XPath cannot hold as it is: pcs does it
        found = f"//rsc_colocation[@rsc='{edit[3]}'][@with-rsc='{edit[4]}']"
        return "cibadmin", ["--delete-all", "--force", "--xpath", found]
    if edit[:2] == ["resource", "clear"] and len(edit) in (3, 4):
        node = ["--node", edit[3]] if len(edit) == 4 else []
        return "crm_resource", ["--clear", "--resource", edit[2], *node]
    if edit[:2] == ["property", "set"] and len(edit) == 3 and "=" in edit[2]:
        name, _, value = edit[2].partition("=")
        return "crm_attribute", ["--type", "crm_config", "--name", name, "--update", value]
    meta = {"disable": ("target-role", "Stopped"), "enable": ("target-role", "Started")}
    meta |= {"unmanage": ("is-managed", "false"), "manage": ("is-managed", "true")}
    if edit[0] == "resource" and len(edit) == 3 and edit[1] in meta:
        name, value = meta[edit[1]]
        return "crm_resource", [
            "--resource", edit[2], "--meta", "--set-parameter", name, "--parameter-value", value,
        ]  # fmt: skip
    return None


def run_cib(rules: dict[str, object] | None, action: str, text: str, io: Output) -> int:
    """Pull, edit, then push or simulate: one step, in a directory only root can enter.
    The push is a diff against the pulled copy (`cib-push … diff-against=`): only habot's
    own changes are applied, on top of whatever the CIB holds by then — a constraint or a
    device someone added meanwhile stays, and a change that no longer applies fails. A
    simulation pulls with cibadmin and edits with crm_attribute and crm_resource where they
    can (`CIB_file`): no pcs at all for a standby, a move, a ban. crmsh's edits (["crm",
    ARGS...], a cluster with no pcs) are made the same way, with `crm --no ARGS`."""
    if action not in ("push", "simulate"):
        raise Refused("cib: push or simulate")
    edits = parse_edits(rules, text)
    private = tempfile.mkdtemp(prefix="habot-cib.", dir="/run")  # 0700, root's, unguessable
    shadow = os.path.join(private, "cib.xml")
    try:
        crm = [e for e in edits if e[:1] == ["crm"]]
        if action == "push" and crm:
            if len(crm) != len(edits):
                raise Refused("one step's edits are pcs's or crmsh's, not both")
            return _push_crmsh(rules, edits, private, io)
        if action == "push":
            return _push(rules, edits, private, io)
        if crm or all(quick_edit(e) is not None for e in edits):
            if not (_pulled(rules, shadow, io) and _edited(rules, edits, shadow, io)):
                return 1
            return _simulated(rules, shadow, io)
        pcs = path_of(rules, "pcs")
        if not _shown(run([pcs, "cluster", "cib", shadow]), io, "pcs cluster cib"):
            return 1
        for edit in edits:
            said = run([pcs, "-f", shadow, *edit])
            if not _shown(said, io, "pcs " + " ".join(edit), to_err=True):
                return 1
        return _simulated(rules, shadow, io)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _push(rules: dict[str, object] | None, edits: list[list[str]], private: str, io: Output) -> int:
    pcs = path_of(rules, "pcs")
    shadow, original = os.path.join(private, "cib.xml"), os.path.join(private, "original.xml")
    if not _shown(run([pcs, "cluster", "cib", shadow]), io, "pcs cluster cib"):
        return 1
    shutil.copyfile(shadow, original)
    for edit in edits:
        if not _shown(run([pcs, "-f", shadow, *edit]), io, "pcs " + " ".join(edit)):
            return 1
    done = run([pcs, "cluster", "cib-push", shadow, f"diff-against={original}"])
    _shown(done, io)
    return done.returncode


def _push_crmsh(
    rules: dict[str, object] | None, edits: list[list[str]], private: str, io: Output
) -> int:
    """crmsh's edits on the pulled copy, then the difference from it pushed (`crm_diff`,
    `cibadmin --patch`): what others changed meanwhile stays, as with pcs."""
    shadow, original = os.path.join(private, "cib.xml"), os.path.join(private, "original.xml")
    if not _pulled(rules, shadow, io):
        return 1
    shutil.copyfile(shadow, original)
    if not _edited(rules, edits, shadow, io):
        return 1
    patch = os.path.join(private, "patch.xml")
    diff = run(
        [path_of(rules, "crm_diff"), "--original", original, "--new", shadow, "--no-version"]
    )
    if diff.returncode == 0:  # no difference: nothing to push
        io.say("habot-node: the edits changed nothing; nothing was pushed\n")
        return 0
    if diff.returncode != 1:  # 1: there are differences, in its output
        _shown(diff, io, "crm_diff")
        return 1
    descriptor = os.open(patch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(diff.stdout)
    done = run([path_of(rules, "cibadmin"), "--patch", "--xml-file", patch])
    _shown(done, io)
    return done.returncode


def _edited(
    rules: dict[str, object] | None, edits: list[list[str]], shadow: str, io: Output
) -> bool:
    """Each edit made on the pulled copy (`CIB_file`): crmsh's with `crm --no`, a pcs edit by
    Pacemaker's own tool where it has one (else pcs `-f` the copy). Their notes go to stderr:
    a simulation's stdout is crm_simulate's XML alone."""
    env = {**ENV, "CIB_file": shadow, "HOME": os.path.dirname(shadow)}  # crmsh's history: HOME
    for edit in edits:
        argv = ["crm", "--no", *edit[1:]] if edit[:1] == ["crm"] else _native(edit, shadow)
        said = run([path_of(rules, argv[0]), *argv[1:]], env)
        if not _shown(said, io, " ".join(argv), to_err=True):
            return False
    return True


def _native(edit: list[str], shadow: str) -> list[str]:
    """A pcs edit as Pacemaker's own tools make it, or pcs itself (`-f` the copy) when they
    have no such form (on a node without pcs, that simulation fails and says so)."""
    quick = quick_edit(edit)
    return [quick[0], *quick[1]] if quick is not None else ["pcs", "-f", shadow, *edit]


def _pulled(rules: dict[str, object] | None, shadow: str, io: Output) -> bool:
    """The live CIB, whole, into `shadow` (a new file only root can read)."""
    pulled = run([path_of(rules, "cibadmin"), "--query"])
    if pulled.returncode != 0:
        io.err.write(pulled.stderr)
        io.say("habot-node: `cibadmin --query` failed; nothing was done\n")
        return False
    descriptor = os.open(shadow, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(pulled.stdout)
    return True


def _simulated(rules: dict[str, object] | None, shadow: str, io: Output) -> int:
    argv = [path_of(rules, "crm_simulate"), "--simulate", "--xml-file", shadow, "--output-as=xml"]
    done = run(argv)
    _shown(done, io)
    return done.returncode


def _shown(
    done: subprocess.CompletedProcess[bytes],
    io: Output,
    before_push: str = "",
    to_err: bool = False,
) -> bool:
    """The command's output passed on; a failure before the push says nothing was pushed.
    A simulation's edits pass theirs on stderr (`to_err`): its stdout is crm_simulate's XML
    alone (`crm_resource --ban` prints a warning on stdout)."""
    (io.err if to_err else io.out).write(done.stdout)
    io.err.write(done.stderr)
    if done.returncode != 0 and before_push:
        io.say(f"habot-node: `{before_push[:200]}` failed; nothing was pushed\n")
    return done.returncode == 0


# -- the journal -----------------------------------------------------------------------------


def journal_matches(daemon_uid: int | None) -> list[str]:
    """journalctl matches (`+` between alternatives) on what journald records itself and no
    local user can set: each alternative requires root, or the daemons' own user together
    with a daemon's own program, or the kernel. A user's `logger -t pacemaker-controld`, or a
    pacemaker binary run by a user (LD_PRELOAD can make it log anything), is never read."""
    uids = ["_UID=0"] + ([f"_UID={daemon_uid}"] if daemon_uid not in (None, 0) else [])
    daemons = [i for i in IDENTIFIERS if i not in ("pacemakerd", "corosync", "dlm_controld")]
    exes = [f"{d}/{i}" for i in daemons for d in DAEMON_DIRS] + list(SBIN_DAEMONS)
    argv = [f"SYSLOG_IDENTIFIER={i}" for i in IDENTIFIERS] + ["_UID=0"]
    argv += ["+", *(f"_EXE={exe}" for exe in exes), *uids]
    argv += ["+", "_TRANSPORT=kernel"]
    # resource agents log through logger(1) as "IPaddr2(VirtualIP)": root's daemon facility
    argv += ["+", "_TRANSPORT=syslog", f"SYSLOG_FACILITY={FACILITY_DAEMON}", "_UID=0"]
    return argv


def daemon_uid() -> int | None:
    try:
        return pwd.getpwnam(DAEMON_USER).pw_uid
    except KeyError:
        return None


def run_journal(rules: dict[str, object] | None, args: list[str]) -> Program:
    """`journalctl -o json` in one of four fixed modes, the selection the helper's own."""
    if not any(m.fullmatch(" ".join(args)) for m in JOURNAL_MODES) or not all(map(clean, args)):
        raise Refused("journal: --since=@T | --after-cursor=C --lines=N | --follow ...")
    journalctl = path_of(rules, "journalctl")
    argv = [journalctl, "-o", "json", "--no-pager", "--quiet", *args]
    return Program(journalctl, argv + journal_matches(daemon_uid()))


# -- files: walked from `/`, never through a link ---------------------------------------------


def walk(path: str, *, root_only: bool) -> tuple[int, str]:
    """A descriptor of the directory that holds `path`, and the last name: each component
    opened in the one before it, `O_NOFOLLOW | O_DIRECTORY`, so no link is followed anywhere
    on the way; with `root_only`, every directory must be root's and writable by root alone."""
    parts = path.split("/")
    if not path.startswith("/") or not all(clean(p) for p in parts):
        raise Refused(f"{path[:200]!r}: not an absolute path")
    if any(p in ("", ".", "..") for p in parts[1:]):
        raise Refused(f"{path[:200]}: empty, `.` or `..` components")
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    here = ""
    try:
        for part in parts[1:-1]:
            _root_only(fd, here or "/", root_only)
            here = f"{here}/{part}"
            try:
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=fd)
            except OSError as e:
                raise Refused(f"{here}: {_why(e, 'a directory')}") from e
            os.close(fd)
            fd = nxt
        _root_only(fd, here or "/", root_only)
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def _root_only(fd: int, where: str, required: bool) -> None:
    st = os.fstat(fd)
    if required and (st.st_uid != 0 or st.st_mode & 0o022):
        raise Refused(f"{where}: others than root may write in it (owner uid {st.st_uid})")


def _why(e: OSError, wanted: str) -> str:
    if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return f"not {wanted} (a symbolic link?); refused"
    return os.strerror(e.errno or 0)


def open_log(path: str) -> tuple[int, os.stat_result]:
    """A log file for reading: a regular file with one link, owned by its directory's owner
    (what pacemaker.log is in hacluster's /var/log/pacemaker, corosync.log in root's
    /var/log/corosync) — never a link, a device, a FIFO, a hard link to another file, or a
    file another user put in a directory it may write."""
    dir_fd, name = walk(path, root_only=False)
    try:
        owner = os.fstat(dir_fd).st_uid
        try:
            seen = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise
        except OSError as e:
            raise Refused(f"{path}: {os.strerror(e.errno or 0)}") from e
        _log_file(path, seen, owner)
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | _NOFOLLOW, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (seen.st_dev, seen.st_ino):
        os.close(fd)
        raise Refused(f"{path}: replaced while it was opened; refused")
    return fd, st


def _log_file(path: str, st: os.stat_result, owner: int) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise Refused(f"{path}: a symbolic link; refused")
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{path}: not a regular file; refused")
    if st.st_nlink != 1:
        raise Refused(f"{path}: {st.st_nlink} links to one file (a hard link?); refused")
    if st.st_uid != owner:
        raise Refused(f"{path}: owned by uid {st.st_uid}, not by its directory's owner; refused")


ROTATIONS = (".1", ".2")  # a log's older generations, read to their end


def logs_allowed(rules: dict[str, object] | None, path: str) -> None:
    if rules is None:
        return
    base = next((path[: -len(r)] for r in ROTATIONS if path.endswith(r)), path)
    if base not in rules.get("logs", []):  # type: ignore[operator]
        raise Refused(f"{path[:200]} is not one of the log files in the rules")


def run_log(rules: dict[str, object] | None, args: list[str], io: Output) -> int:
    if len(args) == 2 and args[0] == "stat":
        return log_stat(rules, args[1], io)
    if len(args) == 4 and args[0] == "read" and all(a.isdigit() for a in args[2:]):
        return log_read(rules, args[1], int(args[2]), int(args[3]), io)
    raise Refused("log stat PATH | log read PATH OFFSET LENGTH")


def log_stat(rules: dict[str, object] | None, path: str, io: Output) -> int:
    """`NAME INODE SIZE` of the file and of its older generations, each that can be read."""
    logs_allowed(rules, path)
    rc = 0
    for name in (path, *(f"{path}{r}" for r in ROTATIONS)):
        try:
            fd, st = open_log(name)
        except FileNotFoundError:
            io.say(f"habot-node: {name}: No such file or directory\n")
            rc = rc or (EXIT_MISSING if name == path else 0)
            continue
        except Refused as e:
            io.say(f"habot-node: refused: {e}\n")
            rc = rc or (EXIT_REFUSED if name == path else 0)
            continue
        os.close(fd)
        io.out.write(f"{name} {st.st_ino} {st.st_size}\n".encode())
    return rc


def log_read(
    rules: dict[str, object] | None, path: str, offset: int, length: int, io: Output
) -> int:
    logs_allowed(rules, path)
    if length > MAX_READ:
        raise Refused(f"at most {MAX_READ} bytes a read")
    try:
        fd, _ = open_log(path)
    except FileNotFoundError:
        io.say(f"habot-node: {path}: No such file or directory\n")
        return EXIT_MISSING
    try:
        while length > 0:
            chunk = os.pread(fd, min(length, 1 << 16), offset)
            if not chunk:
                break
            io.out.write(chunk)
            offset += len(chunk)
            length -= len(chunk)
    finally:
        os.close(fd)
    return 0


def run_write(rules: dict[str, object] | None, args: list[str], io: Output) -> int:
    """A new file with TEXT, 0644: never over an existing one (kept as it is), never through
    a link, only in directories that root alone can write all the way from `/`."""
    if len(args) != 2 or len(args[1].encode()) > MAX_WRITE:
        raise Refused("write-new PATH TEXT")
    path, text = args
    if rules is not None:
        permitted(rules, "writes", "write-new", [path, text])
    dir_fd, name = walk(path, root_only=True)
    try:
        try:
            fd = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644, dir_fd=dir_fd
            )
        except FileExistsError:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise Refused(f"{path}: exists and is not a regular file; refused") from None
            io.out.write(f"{path} exists; kept as it is\n".encode())
            return 0
        os.fchmod(fd, 0o644)  # world-readable whatever the umask (a page the web server serves)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n" if not text.endswith("\n") else "")
        io.out.write(f"{path} written\n".encode())
        return 0
    finally:
        os.close(dir_fd)


def answer(rules: dict[str, object] | None, argv: list[str], io: Output) -> int | Program:
    """One request: an exit code (what the verb wrote is in `io`), or a program to run."""
    verb, args = (argv[0], argv[1:]) if argv else ("", [])
    if verb == "exec":
        return run_exec(rules, args)
    if verb == "status" and not args:
        return run_status(rules, io)
    if verb == "cib" and len(args) == 2:
        return run_cib(rules, args[0], args[1], io)
    if verb == "journal":
        return run_journal(rules, args)
    if verb == "log":
        return run_log(rules, args, io)
    if verb == "write-new":
        return run_write(rules, args, io)
    raise Refused(
        "usage: habot-node exec COMMAND ARG... | status | cib push|simulate EDITS | "
        "journal MODE | log stat|read PATH ... | write-new PATH TEXT | session NONCE"
    )


# -- a session: one helper for many reads ------------------------------------------------------

SESSION_VERBS = ("exec", "status", "cib", "journal", "log")  # `write-new` has its own channel
MAX_REQUEST = 1 << 20  # bytes of one request line
MAX_REPLY = 256 * 1024 * 1024  # bytes of one command's output
KILL_AFTER_S = 5.0  # after SIGTERM at its timeout, SIGKILL this much later
NONCE = re.compile(r"[0-9a-f]{32}")


def serve_session(rules: dict[str, object] | None, ready: str) -> int:
    """Requests, one JSON line each — {"nonce": …, "argv": […], "timeout": s} — each
    matched exactly as a command of its own would be, and answered with one header line,
    `NONCE RC OUT ERR`, then exactly OUT and ERR bytes: read by length, so nothing a command
    prints can end its answer early or pass for the next one's. One sudo and one Python
    start for every read of a session, instead of one each."""
    if not NONCE.fullmatch(ready):
        raise Refused("session NONCE (32 hex digits)")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(f"{ready}\n".encode())
    stdout.flush()
    while True:
        line = stdin.readline(MAX_REQUEST + 1)
        if not line:
            return 0  # habot closed the session (or the connection dropped)
        nonce, rc, out, err = session_answer(rules, line)
        try:
            stdout.write(f"{nonce} {rc} {len(out)} {len(err)}\n".encode() + out + err)
            stdout.flush()
        except BrokenPipeError:
            return 0  # nobody reads any more: the connection dropped


def session_answer(rules: dict[str, object] | None, line: bytes) -> tuple[str, int, bytes, bytes]:
    try:
        request = json.loads(line) if len(line) <= MAX_REQUEST else None
    except (ValueError, RecursionError):
        request = None
    if not isinstance(request, dict):
        raise Refused("the session is out of step: a request that is not one")  # ends it
    nonce = request.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        raise Refused("the session is out of step: a request without its nonce")
    argv, timeout = request.get("argv"), request.get("timeout")
    out, err = io_module.BytesIO(), io_module.BytesIO()
    io = Output(out, err)
    try:
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise Refused("argv: a list of strings")
        if not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
            raise Refused("timeout: seconds, at most an hour")
        if not argv or argv[0] not in SESSION_VERBS or argv[:2] == ["cib", "push"]:
            raise Refused("a session runs reads only: exec, status, cib simulate, journal, log")
        if argv[:2] == ["journal", "--follow"]:
            raise Refused("a followed journal has a channel of its own")
        done = answer(rules, argv, io)
        if isinstance(done, Program):
            return (nonce, *bounded(done, float(timeout)))
        return nonce, done, out.getvalue(), err.getvalue()
    except Refused as e:
        return nonce, EXIT_REFUSED, b"", f"habot-node: refused: {e}\n".encode()
    except OSError as e:
        return nonce, EXIT_REFUSED, b"", f"habot-node: {e}\n".encode()


def bounded(program: Program, timeout: float) -> tuple[int, bytes, bytes]:
    """Run it as `timeout --kill-after` would: exit 124 when it ran out of time (137 when it
    had to be killed), from `/`, stdin empty, its own process group."""
    child = subprocess.Popen(
        program.argv,
        executable=program.path,
        cwd="/",
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=timeout)
        return child.returncode, out[:MAX_REPLY], err[:MAX_REPLY]
    except subprocess.TimeoutExpired:
        _signal_group(child.pid, signal.SIGTERM)
    try:
        out, err = child.communicate(timeout=KILL_AFTER_S)
        return 124, out[:MAX_REPLY], err[:MAX_REPLY]
    except subprocess.TimeoutExpired:
        _signal_group(child.pid, signal.SIGKILL)
    child.wait()
    for pipe in (child.stdout, child.stderr):  # a process that left the group may hold them
        if pipe is not None:
            pipe.close()
    return 137, b"", b"habot-node: killed after its timeout; what it printed is lost\n"


def _signal_group(group: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, number)


def main(argv: list[str]) -> int:
    try:
        rules = load_rules(rules_file())
        if argv[:1] == ["session"] and len(argv) == 2:
            return serve_session(rules, argv[1])
        io = Output(sys.stdout.buffer, sys.stderr.buffer)
        done = answer(rules, argv, io)
        if isinstance(done, Program):
            os.chdir("/")
            os.execve(done.path, done.argv, ENV)  # in the helper's place: signals reach it
        return done
    except Refused as e:
        sys.stderr.write(f"habot-node: refused: {e}\n")
        return EXIT_REFUSED
    except OSError as e:
        sys.stderr.write(f"habot-node: {e}\n")
        return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
