"""Where alert lines come from on a node: the journal (by SYSLOG_IDENTIFIER) or a log file.

A cursor says where the last poll stopped; the caller stores it only after the poll's alerts
were posted, so a restart neither loses nor re-posts lines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from habot.alerts.agent_records import parse_record
from habot.alerts.logline import (
    FileTime,
    JournalBatch,
    LogLine,
    agent_of,
    parse_file_line,
    parse_journal,
)
from habot.ssh.transport import CommandResult, NodeAddress, Transport

# The pacemaker daemons (2.0+ names and 1.1's), corosync, the DLM and fencing helpers.
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
FACILITY_DAEMON = 3  # syslog's "daemon": pacemaker's daemons and the resource agents log there
# Where the daemons' programs live (Debian; RHEL and SUSE): journald records each record's
# executable itself (`_EXE`), which no local user can set — unlike SYSLOG_IDENTIFIER, which
# anyone's `logger -t pacemaker-controld` sets. So the journal is selected on it, or on the
# writer being root (`_UID=0`): a user's flood of look-alike lines is never read at all.
DAEMON_DIRS = ("/usr/lib/pacemaker", "/usr/libexec/pacemaker")
SBIN_DAEMONS = ("/usr/sbin/pacemakerd", "/usr/sbin/corosync", "/usr/sbin/dlm_controld")
CATCH_UP_READS = 10  # batches read in one poll while a node's journal has more (20,000 records)
CATCH_UP_S = 5.0  # nor longer than this; what is left is a backlog, said as an alert
EXIT_BAD_CURSOR = 1  # journalctl: a cursor it cannot seek to (after a journal rotation)
READ_MAX = 4 * 1024 * 1024  # bytes of a log file read in one poll


@dataclass(frozen=True, slots=True)
class Batch:
    lines: tuple[LogLine, ...]
    cursor: str | None  # None: keep the previous one
    note: str = ""  # what happened (cursor reseeded, file rotated...), for the log
    problem: str = ""  # the source answered, but habot could not read it: said, never silent
    backlog: bool = False  # more was waiting than one poll may read: habot falls behind


def daemon_exes(identifiers: Sequence[str]) -> list[str]:
    """Where each pacemaker daemon's program may live (its `_EXE`), and the sbin daemons."""
    daemons = [i for i in identifiers if i not in ("pacemakerd", "corosync", "dlm_controld")]
    return [f"{d}/{i}" for i in daemons for d in DAEMON_DIRS] + list(SBIN_DAEMONS)


