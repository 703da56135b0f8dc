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
                                          argument lists, each matching a `cib:` rule), then
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

It reads its rules from `rules.json` beside itself (root-owned too). Run without an installed
copy (`python3 -I -c SOURCE VERB ...`, what habot does on nodes it logs into as root), it has
no rules: it runs no `exec`, and its reads and writes walk paths exactly as above. It imports
nothing but Python's standard library, and never evaluates what it is given.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

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


def installed(rules: dict[str, object] | None) -> dict[str, object]:
    if rules is None:
        raise Refused("exec and cib need the installed helper and its rules")
    return rules


def run_exec(rules: dict[str, object] | None, argv: list[str]) -> int:
    if not argv or not all(clean(a) for a in argv):
        raise Refused("an empty command, or a control character in an argument")
    path = allowed(installed(rules), "commands", argv[0], argv[1:])
    os.chdir("/")
    os.execve(path, [path, *argv[1:]], ENV)  # a rule's own path, argv exactly
    return 0  # not reached


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, cwd="/", env=ENV, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def run_status(rules: dict[str, object] | None) -> int:
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


# -- the shadow CIB --------------------------------------------------------------------------


def parse_edits(rules: dict[str, object], text: str) -> list[tuple[str, list[str]]]:
    try:
        edits = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise Refused("the edits are not JSON") from e
    if not isinstance(edits, list) or not 0 < len(edits) <= MAX_EDITS:
        raise Refused(f"the edits must be a list of 1 to {MAX_EDITS} argument lists")
    checked = []
    for edit in edits:
        if not isinstance(edit, list) or not all(isinstance(a, str) and clean(a) for a in edit):
            raise Refused("each edit is a list of plain strings")
        checked.append((allowed(rules, "cib_edits", "pcs", edit), edit))
    return checked


