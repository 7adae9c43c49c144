"""Options several headless commands share, read into the values they mean."""

from __future__ import annotations

import time

from zeta_tui.errors import ConfigError
from zeta_tui.models.timerange import TimeRange, parse_duration


def range_ending(at: float | None, range_text: str) -> TimeRange:
    """``--range`` ending at ``--at`` (default now): `zeta ml`, `zeta business`, `zeta tenant`.

    At least a minute: the rates over it need two samples."""
    try:
        seconds = parse_duration(range_text)
    except ValueError as exc:
        raise ConfigError(f"--range: {exc}", hint="e.g. --range 1h or --range 6h") from None
    if seconds < 60:
        raise ConfigError(f"--range {range_text} is under a minute", hint="a rate needs at least 1m; e.g. --range 1h")
    end = at if at is not None else time.time()
    return TimeRange(end - seconds, end, range_text)
