"""Processes of the lab: run a command, find what lives in a node, stop it by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from habot.errors import LabError


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv on the host; a failure with check=True raises LabError with its stderr."""
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=None if env is None else dict(env),
            input=input_text,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise LabError(f"{' '.join(argv)} did not finish within {timeout:g} s") from e
    except FileNotFoundError as e:
        raise LabError(f"{argv[0]} is not installed") from e
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise LabError(f"{' '.join(argv)} failed (exit {done.returncode}): {detail}")
    return done


def enter(anchor: int, argv: Sequence[str]) -> list[str]:
    """argv that runs inside a node: its mount, UTS and network namespaces."""
    return ["nsenter", "-t", str(anchor), "-m", "-u", "-n", "--", *argv]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = _stat_state(pid)
    return state not in ("Z", "X", None)


def _stat_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def namespace_of(pid: int, kind: str = "mnt") -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def pids_in_namespace(ns: str, kind: str = "mnt") -> list[int]:
    """Every live process whose namespace of `kind` is `ns` (matched by inode, never by name)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and namespace_of(int(entry), kind) == ns:
            found.append(int(entry))
    return found


def kill(pids: Iterable[int], sig: int = signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal the process group led by pid (daemons are started as session leaders)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait until none of pids is alive; return those still alive at the timeout."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def spawn(argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None) -> int:
    """Start a long-lived process in its own session, output appended to log; return its PID.

    The process is started by a short-lived shell, so it is not our child: it outlives us and
    is reaped by init, like any daemon.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    launcher = 'setsid "$@" </dev/null >>"$HABOT_SPAWN_LOG" 2>&1 & echo $!'
    launched = run(
        ["sh", "-c", launcher, "sh", *argv],
        env={**(env if env is not None else os.environ), "HABOT_SPAWN_LOG": str(log)},
    )
    return int(launched.stdout.strip())
