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

from habot.alerts.agent_records import RecordError, parse_record
from habot.alerts.logline import (
    FileTime,
    JournalBatch,
    LogLine,
    agent_of,
    parse_file_line,
    parse_journal,
)
from habot.node import HELPER
from habot.node.helper import EXIT_MISSING, IDENTIFIERS
from habot.ssh.transport import CommandResult, NodeAddress, Transport

# What the journal source reads is selected by habot-node itself (`habot-node journal`):
# the daemons' records, by what journald records and no local user can set (see
# habot.node.helper.journal_matches). The same names are kept here (see `wanted`).
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
    lost: str = ""  # records habot skipped (unreadable) or missed (rotated away): said
    skipped: int = 0  # unreadable records among them


@dataclass(frozen=True, slots=True)
class JournalSource:
    identifiers: tuple[str, ...] = IDENTIFIERS
    batch: int = 2000

    name = "journal"

    def argv(self, cursor: str | None, since: float) -> tuple[str, ...]:
        if cursor:  # --since and --after-cursor cannot be combined
            return (HELPER, "journal", f"--after-cursor={cursor}", f"--lines={self.batch}")
        return (HELPER, "journal", f"--since=@{int(since)}")

    def follow_argv(self, cursor: str | None) -> tuple[str, ...]:
        """`journalctl --follow` from the cursor (else from now on), the same records."""
        if cursor:
            return (HELPER, "journal", "--follow", f"--after-cursor={cursor}")
        return (HELPER, "journal", "--follow", "--lines=0")

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
        skipped = 0
        started = time.monotonic()
        for _ in range(CATCH_UP_READS):
            batch, problem, full = await self._read_once(transport, node, cursor, since, timeout)
            lines += batch.lines
            notes += [batch.note] if batch.note else []
            skipped += batch.skipped
            cursor = batch.cursor or cursor
            if problem or not full:
                lost = f"{skipped} unreadable records skipped" if skipped and not problem else ""
                return Batch(tuple(lines), cursor, "; ".join(notes), problem, lost=lost)
            if time.monotonic() - started > CATCH_UP_S:
                break
        lost = f"{skipped} unreadable records skipped" if skipped else ""
        return Batch(tuple(lines), cursor, "; ".join(notes), backlog=True, lost=lost)

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
        return Batch(lines, batch.cursor, note, skipped=batch.skipped), problem, full


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


ROTATIONS = (".1", ".2")  # older generations read to their end (the agent keeps both)


@dataclass(frozen=True, slots=True)
class Plan:
    reads: tuple[Read, ...]
    gap: bool = False  # the cursor's file is gone: what it held past the cursor is lost


def plan_reads(
    path: str, cursor: FileCursor | None, stats: dict[str, tuple[int, int]], first_read: int
) -> Plan:
    """What to read after `cursor`, given (inode, size) of `path` and its rotations (pure).

    Rotation: the rest of the rotated file that holds the cursor, the newer rotations whole,
    then the new file from its start. Truncation (size below the offset): the file from its
    start. First poll: its last `first_read` bytes. A cursor whose file is in none of them
    (rotated more often than read) is a gap: said, never silent."""
    current = stats.get(path)
    if current is None:
        return Plan(())
    inode, size = current
    if cursor is None:
        start = max(0, size - first_read)
        return Plan((Read(path, inode, start, size - start),))
    if cursor.inode == inode:
        start = cursor.offset if cursor.offset <= size else 0
        return Plan((Read(path, inode, start, size - start),))
    older = [(f"{path}{r}", stats[f"{path}{r}"]) for r in ROTATIONS if f"{path}{r}" in stats]
    held = next((i for i, (_, (ino, _)) in enumerate(older) if ino == cursor.inode), None)
    reads = []
    if held is not None:
        name, (ino, length) = older[held]
        if length > cursor.offset:
            reads.append(Read(name, ino, cursor.offset, length - cursor.offset))
        reads += [Read(n, i, 0, length) for n, (i, length) in reversed(older[:held])]
    return Plan((*reads, Read(path, inode, 0, size)), gap=held is None)


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
        """One line; RecordError when it is not a record the agent writes."""
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
            if (
                self.records
                and stat.exit_status == EXIT_MISSING
                and "No such file" in (stat.stderr_text)
            ):
                return Batch((), None)  # the agent writes its file at its first event
            said = stat.stderr_text.strip().splitlines()[:1] or ["not found"]
            return Batch((), None, problem=said[0][:200])
        plan = plan_reads(self.path, FileCursor.parse(cursor), stats, self.first_read)
        lines: list[LogLine] = []
        skipped: list[str] = []
        position: FileCursor | None = None
        budget = READ_MAX
        for read in plan.reads:
            length = min(read.length, budget)
            result = await _read(transport, node, read, length, timeout)
            if isinstance(result, str):
                return Batch(tuple(lines), position.text() if position else None, problem=result)
            used, chunk = _complete_lines(
                result, first=read.offset > 0 and position is None and cursor is None
            )
            lines += self._parsed(node.name, chunk, clock, skipped)
            position = FileCursor(read.inode, read.offset + used)
            budget -= length
            if budget <= 0 or used < len(result):
                break  # the rest next poll (a partial line waits for its newline)
        lost = _lost(plan.gap, skipped)
        return Batch(tuple(lines), position.text() if position else None, lost=lost)

    def _parsed(
        self, node: str, chunk: Sequence[bytes], clock: FileTime, skipped: list[str]
    ) -> list[LogLine]:
        """Each line on its own: one that cannot be read is skipped and counted, never the
        end of the batch."""
        lines = []
        for raw in chunk:
            try:
                line = self.parse(node, raw, clock)
            except RecordError as e:
                skipped.append(str(e))
                continue
            if line is not None:
                lines.append(line)
        return lines


def _lost(gap: bool, skipped: Sequence[str]) -> str:
    said = []
    if gap:
        said.append(
            "it was rotated more than once since habot last read it; what it held in "
            "between was not read"
        )
    if skipped:
        said.append(f"{len(skipped)} unreadable records skipped ({skipped[0][:80]})")
    return "; ".join(said)


def _stats(output: bytes) -> dict[str, tuple[int, int]]:
    found = {}
    for line in output.decode(errors="replace").splitlines():
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and all(re.fullmatch(r"[0-9]{1,20}", x) for x in parts[1:]):
            found[parts[0]] = (int(parts[1]), int(parts[2]))
    return found


async def _read(
    transport: Transport, node: NodeAddress, read: Read, length: int, timeout: float
) -> bytes | str:
    """The bytes; why not, when the node would not read them."""
    if length <= 0:
        return b""
    result = await transport.read(node, read_argv(read.path, read.offset, length), timeout=timeout)
    if result.exit_status != 0:
        said = result.stderr_text.strip().splitlines()[:1] or [f"exit {result.exit_status}"]
        return said[0][:200]
    return result.stdout


def stat_argv(path: str) -> tuple[str, ...]:
    """The file and its first rotation: name, inode, size (habot-node opens each without
    following a link, and refuses what is not the log it should be)."""
    return (HELPER, "log", "stat", path)


def read_argv(path: str, offset: int, length: int) -> tuple[str, ...]:
    return (HELPER, "log", "read", path, str(offset), str(length))


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
