"""A chdb store holding the world's logs and traces for the same requests (screen tests, snapshots),
and optionally their usage (api_usage, api_usage_daily, cost_data, tenants) for the analytics screens."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.world import SEED, T0
from zeta_tui.config.models import ClickHouseConfig, ContextConfig, LogsConfig, TracesConfig, ZetaConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.trace_store import WorldSpans, WorldTraceStore
from zeta_tui.demo.world import TeamZetaWorld

END = int(T0) // STEP_SECONDS * STEP_SECONDS  # inside the ml-engine spike and the latency regression


def store_in_use() -> str | None:
    """The embedded store this test process has open, if any: chdb holds one store per process,
    so a test that needs a store while another module's is open puts its tables there (in a
    database of its own)."""
    from zeta_tui.backends import chdb_store

    return next(iter(chdb_store._sessions), None)


class WorldStore:
    """``requests`` written as logs and traces at ``path``; ``spans(r)`` is a request's trace as generated.

    With ``usage_sample_every`` (a multiple of ``sample_every`` keeps every usage row's log line
    and trace in the store), the same window's usage is written too, in ``usage_database``:
    ``usage_requests`` are its requests (every service; api_usage holds the public ones), and
    the tenants and the window's cost_data are there.
    """

    def __init__(
        self,
        path,
        seconds: int,
        sample_every: int,
        *,
        usage_sample_every: int | None = None,
        usage_database: str = "default",
    ) -> None:
        self.path = str(path)
        self.world = TeamZetaWorld(SEED)
        self.requests = list(WorldRequests(self.world, sample_every=sample_every).generate(END - seconds, END))
        self.logs = WorldLogStore(path, sample_every=sample_every)
        self.logs.insert(self.requests)
        self.traces = WorldTraceStore(path, self.world, sample_every=sample_every)
        self.traces.insert(self.requests)
        self._spans = WorldSpans(self.world)
        self.usage = None
        self.usage_requests: list = []
        if usage_sample_every is not None:
            from zeta_tui.demo.usage_store import WorldUsageStore

            self.usage_requests = list(
                WorldRequests(self.world, sample_every=usage_sample_every).generate(END - seconds, END)
            )
            self.usage = WorldUsageStore(path, self.world, database=usage_database, sample_every=usage_sample_every)
            self.usage.write_tenants(datetime.fromtimestamp(END, tz=UTC).date())
            self.usage.insert(self.usage_requests)
            self.usage.mark_covered(END - seconds, END)  # and the cost of the window's days

    def spans(self, request):
        return self._spans.of(request)

    def config(self, *, traces: TracesConfig | None = None, time_range: str = "15m") -> ZetaConfig:
        clickhouse = ClickHouseConfig(path=self.path, database=self.usage.database) if self.usage is not None else None
        context = ContextConfig(
            logs=LogsConfig(kind="clickhouse", path=self.path),
            traces=traces or TracesConfig(kind="clickhouse", path=self.path),
            clickhouse=clickhouse,
            time_range=time_range,
        )
        return ZetaConfig(default_context="w", contexts={"w": context})

    def close(self) -> None:
        if self.usage is not None:
            self.usage.close()  # its own session
        self.logs.close()
