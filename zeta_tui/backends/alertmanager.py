"""Alertmanager API v2. For now only the health probe; alerts and silences come with later issues."""

from __future__ import annotations

import time
from typing import Any

from zeta_tui.backends.http import HttpBackend
from zeta_tui.config.models import AlertmanagerConfig
from zeta_tui.errors import BackendUnavailable
from zeta_tui.models.metrics_meta import BuildInfo


class AlertmanagerClient(HttpBackend):
    """Talks to an Alertmanager (API v2). Every method raises only ZetaError subclasses."""

    kind = "alertmanager"

    def __init__(self, cfg: AlertmanagerConfig) -> None:
        super().__init__(cfg)

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET /api/v2/<path> and decode it; HTTP errors become ZetaErrors quoting the server."""
        resp = await self.request("GET", f"/api/v2/{path}", params=params)
        self.raise_for_auth(resp)
        body = self.decode_json(resp)
        if resp.status_code >= 400:
            # Alertmanager's v2 errors are a bare JSON string or {"code":..,"message":..}.
            message = body.get("message", body) if isinstance(body, dict) else body
            raise BackendUnavailable(f"HTTP {resp.status_code}: {message}", where=self.where, hint="check the URL and the Alertmanager's logs")
        return body

    async def status(self) -> dict[str, Any]:
        """The raw /api/v2/status object (cluster, versionInfo, config, uptime)."""
        body = await self._get("status")
        if not isinstance(body, dict) or "versionInfo" not in body:
            raise BackendUnavailable(
                "the answer to /api/v2/status has no versionInfo", where=self.where, hint="is this URL an Alertmanager (API v2)?"
            )
        return body

    async def build_info(self) -> BuildInfo:
        """Version and revision from /api/v2/status."""
        info = (await self.status()).get("versionInfo") or {}
        return BuildInfo(version=str(info.get("version") or "unknown"), revision=str(info.get("revision", "")), flavour="alertmanager")

    async def check(self) -> tuple[BuildInfo, float]:
        """Health probe: build info and round-trip seconds."""
        _ = self.client  # build the client (TLS context, proxies) outside the timed exchange
        t0 = time.perf_counter()
        info = await self.build_info()
        return info, time.perf_counter() - t0
