"""How fresh the demo's logs and traces are: when each request of the world is first found by a search.

The world is deterministic, so which requests happen and when is known in advance
(``WorldRequests``). ``FreshnessProbe`` follows the logged requests of one tenant (the busiest,
about 3 a second at 1 in 10), and on each ``poll`` asks the log source and the trace source of
the demo's context (the same ClickHouse sources the Logs and Traces screens build from the
same config) for that tenant's records and traces of the last ``window`` seconds. A request's
*lag* is the time from its timestamp until the end of the first search that returned it: an
upper bound, too long by at most the time between polls. A request still not found once it is
older than the window is counted as missed (its lag is over the window).

Only requests stamped at or after ``since`` count (a demo's launch: what happened before it is
history, not the present). bench/fresh_lag.py runs a probe inside `zeta demo --no-tui`;
tests/test_demo_fresh.py inside a stack of its own.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zeta_tui.demo.log_store import DEMO_SAMPLE_EVERY
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.models.timerange import TimeRange
from zeta_tui.models.traces import TraceQuery

KINDS = ("logs", "traces")


@dataclass
class Lags:
    """What the probe found for one kind (logs or traces)."""

    #: (request timestamp s, lag s) of every request found, in the order found
    found: list[tuple[float, float]] = field(default_factory=list)
    #: timestamps (s) of the requests not found within the window
    missed: list[float] = field(default_factory=list)
    #: errors of searches that failed (their text), with when they happened
    errors: list[tuple[float, str]] = field(default_factory=list)

    def summary(self, since: float = float("-inf"), until: float = float("inf")) -> dict[str, Any]:
        """Median, 95th percentile and max lag (s) of the requests stamped in [since, until)."""
        lags = sorted(lag for ts, lag in self.found if since <= ts < until)
        missed = sum(1 for ts in self.missed if since <= ts < until)
        out: dict[str, Any] = {"requests": len(lags), "missed": missed}
        if lags:
            out.update(
                median_s=round(statistics.median(lags), 2),
                p95_s=round(lags[min(len(lags) - 1, int(0.95 * len(lags)))], 2),
                max_s=round(lags[-1], 2),
            )
        return out


class FreshnessProbe:
    """Follows one tenant's logged requests and times when the log and trace sources first return them."""

    def __init__(
        self,
        world: TeamZetaWorld,
        logs: Any,
        traces: Any,
        *,
        since: float,
        window: float = 180.0,
        sample_every: int = DEMO_SAMPLE_EVERY,
        tenant: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.logs_source, self.traces_source = logs, traces
        self.requests = WorldRequests(world, sample_every)
        self.tenant = tenant or max(world.topology.tenants, key=lambda t: t.share).tenant_id
        self.since, self.window, self.clock = since, window, clock
        self.lags = {kind: Lags() for kind in KINDS}
        self._pending: dict[str, dict[str, float]] = {kind: {} for kind in KINDS}  # trace id -> timestamp
        self._asked = {kind: 0.0 for kind in KINDS}  # when the last search of each kind began
        # The next step to generate: the one holding ``since``.
        self._next_step = int(since) // STEP_SECONDS * STEP_SECONDS

    def _expect_until(self, now: float) -> None:
        """Add the tenant's requests stamped up to ``now`` (and since ``since``) to what is awaited."""
        end = int(now) // STEP_SECONDS * STEP_SECONDS + STEP_SECONDS
        if end <= self._next_step:
            return
        # (a, b] windows on the grid are whole steps: every request stamped in [a, b).
        for r in self.requests.generate(self._next_step, end):
            if r.tenant_id == self.tenant and r.timestamp_ns >= self.since * 1e9:
                for pending in self._pending.values():
                    pending[r.trace_id] = r.timestamp_ns / 1e9
        self._next_step = end

    async def poll(self) -> None:
        """Search both sources once; note the requests found for the first time and those given up on."""
        self._expect_until(self.clock())
        for kind in KINDS:
            asked = self.clock()
            self._asked[kind] = asked
            try:
                ids = await (self._log_ids(asked) if kind == "logs" else self._trace_ids(asked))
            except Exception as e:  # a failed search is part of what is measured; keep probing
                self.lags[kind].errors.append((asked, f"{type(e).__name__}: {e}"))
                continue
            done = self.clock()
            pending, lags = self._pending[kind], self.lags[kind]
            for trace_id in ids & pending.keys():
                ts = pending.pop(trace_id)
                if ts <= asked:  # a request stamped after the search began cannot count as found by it
                    lags.found.append((ts, done - ts))
                else:
                    pending[trace_id] = ts
            for trace_id, ts in list(pending.items()):
                if ts < asked - self.window:
                    del pending[trace_id]
                    lags.missed.append(ts)

    async def _log_ids(self, now: float) -> set[str]:
        page = await self.logs_source.search(
            f'tenant_id:"{self.tenant}"', TimeRange(now - self.window, now + 1), limit=10_000
        )
        return {r.trace_id for r in page.records}

    async def _trace_ids(self, now: float) -> set[str]:
        query = TraceQuery(TimeRange(now - self.window, now + 1), tags={"tenant_id": self.tenant}, limit=10_000)
        return {s.trace_id for s in (await self.traces_source.search(query)).summaries}

    def unfound_s(self, kind: str) -> float:
        """How long the oldest request not found yet had happened when the last search began (0: none)."""
        asked = self._asked[kind]
        waiting = [ts for ts in self._pending[kind].values() if ts <= asked]
        return round(asked - min(waiting), 2) if waiting else 0.0

    def report(self, minutes: int | None = None) -> dict[str, Any]:
        """Per kind: the summary over everything, over the first minute, and (``minutes``) minute by
        minute; the age of the oldest request still not found at the last search."""
        out: dict[str, Any] = {"tenant": self.tenant, "since": self.since, "window_s": self.window}
        for kind, lags in self.lags.items():
            out[kind] = {
                "all": lags.summary(self.since),
                "first_minute": lags.summary(self.since, self.since + 60),
                "unfound_at_end_s": self.unfound_s(kind),
                "errors": len(lags.errors),
                "first_errors": [text for _, text in lags.errors[:3]],
            }
            if minutes:
                out[kind]["by_minute"] = [
                    lags.summary(self.since + 60 * m, self.since + 60 * (m + 1)) for m in range(minutes)
                ]
        return out
