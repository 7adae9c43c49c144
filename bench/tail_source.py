"""A local LogSource for bench/tail.py: records built from the Team Zeta world's requests.

``BenchSource.tail()`` yields pages of fresh LogRecords either as fast as the consumer takes
them (``rate=0``: one ``await asyncio.sleep(0)`` between pages, so the event loop can draw) or
at ``rate`` records per second (a page every ``interval`` seconds holding the records due).
Every record's message starts with ``#<seq> `` so a reader of the terminal output can tell
which record is on screen, and its timestamp is the moment it was made. After each page the
source appends ``<time.perf_counter()> <last seq>`` to ``stats_path`` (perf_counter is
CLOCK_MONOTONIC on Linux, so the bench process can compare it with its own clock).

Records are made from a small pool of templates (real requests of the world: services,
endpoints, tenants, levels and messages as `zeta demo` logs them), each yielded record a new
object with its own fields dict, message, trace id and record id, as a real source parses
them; the field values other than those are shared with the template, so memory per record
is a little below a real source's.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from zeta_tui.backends.logs.base import LogSource
from zeta_tui.models.logs import LogPage, LogRecord, normalise_level
from zeta_tui.models.metrics_meta import BuildInfo
from zeta_tui.models.timerange import TimeRange


def world_templates(count: int = 2000, seed: int | None = None) -> list[LogRecord]:
    """``count`` records from a minute of the world's requests, spread over all of them."""
    from zeta_tui.demo.requests import WorldRequests
    from zeta_tui.demo.world import TeamZetaWorld

    world = TeamZetaWorld() if seed is None else TeamZetaWorld(seed)
    now = time.time()
    requests = list(WorldRequests(world).generate(now - 60, now))
    random.Random(0).shuffle(requests)  # a step's requests come group by group; mix them
    out = []
    for r in requests[:count]:
        fields = {
            "tenant_id": r.tenant_id,
            "user_id": r.user_id,
            "endpoint": r.endpoint,
            "method": r.method,
            "status_code": r.status_code,
            "latency_ms": r.latency_ms,
            "context.user_agent": r.user_agent,
            "context.ip_address": r.ip_address,
            "context.api_key_id": r.api_key_id,
        }
        out.append(
            LogRecord(r.timestamp_ns, normalise_level(r.level), r.service, r.message, fields, r.trace_id, r.span_id, "")
        )
    return out


class BenchSource(LogSource):
    kind = "bench"
    url = "local"

    def __init__(
        self,
        *,
        rate: float = 0.0,
        page: int = 1000,
        interval: float = 0.05,
        limit: int = 0,
        stats_path: str | None = None,
        templates: list[LogRecord] | None = None,
    ) -> None:
        self.rate = rate
        self.page = page
        self.interval = interval
        self.limit = limit  # stop yielding after this many records (0: never)
        self.templates = templates if templates is not None else world_templates()
        self.seq = 0
        # Appended to for the whole run; closed when the process exits.
        self._stats = open(stats_path, "a", buffering=1 << 16) if stats_path else None  # noqa: SIM115

    def make(self, n: int) -> tuple[LogRecord, ...]:
        """The next ``n`` records, stamped now."""
        templates, size = self.templates, len(self.templates)
        now = time.time_ns()
        seq = self.seq
        out = []
        for i in range(seq, seq + n):
            t = templates[i % size]
            out.append(
                LogRecord(
                    now, t.level, t.service, f"#{i} {t.message}", dict(t.fields), f"{i:032x}", t.span_id, f"{i:016x}"
                )
            )
        self.seq = seq + n
        return tuple(out)

    def _log(self) -> None:
        if self._stats is not None:
            self._stats.write(f"{time.perf_counter():.6f} {self.seq - 1}\n")
            self._stats.flush()

    async def search(
        self, query: Any, time_range: TimeRange, *, limit: int = 500, newest_first: bool = True, cursor: Any = None
    ) -> LogPage:
        return LogPage(())

    async def check(self) -> tuple[BuildInfo, float]:
        return BuildInfo("bench", flavour="bench"), 0.0

    async def tail(self, query: Any, since_ns: int, *, clock=None) -> AsyncIterator[LogPage]:
        start = time.perf_counter()
        first = self.seq
        while True:
            if self.limit and self.seq >= self.limit:
                await asyncio.sleep(3600)
                continue
            if self.rate <= 0:
                n = self.page
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(self.interval)
                n = int((time.perf_counter() - start) * self.rate) - (self.seq - first)
                if n <= 0:
                    continue
            if self.limit:
                n = min(n, self.limit - self.seq)
            records = self.make(n)
            self._log()
            yield LogPage(records)
