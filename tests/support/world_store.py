"""A chdb store holding the world's logs and traces for the same requests (screen tests, snapshots)."""

from __future__ import annotations

from tests.support.world import SEED, T0
from zeta_tui.config.models import ContextConfig, LogsConfig, TracesConfig, ZetaConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.trace_store import WorldSpans, WorldTraceStore
from zeta_tui.demo.world import TeamZetaWorld

END = int(T0) // STEP_SECONDS * STEP_SECONDS  # inside the ml-engine spike and the latency regression


class WorldStore:
    """``requests`` written as logs and traces at ``path``; ``spans(r)`` is a request's trace as generated."""

    def __init__(self, path, seconds: int, sample_every: int) -> None:
        self.path = str(path)
        self.world = TeamZetaWorld(SEED)
        self.requests = list(WorldRequests(self.world, sample_every=sample_every).generate(END - seconds, END))
        self.logs = WorldLogStore(path, sample_every=sample_every)
        self.logs.insert(self.requests)
        self.traces = WorldTraceStore(path, self.world, sample_every=sample_every)
        self.traces.insert(self.requests)
        self._spans = WorldSpans(self.world)

    def spans(self, request):
        return self._spans.of(request)

    def config(self, *, traces: TracesConfig | None = None, time_range: str = "15m") -> ZetaConfig:
        context = ContextConfig(
            logs=LogsConfig(kind="clickhouse", path=self.path),
            traces=traces or TracesConfig(kind="clickhouse", path=self.path),
            time_range=time_range,
        )
        return ZetaConfig(default_context="w", contexts={"w": context})

    def close(self) -> None:
        self.logs.close()
