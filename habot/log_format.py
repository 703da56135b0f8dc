"""Logs for people (the default) or machines (`HABOT_LOG_FORMAT=json`: one JSON object per
line), each line with the Slack request, cluster and run it belongs to when there is one.

The context travels in contextvars: set where a Slack request, a poll or a run starts, it
follows every await and every task started from there."""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str] = ContextVar("habot_request_id", default="")
CLUSTER: ContextVar[str] = ContextVar("habot_cluster", default="")
RUN_ID: ContextVar[str] = ContextVar("habot_run_id", default="")
_FIELDS = (("request_id", REQUEST_ID), ("cluster", CLUSTER), ("run_id", RUN_ID))
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(habot_context)s"


class ContextFilter(logging.Filter):
    """Puts the context on every record (as attributes the formatters use)."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = {name: var.get() for name, var in _FIELDS if var.get()}
        for name, value in found.items():
            setattr(record, name, value)
        text = " ".join(f"{k}={v}" for k, v in found.items())
        record.habot_context = f" [{text}]" if text else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, _ in _FIELDS:
            value = getattr(record, name, "")
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# Libraries whose INFO lines are per-event noise: asyncssh (a session opened, a channel
# closed), APScheduler (two lines per poll and per sweep: ~1,700 lines an hour). Shown at DEBUG.
CHATTY = ("asyncssh", "apscheduler", "slack_sdk")


def configure(level: str, fmt: str) -> None:
    """The root logger for `habot serve` and the console: text or json; the chatty libraries'
    INFO lines only at DEBUG."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