@dataclass(frozen=True, slots=True)
class JournalSource:
    identifiers: tuple[str, ...] = IDENTIFIERS
    kernel: bool = True
    batch: int = 2000

    name = "journal"

    def argv(self, cursor: str | None, since: float) -> list[str]:
        argv = ["journalctl", "-o", "json", "--no-pager", "--quiet"]
        if cursor:  # --since and --after-cursor cannot be combined
            argv += [f"--after-cursor={cursor}", "-n", str(self.batch)]
        else:
            argv += [f"--since=@{int(since)}"]
        return argv + self.matches()

    def follow_argv(self, cursor: str | None) -> list[str]:
        """`journalctl --follow` from the cursor (else from now on), the same records."""
        argv = ["journalctl", "-o", "json", "--no-pager", "--quiet", "--follow"]
        argv += [f"--after-cursor={cursor}"] if cursor else ["--lines=0"]
        return argv + self.matches()

    def matches(self) -> list[str]:
        argv: list[str] = []
        # the daemons' names, written by root ...
        argv += [f"SYSLOG_IDENTIFIER={i}" for i in self.identifiers] + ["_UID=0"]
        # ... or by the daemons' own programs (those that run as hacluster)
        argv += ["+", *(f"_EXE={exe}" for exe in daemon_exes(self.identifiers))]
        if self.kernel:
            argv += ["+", "_TRANSPORT=kernel"]
        # Resource agents log through logger(1) as "IPaddr2(VirtualIP)", "controld(dlm)": no
        # fixed identifier to select, so root's daemon-facility syslog records come too, and
        # only the agents' are kept (see `wanted`).
        argv += ["+", "_TRANSPORT=syslog", f"SYSLOG_FACILITY={FACILITY_DAEMON}", "_UID=0"]
        return argv

    def wanted(self, line: LogLine) -> bool:
        return (
            line.identifier in self.identifiers
            or line.identifier == "kernel"
            or agent_of(line.identifier) is not None
        )

    async def read(
        self,
        transport: Transport,
        node: NodeAddress,
        cursor: str | None,
        since: float,
        timeout: float,
        now: float = 0.0,  # journald stamps each record itself: unused here
    ) -> Batch:
        """Batch after batch until caught up (CATCH_UP_READS, CATCH_UP_S at most); a journal
        still full after that is a backlog, said in the batch."""
        lines: list[LogLine] = []
        notes: list[str] = []
        started = time.monotonic()
        for _ in range(CATCH_UP_READS):
            batch, problem, full = await self._read_once(transport, node, cursor, since, timeout)
            lines += batch.lines
            notes += [batch.note] if batch.note else []
            cursor = batch.cursor or cursor
            if problem or not full:
                return Batch(tuple(lines), cursor, "; ".join(notes), problem)
            if time.monotonic() - started > CATCH_UP_S:
                break
        return Batch(tuple(lines), cursor, "; ".join(notes), backlog=True)

    async def _read_once(
        self,
        transport: Transport,
        node: NodeAddress,
        cursor: str | None,
        since: float,
        timeout: float,
    ) -> tuple[Batch, str, bool]:
        result = await transport.read(node, self.argv(cursor, since), timeout=timeout)
        note = ""
        if result.exit_status == EXIT_BAD_CURSOR and cursor:
            cursor = None
            result = await transport.read(node, self.argv(None, since), timeout=timeout)
            note = "journal cursor not found; reseeded by time"
        batch = parse_journal(node.name, result.stdout)
        if batch.skipped:
            note = f"{note}; {batch.skipped} unreadable records".lstrip("; ")
        lines = tuple(ln for ln in batch.lines if self.wanted(ln))
        full = cursor is not None and batch.records >= self.batch
        problem = _journal_problem(result, batch)
        return Batch(lines, batch.cursor, note), problem, full


def _journal_problem(result: CommandResult, batch: JournalBatch) -> str:
    if result.exit_status != 0:
        said = (result.stderr_text or result.stdout_text).strip().splitlines()[-1:] or [""]
        return f"journalctl exit {result.exit_status}: {said[0][:200]}"
    if batch.skipped and batch.cursor is None:
        return f"{batch.skipped} records, none of them journal JSON (is this journalctl -o json?)"
    return ""


@dataclass(frozen=True, slots=True)
class FileCursor:
    inode: int
    offset: int

    def text(self) -> str:
        return f"{self.inode}:{self.offset}"

    @classmethod
    def parse(cls, text: str | None) -> FileCursor | None:
        try:
            inode, offset = (text or "").split(":")
            return cls(int(inode), int(offset))
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Read:
    path: str
    inode: int
    offset: int
    length: int


def plan_reads(
    path: str, cursor: FileCursor | None, stats: dict[str, tuple[int, int]], first_read: int
) -> list[Read]:
    """What to read after `cursor`, given (inode, size) of `path` and `path.1` (pure).

    Rotation: the rest of the rotated file, then the new file from its start. Truncation
    (size below the offset): the file from its start. First poll: its last `first_read` bytes.
    """
    current = stats.get(path)
    if current is None:
        return []
    inode, size = current
    rotated = stats.get(f"{path}.1")
    if cursor is None:
        start = max(0, size - first_read)
        return [Read(path, inode, start, size - start)]
    if cursor.inode == inode:
        start = cursor.offset if cursor.offset <= size else 0
        return [Read(path, inode, start, size - start)]
    reads = []
    if rotated is not None and rotated[0] == cursor.inode and rotated[1] > cursor.offset:
        reads.append(Read(f"{path}.1", cursor.inode, cursor.offset, rotated[1] - cursor.offset))
    return [*reads, Read(path, inode, 0, size)]


