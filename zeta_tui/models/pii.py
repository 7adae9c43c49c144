"""Masking personal data in log records (user ids, IP addresses) until the user reveals it.

A masked value keeps a short, stable fingerprint, so an engineer can still see that two lines
belong to the same user without seeing who it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from zeta_tui.models.logs import LogRecord

MASK = "•••"


def mask_value(value: Any) -> str:
    digest = hashlib.blake2s(str(value).encode("utf-8"), digest_size=3).hexdigest()
    return f"{MASK}{digest}"


def masked(record: LogRecord, fields: Iterable[str]) -> LogRecord:
    """The record with every listed field (that it has) masked; the record itself is unchanged."""
    hidden = {name for name in fields if name in record.fields and record.fields[name] not in (None, "")}
    if not hidden:
        return record
    return replace(record, fields={k: (mask_value(v) if k in hidden else v) for k, v in record.fields.items()})
