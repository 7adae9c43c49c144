"""Printing a command's figures: indented JSON with ``--json``, else text."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson


def print_figures(as_json: bool, document: Callable[[], Any], text: Callable[[], str]) -> None:
    """``document()`` as indented JSON, or ``text()``, on stdout. A reader that stops early
    (`zeta ml | head`) ends the output quietly: the exit status still tells."""
    try:
        if as_json:
            sys.stdout.write(orjson.dumps(document(), option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            sys.stdout.write(text() + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


def utc_stamp(seconds: float | None) -> str | None:
    """A moment as JSON carries it: ISO 8601 in UTC to the second (``2026-03-11T17:26:40Z``); None stays None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
