"""What one run of the console works with: the chosen context, its backends, the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zeta_tui.errors import NotConfigured, ZetaError

if TYPE_CHECKING:  # these pull in pydantic and httpx; the app must start without them
    from zeta_tui.backends.alertmanager import AlertmanagerClient
    from zeta_tui.backends.analytics import AnalyticsSource
    from zeta_tui.backends.discovery import ServiceDirectory
    from zeta_tui.backends.logs.base import LogSource
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.backends.traces.base import TraceSource
    from zeta_tui.config.models import ContextConfig
    from zeta_tui.models.discovery import ServiceInventory
    from zeta_tui.querying.promql_catalog import PromCatalog


@dataclass
class ConsoleSession:
    """Built by zeta_tui.launch from a validated config; handed to ZetaApp."""

    context_name: str
    context: ContextConfig
    prometheus: PrometheusClient | None
    catalog: PromCatalog
    theme: str = "zeta-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    #: backend kind -> why it cannot be had (e.g. the demo's Prometheus binary is not installed);
    #: the panes that need it show this instead of a generic "not configured".
    unavailable: dict[str, ZetaError] = field(default_factory=dict)
    logs: LogSource | None = None
    traces: TraceSource | None = None
    alertmanager: AlertmanagerClient | None = None
    clickhouse: AnalyticsSource | None = None
    #: what the context's Prometheus has (services, signals, label conventions), asked once for all screens
    directory: ServiceDirectory | None = None

    def require(self, section: str, example: str) -> Any:
        """The client of ``section`` (prometheus, logs, ...), or the error its panes show instead."""
        client = getattr(self, section)
        if client is None:
            if section in self.unavailable:
                raise self.unavailable[section]
            raise NotConfigured(
                f"context {self.context_name!r} has no [{section}] section",
                hint=f"add [contexts.{self.context_name}.{section}] {example} to the config file",
            )
        return client

    async def inventory(self, at: float | None = None) -> ServiceInventory:
        """The services of the context's Prometheus as of ``at``; raises what its panes show."""
        self.require("prometheus", "with url = ...")
        assert self.directory is not None  # built with the Prometheus client
        return await self.directory.inventory(at)

    async def aclose(self) -> None:
        for client in (self.prometheus, self.logs, self.traces, self.alertmanager):
            if client is not None:
                await client.aclose()
        if self.clickhouse is not None:
            await self.clickhouse.close()
