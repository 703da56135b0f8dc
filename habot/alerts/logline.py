"""Log records from journald's JSON and from log files, as one frozen type (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

MAX_MESSAGE = 4000  # characters kept of a message (a 1 MB line is cut, not choked on)
MAX_RECORD = 1024 * 1024  # bytes of one journal record read at all (it holds several fields)
# libqb appends extended info after " | "; journald may strip it: rules never look past it.
EXTENDED_INFO = " | "
LEVELS = ("emerg", "alert", "crit", "error", "err", "warning", "notice", "info", "debug", "trace")
_LEVEL = re.compile(rf"^\s*({'|'.join(LEVELS)}):\s+", re.IGNORECASE)
# Nov 25 08:32:57.477 nodo1 pacemaker-schedulerd[6154] (unpack_resources) \terror: ...
_PACEMAKER_FILE = re.compile(
    r"^(?P<ts>\w{3} +\d+ [\d:.]+) (?P<host>\S+) +(?P<ident>[\w.-]+) *\[(?P<pid>\d+)\] "
    r"+\((?P<fn>[^)]*)\) +(?P<rest>.*)$"
)
# syslog files (/var/log/syslog, /var/log/messages), classic or RFC 3339 time stamps:
# Nov 25 00:47:28 nodo1 pacemaker-controld[9012]: notice: ...
# 2026-11-25T00:47:28.123456+00:00 nodo1 corosync[811]:   [KNET  ] link: host: 1 link: 0 is down
_SYSLOG = re.compile(
    r"^(?P<ts>\w{3} {1,2}\d{1,2} [\d:.]{8,15}"
    r"|\d{4}-\d{2}-\d{2}T[\d:.]{8,15}(?:Z|[+-]\d{2}:?\d{2})?)"
    r" (?P<host>\S{1,255}) (?P<ident>[^\s\[:]{1,128})(?:\[(?P<pid>\d{1,10})\])?: (?P<rest>.*)$"
)
# corosync's own log file: Nov 25 00:47:28.123 [811] nodo1 corosync notice  [KNET  ] link: ...
_COROSYNC_FILE = re.compile(
    r"^(?P<ts>\w{3} {1,2}\d{1,2} [\d:.]{8,15}) \[(?P<pid>\d{1,10})\] (?P<host>\S{1,255}) "
    r"(?P<ident>corosync) (?P<level>[a-z]{1,10}) {1,4}(?P<rest>.*)$"
)
# A resource agent's own lines in pacemaker.log (written by the agent, no host name):
# Dec 01 16:34:50  controld(dlm)[3991]:    ERROR: The cluster property stonith-enabled may ...
_AGENT_FILE = re.compile(
    r"^(?P<ts>\w{3} {1,2}\d{1,2} [\d:.]{8,15}) {1,2}(?P<ident>[\w.-]{1,64}\([^()\s]{1,128}\))"
    r"(?:\[(?P<pid>\d{1,10})\])?: {1,8}(?P<rest>.*)$"
)
_AGENT = re.compile(r"(?P<agent>[\w.-]{1,64})\((?P<resource>[^()\s]{1,128})\)")
_SURROGATE = re.compile("[\ud800-\udfff]")  # lone: json.loads joins the pairs
PRIORITY_LEVEL = {
    "0": "emerg",
    "1": "alert",
    "2": "crit",
    "3": "error",
    "4": "warning",
    "5": "notice",
    "6": "info",
    "7": "debug",
}


@dataclass(frozen=True, slots=True)
class LogLine:
    node: str
    identifier: str  # pacemaker-schedulerd, corosync, kernel, ...
    level: str
    text: str  # the message, without the level prefix
    at: float = 0.0  # seconds since the epoch, 0 when unknown

    @property
    def head(self) -> str:
        """What rules match: the text before libqb's extended-info separator."""
        return self.text.split(EXTENDED_INFO, 1)[0].strip()

    @property
    def shown(self) -> str:
        return f"{self.identifier}: {self.level + ': ' if self.level else ''}{self.text}"


@dataclass(frozen=True, slots=True)
class JournalBatch:
    lines: tuple[LogLine, ...]
    cursor: str | None  # the last entry's __CURSOR, None when the batch was empty
    skipped: int = 0  # records that were not JSON objects (garbage, cut output)
    records: int = 0  # records read, kept or not (a full batch means more may wait)


def parse_journal(node: str, output: bytes) -> JournalBatch:
    """`journalctl -o json` output: one JSON object per line, each on its own — a record
    that cannot be read (not JSON, nested too deep, too big) is skipped and counted, never
    the end of the batch."""
    lines, cursor, skipped, records = [], None, 0, 0
    for raw in output.splitlines():
        records += 1
        record = json_object(raw, MAX_RECORD)
        if record is None:
            skipped += 1
            continue
        cursor = valid_text(record.get("__CURSOR") or cursor or "") or None
        line = _journal_line(node, record)
        if line is not None:
            lines.append(line)
    return JournalBatch(tuple(lines), cursor, skipped, records)