@dataclass(frozen=True, slots=True)
class FileSource:
    path: str = "/var/log/pacemaker/pacemaker.log"
    first_read: int = 1024 * 1024
    zone: str = "UTC"  # the nodes' local time zone, in which the file's stamps are written
    records: bool = False  # the alert agent's JSON records, not a log

    @property
    def name(self) -> str:
        return f"{'agent' if self.records else 'file'}:{self.path}"

    def parse(self, node: str, raw: bytes, clock: FileTime) -> LogLine | None:
        if self.records:
            return parse_record(node, raw)
        return parse_file_line(node, raw, clock)

    async def read(
        self,
        transport: Transport,
        node: NodeAddress,
        cursor: str | None,
        since: float,
        timeout: float,
        now: float = 0.0,  # the poll's time: the year of stamps that carry none
    ) -> Batch:
        clock = FileTime(now or time.time(), ZoneInfo(self.zone))
        stat = await transport.read(node, stat_argv(self.path), timeout=timeout)
        stats = _stats(stat.stdout)
        if self.path not in stats:
            if self.records and "No such file" in stat.stderr_text:
                return Batch((), None)  # the agent writes its file at its first event
            said = stat.stderr_text.strip().splitlines()[:1] or ["not found"]
            return Batch((), None, problem=said[0][:200])
        reads = plan_reads(self.path, FileCursor.parse(cursor), stats, self.first_read)
        lines: list[LogLine] = []
        position: FileCursor | None = None
        budget = READ_MAX
        for read in reads:
            length = min(read.length, budget)
            data = await _read(transport, node, read, length, timeout)
            used, chunk = _complete_lines(
                data, first=read.offset > 0 and position is None and cursor is None
            )
            lines += [ln for raw in chunk if (ln := self.parse(node.name, raw, clock))]
            position = FileCursor(read.inode, read.offset + used)
            budget -= length
            if budget <= 0 or used < len(data):
                break  # the rest next poll (a partial line waits for its newline)
        return Batch(tuple(lines), position.text() if position else None)


def _stats(output: bytes) -> dict[str, tuple[int, int]]:
    found = {}
    for line in output.decode(errors="replace").splitlines():
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and all(re.fullmatch(r"[0-9]{1,20}", x) for x in parts[1:]):
            found[parts[0]] = (int(parts[1]), int(parts[2]))
    return found


async def _read(
    transport: Transport, node: NodeAddress, read: Read, length: int, timeout: float
) -> bytes:
    if length <= 0:
        return b""
    result = await transport.read(node, dd_argv(read.path, read.offset, length), timeout=timeout)
    return result.stdout


def stat_argv(path: str) -> tuple[str, ...]:
    """The file and its first rotation: name, inode, size."""
    return ("stat", "-L", "-c", "%n %i %s", path, f"{path}.1")


def dd_argv(path: str, offset: int, length: int) -> tuple[str, ...]:
    return (
        "dd",
        f"if={path}",
        "iflag=skip_bytes,count_bytes",
        f"skip={offset}",
        f"count={length}",
        "bs=65536",
        "status=none",
    )


def _complete_lines(data: bytes, *, first: bool) -> tuple[int, Sequence[bytes]]:
    """(bytes consumed, complete lines). A chunk with no newline at all (one huge line) is
    consumed whole; a first read that starts mid-file drops its partial first line."""
    end = data.rfind(b"\n")
    if end < 0:
        return (len(data), [data]) if len(data) >= READ_MAX else (0, [])
    lines = data[:end].split(b"\n")
    if first and lines:
        lines = lines[1:]
    return end + 1, lines
