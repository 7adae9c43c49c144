"""The time window every screen shows, and the step that fits it."""

from __future__ import annotations

import re
from dataclasses import dataclass

PRESETS: tuple[str, ...] = ("15m", "1h", "6h", "24h", "7d")

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> float:
    """'1h30m' -> 5400.0 seconds. Raises ValueError naming the text."""
    text = text.strip()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"{text!r} is not a duration; use e.g. 30s, 15m, 1h, 7d or 1h30m")
    return total


def format_duration(seconds: float) -> str:
    """5400 -> '1h30m'; the inverse of parse_duration for whole seconds."""
    seconds = round(seconds)
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            n, seconds = divmod(seconds, size)
            parts.append(f"{n}{unit}")
    return "".join(parts)


def format_age(seconds: float) -> str:
    """The two largest units of a duration, for ages and spans in tables: 3d4h, 2h5m, 45s."""
    parts = re.findall(r"\d+[dhms]", format_duration(max(0.0, seconds)))
    return "".join(parts[:2])


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A closed window [start, end] in unix seconds, with the label the user picked."""

    start: float
    end: float
    label: str = ""

    @classmethod
    def last(cls, duration: str, now: float) -> TimeRange:
        return cls(now - parse_duration(duration), now, duration)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def step(self, points: int = 60) -> float:
        """A round step giving about ``points`` samples (Prometheus caps at 11,000).

        60 points fill a terminal chart (a braille chart of 40 columns has 80 dots) and keep
        the data still between steps: a 1h view changes once a minute, not on every refresh,
        which is what keeps an idle console quiet over SSH.
        """
        raw = max(self.seconds / points, 1.0)
        for nice in (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400):
            if raw <= nice:
                return float(nice)
        return 86400.0

    def rate_window(self) -> str:
        """The [range] for rate(): at least 4 scrape intervals and one step."""
        return format_duration(max(self.step() * 2, 120))

    def aligned(self) -> TimeRange:
        """The same length ending on the step grid: every refresh within one step asks the
        same question, so unchanged answers redraw nothing (and backends can cache)."""
        step = self.step()
        end = (self.end // step) * step
        return TimeRange(end - self.seconds, end, self.label)

    def shifted_to(self, now: float) -> TimeRange:
        """The same relative window ending at ``now`` (custom ranges stay put)."""
        if self.label in PRESETS:
            return TimeRange.last(self.label, now)
        return self