def json_object(raw: bytes, limit: int) -> dict[str, object] | None:
    """One JSON object of at most `limit` bytes; None for anything else (a deep nesting is
    Python's RecursionError, caught here like any other malformed record)."""
    if len(raw) > limit:
        return None
    try:
        found = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def valid_text(value: object) -> str:
    """A field as valid Unicode text: JSON may carry lone surrogates (`"\\udcff"`), which no
    encoder downstream (RE2, the database, Slack) accepts; each becomes U+FFFD."""
    said = value if isinstance(value, str) else str(value)
    return _SURROGATE.sub("\ufffd", said)


def _journal_line(node: str, record: dict[str, object]) -> LogLine | None:
    message = _message(record.get("MESSAGE"))
    if message is None:
        return None
    ident = valid_text(record.get("SYSLOG_IDENTIFIER") or record.get("_COMM") or "")[:128]
    if record.get("_TRANSPORT") == "kernel":
        ident = "kernel"
    level, text = split_level(message)
    if not level:
        level = PRIORITY_LEVEL.get(str(record.get("PRIORITY", "")), "")
    try:
        at = int(str(record.get("__REALTIME_TIMESTAMP", "0"))) / 1_000_000
    except ValueError:
        at = 0.0
    return LogLine(node=node, identifier=ident, level=level, text=text[:MAX_MESSAGE], at=at)


def _message(value: object) -> str | None:
    """MESSAGE is a string, an array of byte values (binary), or null (over 4 KiB)."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def split_level(message: str) -> tuple[str, str]:
    found = _LEVEL.match(message)
    if found is None:
        return "", message.strip()
    level = found.group(1).lower()
    return ("error" if level == "err" else level), message[found.end() :].strip()


def agent_of(identifier: str) -> tuple[str, str] | None:
    """(agent, resource) of a resource agent's identifier, such as `IPaddr2(VirtualIP)`."""
    found = _AGENT.fullmatch(identifier)
    return None if found is None else (found.group("agent"), found.group("resource"))


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CLASSIC = re.compile(r"^(\w{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")
FUTURE_SLACK_S = 86_400.0  # a node's clock ahead of habot's by up to a day is still this year


@dataclass(frozen=True, slots=True)
class FileTime:
    """How to read a log file's time stamps: syslog, pacemaker.log and corosync.log write the
    node's local time with no year. The year is the one that puts the line at most a day
    after `now` (a December line read in January is last year's)."""

    now: float
    zone: tzinfo = field(default=UTC)

    def at(self, stamp: str) -> float:
        """Seconds since the epoch, 0.0 when the stamp cannot be read."""
        if re.match(r"[0-9]{4}-", stamp):
            return _rfc3339(stamp, self.zone)
        found = _CLASSIC.match(stamp)
        if found is None or found.group(1) not in MONTHS:
            return 0.0
        month, day = MONTHS.index(found.group(1)) + 1, int(found.group(2))
        hour, minute, second = (int(found.group(i)) for i in (3, 4, 5))
        micro = int((found.group(6) or "0").ljust(6, "0"))
        year = datetime.fromtimestamp(self.now, self.zone).year
        for candidate in (year + 1, year, year - 1, year - 2, year - 3, year - 4):
            try:
                when = datetime(candidate, month, day, hour, minute, second, micro, self.zone)
            except ValueError:  # 29 February of a year that has none, 25:00, ...
                continue
            if when.timestamp() <= self.now + FUTURE_SLACK_S:
                return when.timestamp()
        return 0.0


def _rfc3339(stamp: str, zone: tzinfo) -> float:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return 0.0
    return (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()


def parse_file_line(node: str, raw: bytes, clock: FileTime | None = None) -> LogLine | None:
    """One line of pacemaker.log, corosync.log or a syslog file (or any other log file: then
    the whole line is the text), with its own time when `clock` says how to read it."""
    text = raw[: MAX_MESSAGE * 2].decode("utf-8", errors="replace").rstrip("\r\n")
    if not text.strip():
        return None
    found = _PACEMAKER_FILE.match(text)
    if found is None:
        found = _COROSYNC_FILE.match(text) or _AGENT_FILE.match(text) or _SYSLOG.match(text)
    if found is None:
        return LogLine(node=node, identifier="", level="", text=text[:MAX_MESSAGE])
    level, message = split_level(found.group("rest"))
    if not level and "level" in found.groupdict():
        level = found.group("level")
    at = clock.at(found.group("ts")) if clock is not None else 0.0
    return LogLine(
        node=node,
        identifier=found.group("ident"),
        level=level,
        text=message[:MAX_MESSAGE],
        at=at,
    )