def run_cib(rules: dict[str, object] | None, action: str, text: str) -> int:
    """Pull, edit, then push or simulate: one step, in a directory only root can enter.
    The push is a diff against the pulled copy (`cib-push … diff-against=`): only habot's
    own changes are applied, on top of whatever the CIB holds by then — a constraint or a
    device someone added meanwhile stays, and a change that no longer applies fails."""
    if action not in ("push", "simulate"):
        raise Refused("cib: push or simulate")
    edits = parse_edits(installed(rules), text)
    pcs = path_of(rules, "pcs")
    private = tempfile.mkdtemp(prefix="habot-cib.", dir="/run")  # 0700, root's, unguessable
    shadow = os.path.join(private, "cib.xml")
    original = os.path.join(private, "original.xml")
    try:
        pulled = run(
            [pcs, "cluster", "cib", shadow], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        if not _shown(pulled, "pcs cluster cib"):
            return pulled.returncode or 1
        shutil.copyfile(shadow, original)
        for path, edit in edits:
            done = run([path, "-f", shadow, *edit], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if not _shown(done, "pcs " + " ".join(edit)):
                return done.returncode
        if action == "push":
            argv = [pcs, "cluster", "cib-push", shadow, f"diff-against={original}"]
            done = run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            _shown(done)
            return done.returncode
        simulate = path_of(rules, "crm_simulate")
        argv = [simulate, "--simulate", "--xml-file", shadow, "--output-as=xml"]
        done = run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _shown(done)
        return done.returncode
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _shown(done: subprocess.CompletedProcess[bytes], before_push: str = "") -> bool:
    """The command's output passed on; a failure before the push says nothing was pushed."""
    sys.stdout.buffer.write(done.stdout)
    sys.stderr.buffer.write(done.stderr)
    if done.returncode != 0 and before_push:
        sys.stderr.write(f"habot-node: `{before_push[:200]}` failed; nothing was pushed\n")
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


def run_journal(rules: dict[str, object] | None, args: list[str]) -> int:
    """`journalctl -o json` in one of four fixed modes, the selection the helper's own."""
    if not any(m.fullmatch(" ".join(args)) for m in JOURNAL_MODES) or not all(map(clean, args)):
        raise Refused("journal: --since=@T | --after-cursor=C --lines=N | --follow ...")
    journalctl = path_of(rules, "journalctl")
    argv = [journalctl, "-o", "json", "--no-pager", "--quiet", *args]
    os.chdir("/")
    os.execve(journalctl, argv + journal_matches(daemon_uid()), ENV)
    return 0  # not reached


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


def logs_allowed(rules: dict[str, object] | None, path: str) -> None:
    if rules is None:
        return
    base = path[:-2] if path.endswith(".1") else path
    if base not in rules.get("logs", []):  # type: ignore[operator]
        raise Refused(f"{path[:200]} is not one of the log files in the rules")


def run_log(rules: dict[str, object] | None, args: list[str]) -> int:
    if len(args) == 2 and args[0] == "stat":
        return log_stat(rules, args[1])
    if len(args) == 4 and args[0] == "read" and all(a.isdigit() for a in args[2:]):
        return log_read(rules, args[1], int(args[2]), int(args[3]))
    raise Refused("log stat PATH | log read PATH OFFSET LENGTH")


def log_stat(rules: dict[str, object] | None, path: str) -> int:
    """`NAME INODE SIZE` of the file and of its rotation `.1`, each that can be read."""
    logs_allowed(rules, path)
    rc = 0
    for name in (path, f"{path}.1"):
        try:
            fd, st = open_log(name)
        except FileNotFoundError:
            sys.stderr.write(f"habot-node: {name}: No such file or directory\n")
            rc = rc or (EXIT_MISSING if name == path else 0)
            continue
        except Refused as e:
            sys.stderr.write(f"habot-node: refused: {e}\n")
            rc = rc or (EXIT_REFUSED if name == path else 0)
            continue
        os.close(fd)
        sys.stdout.write(f"{name} {st.st_ino} {st.st_size}\n")
    return rc


def log_read(rules: dict[str, object] | None, path: str, offset: int, length: int) -> int:
    logs_allowed(rules, path)
    if length > MAX_READ:
        raise Refused(f"at most {MAX_READ} bytes a read")
    try:
        fd, _ = open_log(path)
    except FileNotFoundError:
        sys.stderr.write(f"habot-node: {path}: No such file or directory\n")
        return EXIT_MISSING
    try:
        out = sys.stdout.buffer
        while length > 0:
            chunk = os.pread(fd, min(length, 1 << 16), offset)
            if not chunk:
                break
            out.write(chunk)
            offset += len(chunk)
            length -= len(chunk)
        out.flush()
    finally:
        os.close(fd)
    return 0


def run_write(rules: dict[str, object] | None, args: list[str]) -> int:
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
            sys.stdout.write(f"{path} exists; kept as it is\n")
            return 0
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n" if not text.endswith("\n") else "")
        sys.stdout.write(f"{path} written\n")
        return 0
    finally:
        os.close(dir_fd)


VERBS = ("exec", "status", "cib", "journal", "log", "write-new")


def main(argv: list[str]) -> int:
    try:
        rules = load_rules(rules_file())
        verb, args = (argv[0], argv[1:]) if argv else ("", [])
        if verb == "exec":
            return run_exec(rules, args)
        if verb == "status" and not args:
            return run_status(rules)
        if verb == "cib" and len(args) == 2:
            return run_cib(rules, args[0], args[1])
        if verb == "journal":
            return run_journal(rules, args)
        if verb == "log":
            return run_log(rules, args)
        if verb == "write-new":
            return run_write(rules, args)
        raise Refused(
            "usage: habot-node exec COMMAND ARG... | status | cib push|simulate EDITS | "
            "journal MODE | log stat|read PATH ... | write-new PATH TEXT"
        )
    except Refused as e:
        sys.stderr.write(f"habot-node: refused: {e}\n")
        return EXIT_REFUSED
    except OSError as e:
        sys.stderr.write(f"habot-node: {e}\n")
        return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
