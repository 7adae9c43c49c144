"""Log records as every log source returns them, and a page of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def normalise_level(text: str | None) -> str:
    """'warning' -> 'WARN', 'err' -> 'ERROR', 'Information' -> 'INFO'; unknown text upper-cased."""
    if not text:
        return ""
    up = str(text).strip().upper()
    aliases = {
        "WARNING": "WARN",
        "ERR": "ERROR",
        "INFORMATION": "INFO",
        "CRITICAL": "FATAL",
        "CRIT": "FATAL",
        "DBG": "DEBUG",
        "PANIC": "FATAL",
    }
    return aliases.get(up, up)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One structured log line.

    ``fields`` holds every structured field flattened with dots (``tenant_id``, ``endpoint``,
    ``status_code``, ``latency_ms``, ``user_id``, ``context.ip_address`` ...), values as the
    source typed them. ``record_id`` is stable for the same line from the same source, so
    paging and tailing can drop duplicates.
    """

    timestamp_ns: int
    level: str
    service: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    trace_id: str = ""
    span_id: str = ""
    record_id: str = ""

    @property
    def timestamp(self) -> float:
        return self.timestamp_ns / 1e9

    def get(self, name: str, default: Any = None) -> Any:
        """A named field: the top-level ones first, then ``fields``."""
        if name in ("level", "service", "message", "trace_id", "span_id"):
            return getattr(self, name) or default
        if name in ("timestamp", "@timestamp"):
            return self.timestamp
        return self.fields.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        """The record as one JSON object (for --json and export), timestamp in RFC 3339."""
        from datetime import datetime

        ts = datetime.fromtimestamp(self.timestamp_ns // 1_000_000_000, tz=UTC)
        stamp = ts.strftime("%Y-%m-%dT%H:%M:%S") + f".{self.timestamp_ns % 1_000_000_000:09d}Z"
        out: dict[str, Any] = {
            "timestamp": stamp,
            "level": self.level,
            "service": self.service,
            "message": self.message,
        }
        if self.trace_id:
            out["trace_id"] = self.trace_id
        if self.span_id:
            out["span_id"] = self.span_id
        out.update(self.fields)
        return out


@dataclass(frozen=True, slots=True)
class LogPage:
    """Records in time order (oldest first), where to continue, and what the source warned about."""

    records: tuple[LogRecord, ...]
    cursor: Any = None  # opaque; pass it back to get the next (older) page; None = no more
    warnings: tuple[str, ...] = ()
    dropped: int = 0  # records the source says it dropped (Loki tail dropped_entries)
