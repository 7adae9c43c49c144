"""Which adapter serves which section of a context (prometheus, alertmanager, ...).

Each section kind maps to one adapter here, so callers such as `zeta check` probe every section
without knowing its kind. Adapter modules are imported only when their section is configured.
"""

from __future__ import annotations

from typing import Protocol

from zeta_tui.config.models import (
    AlertmanagerConfig,
    ClickHouseConfig,
    HttpBackendConfig,
    LogsConfig,
    PrometheusConfig,
    TracesConfig,
)
from zeta_tui.errors import ConfigError
from zeta_tui.models.metrics_meta import BuildInfo


class HealthProbe(Protocol):
    """What `zeta check` needs of any adapter."""

    kind: str
    url: str

    async def check(self) -> tuple[BuildInfo, float]:
        """Version of the server and round-trip seconds; raises ZetaError subclasses only."""
        ...

    async def aclose(self) -> None: ...


def client_for(section: str, cfg: HttpBackendConfig) -> HealthProbe:
    """A new, unconnected adapter for one configured section."""
    if isinstance(cfg, PrometheusConfig):
        from zeta_tui.backends.prometheus import PrometheusClient

        return PrometheusClient(cfg)
    if isinstance(cfg, AlertmanagerConfig):
        from zeta_tui.backends.alertmanager import AlertmanagerClient

        return AlertmanagerClient(cfg)
    if isinstance(cfg, LogsConfig):
        from zeta_tui.backends.logs.factory import log_source_for

        return log_source_for(cfg)
    if isinstance(cfg, TracesConfig):
        from zeta_tui.backends.traces.factory import trace_source_for

        return trace_source_for(cfg)
    if isinstance(cfg, ClickHouseConfig):
        from zeta_tui.backends.analytics import AnalyticsProbe

        return AnalyticsProbe(cfg)
    raise ConfigError(f"no adapter for the {section!r} section yet", hint="remove the section or upgrade zeta")
