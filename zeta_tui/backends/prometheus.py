"""Prometheus HTTP API v1 (also Thanos, Mimir, VictoriaMetrics)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from zeta_tui.backends.http import HttpBackend
from zeta_tui.config.models import PrometheusConfig
from zeta_tui.errors import BackendUnavailable, QueryError
from zeta_tui.models.metrics_meta import BuildInfo, Rule, RuleAlert, RuleGroup, Target
from zeta_tui.models.series import InstantSample, QueryResult, Sample, Series


def _float(text: str) -> float:
    # Prometheus encodes NaN and ±Inf as strings "NaN", "+Inf", "-Inf"; float() reads them all.
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _ts(t: float | str) -> str:
    return f"{float(t):.3f}"


class PrometheusClient(HttpBackend):
    """Queries a Prometheus-compatible API. Every method raises only ZetaError subclasses."""

    kind = "prometheus"

    def __init__(self, cfg: PrometheusConfig) -> None:
        super().__init__(cfg)

    async def _api(
        self,
        path: str,
        params: Iterable[tuple[str, str]] | dict[str, str] | None = None,
        *,
        method: str = "GET",
        build: Callable[[Any], Any] = lambda data: data,
    ) -> tuple[Any, tuple[str, ...]]:
        """Call /api/v1/<path>; return (build(data), warnings) or raise QueryError with Prometheus's
        message. A large answer is decoded and built in a worker thread (HttpBackend.read)."""
        if method == "POST":
            resp = await self.request("POST", f"/api/v1/{path}", data=dict(params or {}))
        else:
            resp = await self.request(
                "GET",
                f"/api/v1/{path}",
                params=list(params.items()) if isinstance(params, dict) else list(params or []),
            )
        self.raise_for_auth(resp)
        return await self.read(resp, lambda body: self._envelope(resp, body, build))

    def _envelope(self, resp: Any, body: Any, build: Callable[[Any], Any]) -> tuple[Any, tuple[str, ...]]:
        if not isinstance(body, dict) or "status" not in body:
            raise BackendUnavailable(
                f"HTTP {resp.status_code}: the answer is JSON but not a Prometheus API envelope",
                where=self.where,
                hint="is this URL a Prometheus-compatible API?",
            )
        warnings = tuple(str(w) for w in body.get("warnings") or ()) + tuple(
            f"info: {i}" for i in body.get("infos") or ()
        )
        # "warning" is not in Prometheus's own API, but proxies and compatible stores send it with
        # data and warnings (a partial answer): the data are read and the warnings shown.
        if body["status"] == "warning" and "data" in body:
            return build(body.get("data")), warnings or (
                f'the server answered with status "warning" and no reason (HTTP {resp.status_code})',
            )
        if body["status"] != "success":
            error_type = str(body.get("errorType", ""))
            message = str(body.get("error", f"HTTP {resp.status_code}"))
            cls = (
                QueryError
                if error_type in ("bad_data", "execution", "canceled", "timeout", "not_found")
                or resp.status_code in (400, 422)
                else BackendUnavailable
            )
            kwargs: dict[str, Any] = {"where": self.where}
            if cls is QueryError:
                kwargs["error_type"] = error_type
                syntax = error_type == "bad_data" or "parse error" in message or "unexpected" in message
                kwargs["hint"] = (
                    "fix the expression (or parameter) named in the message"
                    if syntax
                    else "narrow the time range or simplify the query"
                )
            else:
                kwargs["hint"] = "the server reported an internal error; retry later or check its logs"
            raise cls(f"{error_type}: {message}" if error_type else message, **kwargs)
        return build(body.get("data")), warnings

    # --- queries -----------------------------------------------------------------------

    async def query(self, expr: str, at: float | None = None) -> QueryResult[list[InstantSample]]:
        params = {"query": expr}
        if at is not None:
            params["time"] = _ts(at)
        samples, warnings = await self._api("query", params, method="POST", build=_instant)
        return QueryResult(samples, warnings)

    async def query_range(self, expr: str, start: float, end: float, step: float) -> QueryResult[list[Series]]:
        params = {"query": expr, "start": _ts(start), "end": _ts(end), "step": f"{step:g}"}
        series, warnings = await self._api("query_range", params, method="POST", build=self._range_result)
        return QueryResult(series, warnings)

    async def samples(self, selector: str, start: float, end: float) -> QueryResult[list[Series]]:
        """Every raw sample of the series ``selector`` picks in [start, end] (no step, no
        extrapolation): an instant query of ``selector[<end - start>s]`` at ``end``."""
        seconds = max(1, int(end - start + 0.999))
        params = {"query": f"{selector}[{seconds}s]", "time": _ts(end)}
        series, warnings = await self._api("query", params, method="POST", build=self._range_result)
        return QueryResult(series, warnings)

    def _range_result(self, data: Any) -> list[Series]:
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        if kind != "matrix":
            raise QueryError(
                f"a range query answered with {kind!r}, not a matrix",
                where=self.where,
                hint="is this URL a Prometheus-compatible API?",
            )
        return _matrix(data.get("result") or [])

    async def label_values(
        self, label: str, match: Iterable[str] = (), start: float | None = None, end: float | None = None
    ) -> QueryResult[list[str]]:
        params = _match_params(match, start, end)
        data, warnings = await self._api(f"label/{label}/values", params)
        return QueryResult(sorted(str(v) for v in data or []), warnings)

    async def label_names(
        self, match: Iterable[str] = (), start: float | None = None, end: float | None = None
    ) -> QueryResult[list[str]]:
        """Label names of the series ``match`` selects (all series when empty) in [start, end]."""
        params = _match_params(match, start, end)
        data, warnings = await self._api("labels", params)
        return QueryResult(sorted(str(v) for v in data or []), warnings)

    async def series(
        self, match: Iterable[str], start: float | None = None, end: float | None = None
    ) -> QueryResult[list[dict[str, str]]]:
        params = _match_params(match, start, end)
        data, warnings = await self._api("series", params)
        return QueryResult([dict(s) for s in data or []], warnings)

    async def targets(self) -> QueryResult[list[Target]]:
        data, warnings = await self._api("targets", {"state": "active"})
        out = [
            Target(
                job=t.get("labels", {}).get("job", t.get("scrapePool", "")),
                instance=t.get("labels", {}).get("instance", ""),
                health=t.get("health", "unknown"),
                scrape_url=t.get("scrapeUrl", ""),
                last_error=t.get("lastError", ""),
                labels=dict(t.get("labels", {})),
            )
            for t in (data or {}).get("activeTargets", [])
        ]
        return QueryResult(out, warnings)

    async def rules(self) -> QueryResult[list[RuleGroup]]:
        data, warnings = await self._api("rules")
        groups = []
        for g in (data or {}).get("groups", []):
            rules = tuple(
                Rule(
                    name=r.get("name", ""),
                    kind=r.get("type", ""),
                    query=r.get("query", ""),
                    health=r.get("health", ""),
                    state=r.get("state", ""),
                    last_error=r.get("lastError", ""),
                    duration=float(r.get("duration", 0) or 0),
                    labels=dict(r.get("labels") or {}),
                    annotations=dict(r.get("annotations") or {}),
                    alerts=tuple(_rule_alert(a) for a in r.get("alerts") or ()),
                )
                for r in g.get("rules", [])
            )
            groups.append(RuleGroup(g.get("name", ""), g.get("file", ""), float(g.get("interval", 0) or 0), rules))
        return QueryResult(groups, warnings)

    async def alerts(self) -> QueryResult[list[RuleAlert]]:
        data, warnings = await self._api("alerts")
        return QueryResult([_rule_alert(a) for a in (data or {}).get("alerts", [])], warnings)

    async def rule_alerts(self) -> QueryResult[list[RuleAlert]]:
        """Every pending and firing alert, each with its rule's ``for`` (from /api/v1/rules).

        /api/v1/alerts does not say how long a rule waits before firing; the rules API does,
        and detection latency needs it where Prometheus reports no firing time (2.x sends
        Alertmanager ``startsAt = activeAt``).
        """
        answer = await self.rules()
        alerts = [
            replace(a, for_seconds=rule.duration)
            for g in answer.data
            for rule in g.rules
            if rule.kind == "alerting"
            for a in rule.alerts
        ]
        return QueryResult(alerts, answer.warnings)

    async def build_info(self) -> BuildInfo:
        """Version and revision; "unknown" where the server has no (or an empty) buildinfo."""
        try:
            data, _ = await self._api("status/buildinfo")
        except QueryError:
            data = None
        except BackendUnavailable as exc:
            if "HTTP 404" not in exc.message:
                raise
            data = None
        if data is None:
            # Some gateways lack buildinfo; a working query is proof enough that the API is there.
            await self.query("1")
            return BuildInfo(version="unknown", flavour="prometheus-compatible")
        version = str(data.get("version", "")) if isinstance(data, dict) else ""
        if not version:  # VictoriaMetrics answers {"data": {}}
            return BuildInfo(version="unknown", flavour="prometheus-compatible")
        return BuildInfo(version=version, revision=str(data.get("revision", "")))

    async def check(self) -> tuple[BuildInfo, float]:
        """Health probe: build info and round-trip seconds."""
        _ = self.client  # build the client (TLS context, proxies) outside the timed exchange
        t0 = time.perf_counter()
        info = await self.build_info()
        return info, time.perf_counter() - t0


def _match_params(match: Iterable[str], start: float | None, end: float | None) -> list[tuple[str, str]]:
    params = [("match[]", m) for m in match]
    if start is not None:
        params.append(("start", _ts(start)))
    if end is not None:
        params.append(("end", _ts(end)))
    return params


def _rule_alert(a: dict[str, Any]) -> RuleAlert:
    return RuleAlert(
        name=a.get("labels", {}).get("alertname", ""),
        state=a.get("state", ""),
        labels=dict(a.get("labels") or {}),
        annotations=dict(a.get("annotations") or {}),
        active_at=a.get("activeAt", "") or "",
        value=str(a.get("value", "")),
    )


def _instant(data: dict[str, Any]) -> list[InstantSample]:
    kind = data.get("resultType")
    result: Any = data.get("result")  # its shape depends on resultType
    if kind == "vector":
        return [
            InstantSample(dict(r.get("metric", {})), float(r["value"][0]), _float(r["value"][1])) for r in result or []
        ]
    if kind == "scalar":
        return [InstantSample({}, float(result[0]), _float(result[1]))]
    if kind == "matrix":  # an instant query of a range selector; keep the newest sample
        return [
            InstantSample(dict(s.get("metric", {})), float(s["values"][-1][0]), _float(s["values"][-1][1]))
            for s in result or []
            if s.get("values")
        ]
    if kind == "string":
        return [InstantSample({"value": str(result[1])}, float(result[0]), math.nan)]
    return []


def _matrix(result: list[dict[str, Any]]) -> list[Series]:
    return [
        Series(dict(s.get("metric", {})), tuple(Sample(float(t), _float(v)) for t, v in s.get("values", [])))
        for s in result
    ]
