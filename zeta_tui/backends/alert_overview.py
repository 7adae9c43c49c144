"""Fetching the alerts overview: Alertmanager's alerts and Prometheus's, at once.

Used by `zeta alerts` and the Alerts screen; rows and their merge are models/alert_overview.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from zeta_tui.errors import ZetaError
from zeta_tui.models.alert_overview import AlertRow, merge, sort_rows
from zeta_tui.models.alerts import Alert
from zeta_tui.models.metrics_meta import RuleAlert

#: what the list cannot tell without Prometheus's rules: alerts whose condition holds but whose
#: ``for`` has not passed exist only there
UNKNOWN_WITHOUT_PROMETHEUS = ("pending",)
#: what it cannot tell without Alertmanager: what mutes an alert and where it routes
UNKNOWN_WITHOUT_ALERTMANAGER = ("silences", "inhibitions", "receivers")


@dataclass
class AlertsFetched:
    """What the two backends answered: their alerts, Prometheus's warnings, the errors of those
    that could not be read, and which backends were not read (not configured, or failed)."""

    am_alerts: list[Alert]
    prom_alerts: list[RuleAlert]
    warnings: tuple[str, ...] = ()
    errors: list[ZetaError] = field(default_factory=list)
    #: "alertmanager" and/or "prometheus": not configured in the context, or not read
    unread: tuple[str, ...] = ()

    @property
    def unknown(self) -> tuple[str, ...]:
        """What this list cannot say because a backend was not read: ``pending`` without
        Prometheus; ``silences``, ``inhibitions`` and ``receivers`` without Alertmanager."""
        return (UNKNOWN_WITHOUT_PROMETHEUS if "prometheus" in self.unread else ()) + (
            UNKNOWN_WITHOUT_ALERTMANAGER if "alertmanager" in self.unread else ()
        )

    def rows(self) -> list[AlertRow]:
        """One row per alert, severity first, then newest."""
        return sort_rows(merge(self.am_alerts, self.prom_alerts))


async def fetch_alerts(am_client: Any, prom_client: Any) -> AlertsFetched:
    """Both backends at once (either may be None); a backend that fails gives its error instead
    of its alerts. Anything but a ZetaError is a bug and is raised."""

    async def from_am() -> list[Alert]:
        return await am_client.alerts() if am_client is not None else []

    async def from_prom() -> tuple[list[RuleAlert], tuple[str, ...]]:
        if prom_client is None:
            return [], ()
        result = await prom_client.rule_alerts()
        return list(result.data), result.warnings

    am_result, prom_result = await asyncio.gather(from_am(), from_prom(), return_exceptions=True)
    errors: list[ZetaError] = []
    am_alerts: list[Alert] = []
    prom_alerts: list[RuleAlert] = []
    for result in (am_result, prom_result):
        if isinstance(result, BaseException) and not isinstance(result, ZetaError):
            raise result
    if isinstance(am_result, ZetaError):
        errors.append(am_result)
    else:
        am_alerts = am_result  # type: ignore[assignment]
    warnings: tuple[str, ...] = ()
    if isinstance(prom_result, ZetaError):
        errors.append(prom_result)
    else:
        prom_alerts, warnings = prom_result  # type: ignore[misc]
    unread = tuple(
        name
        for name, client, result in (("alertmanager", am_client, am_result), ("prometheus", prom_client, prom_result))
        if client is None or isinstance(result, ZetaError)
    )
    return AlertsFetched(am_alerts, prom_alerts, tuple(f"prometheus: {w}" for w in warnings), errors, unread)
