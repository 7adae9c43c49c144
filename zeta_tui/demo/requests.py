"""The world's requests, one by one: the log line behind every counter increment.

For each 15 s scrape step the world's own series say how many requests each
(job, instance, endpoint, method, status) served (the increase of ``http_requests_total``)
and how their latencies fell into buckets (the increases of
``http_request_duration_seconds_bucket``). This module turns those numbers back into
individual requests, so logs, metrics and (later) traces tell the same story:

- request number ``seq`` of a series is the one that moved its counter to ``seq``; its
  timestamp lies inside the step whose scrape first counts it, evenly spread with jitter;
- the latencies of an (instance, endpoint) in a step are exactly its bucket increases, one
  request per bucket slot, uniform (in whole milliseconds) inside its bucket;
- every id and attribute is a hash of (seed, series, seq), so any window, generated in any
  order or by another process, gives the same requests, and a trace generator can derive the
  same ``trace_id``/``span_id`` from the same inputs (see ``request_digest``);
- a request's tenant is drawn by the tenants' shares of traffic, except that during an
  ml-engine spike the 5xx of POST /api/v1/recommendations belong to the tenants whose model
  the downed ml-engine pod holds (``Tenant.model_pod``), and that step's other requests of the
  endpoint lean the other way by as much, so every tenant keeps its share of the traffic while
  only those tenants lose availability (and the pro and enterprise ones among them their SLA).

Sampling: ``sample_every = N`` keeps the requests whose ``seq`` is a multiple of N, so the
kept count of a series over (t0, t1] is exactly ``c(t1) // N - c(t0) // N``. N = 1 logs every
request; the demo uses ``DEMO_SAMPLE_EVERY`` (see log_store.py) to keep the store small.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import NamedTuple

from zeta_tui.demo.incidents import AUTH_LOGIN_BURST, LATENCY_REGRESSION, ML_ERROR_SPIKE, ML_SPIKE_DOWN_INDEX
from zeta_tui.demo.topology import LATENCY_BUCKETS
from zeta_tui.demo.world import TeamZetaWorld

STEP_SECONDS = 15  # the live scrape interval: a step's requests are what one scrape adds
_STEP_NS = STEP_SECONDS * 1_000_000_000
# Whole-millisecond latency bounds of each bucket: a request in bucket (lo, hi] takes lo+1..hi ms.
_BOUNDS_MS = tuple(round(float(le) * 1000) if le != "+Inf" else 20_000 for le in LATENCY_BUCKETS)
_LOWER_MS = (0, *_BOUNDS_MS[:-1])
_PRIME = 1_000_003  # > any step's request count: p -> p * _PRIME % n is a permutation of 0..n-1

_USER_AGENTS = (
    "zeta-python-sdk/2.4.1",
    "zeta-js-sdk/3.1.0",
    "okhttp/4.12.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15",
    "curl/8.5.0",
    "zeta-go-sdk/1.9.2",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
)
_USERS_PER_TENANT = 250
_SPIKE_ENDPOINT = "/api/v1/recommendations"  # its 5xx in an ml-engine spike are the downed pod's tenants'
_KEYS_PER_TENANT = 3


class WorldRequest(NamedTuple):
    """One request as the log line records it (the seed's structured format, flat)."""

    timestamp_ns: int
    level: str
    service: str
    instance: str
    trace_id: str
    span_id: str
    tenant_id: str
    user_id: str
    endpoint: str
    method: str
    status_code: int
    latency_ms: int
    message: str
    user_agent: str
    ip_address: str
    api_key_id: str
    seq: int  # this request moved its series' counter to seq

    def log_fields(self) -> dict[str, object]:
        """The record as the platform's JSON log line (nested ``context``)."""
        from datetime import datetime

        sec, ns = divmod(self.timestamp_ns, 1_000_000_000)
        stamp = datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns // 1000:06d}Z"
        return {
            "timestamp": stamp,
            "level": self.level,
            "service": self.service,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "endpoint": self.endpoint,
            "method": self.method,
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "message": self.message,
            "context": {"user_agent": self.user_agent, "ip_address": self.ip_address, "api_key_id": self.api_key_id},
        }


def level_of(status: int) -> str:
    """ERROR for 5xx, WARN for 4xx, INFO otherwise."""
    return "ERROR" if status >= 500 else ("WARN" if status >= 400 else "INFO")


def request_digest(seed: int, instance: str, method: str, endpoint: str, status: str | int, seq: int) -> bytes:
    """32 bytes identifying one request: trace_id = [0:16].hex(), span_id = [16:24].hex().

    A trace generator for the same request calls this with the same arguments.
    """
    return hashlib.blake2b(f"{seed}|{instance}|{method} {endpoint}|{status}|{seq}".encode(), digest_size=32).digest()


@dataclass(frozen=True)
class _Group:
    """The series of one (instance, endpoint): status counters and finite latency buckets."""

    service: str
    instance: str
    endpoint: str
    method: str
    statuses: tuple[tuple[str, object], ...]  # (status, http_requests_total series)
    buckets: tuple[object, ...]  # finite-le bucket series, in LATENCY_BUCKETS order


def bucket_counts(finite_deltas: list[int], total: int) -> tuple[list[int], bool]:
    """Requests per bucket (finite buckets then +Inf) from cumulative bucket increases.

    Each counter is a floor of a smooth function, so a step's cumulative increases can be out
    of order by one; they are clamped into [previous, total] so counts stay >= 0 and sum to
    ``total``. Returns the counts and whether anything had to be clamped.
    """
    counts, prev, clamped = [], 0, False
    for d in finite_deltas:
        c = min(max(d, prev), total)
        clamped |= c != d
        counts.append(c - prev)
        prev = c
    counts.append(total - prev)
    return counts, clamped


class WorldRequests:
    """Generates the world's requests for any window of whole scrape steps."""

    def __init__(self, world: TeamZetaWorld, sample_every: int = 1) -> None:
        if sample_every < 1:
            raise ValueError("sample_every must be >= 1")
        self.world = world
        self.sample_every = sample_every
        self.clamped_steps = 0  # (group, step) pairs whose bucket increases needed clamping
        topo = world.topology
        groups = []
        for e in topo.endpoints:
            for inst in topo.service(e.service).instances:
                statuses = tuple(
                    (
                        status,
                        world.one(
                            "http_requests_total",
                            instance=inst.instance,
                            endpoint=e.path,
                            method=e.method,
                            status=status,
                        ),
                    )
                    for status, _ in e.statuses
                )
                buckets = tuple(
                    world.one("http_request_duration_seconds_bucket", instance=inst.instance, endpoint=e.path, le=le)
                    for le in LATENCY_BUCKETS[:-1]
                )
                groups.append(_Group(e.service, inst.instance, e.path, e.method, statuses, buckets))
        self.groups = tuple(groups)
        total = sum(t.share for t in topo.tenants)
        acc, cum = 0.0, []
        for t in topo.tenants:
            acc += t.share / total
            cum.append(int(acc * 2**32))
        cum[-1] = 2**32
        self._tenant_cum = cum
        self._tenants = tuple((t.tenant_id, int(t.tenant_id.rsplit("_", 1)[1])) for t in topo.tenants)
        self._shares = tuple(t.share / total for t in topo.tenants)
        self._on_down_pod = tuple(t.model_pod == ML_SPIKE_DOWN_INDEX for t in topo.tenants)
        self._down_share = sum(s for s, down in zip(self._shares, self._on_down_pod) if down)

    def _spike_cums(self, failed: int, total: int) -> tuple[list[int], list[int]] | None:
        """(tenant table of the failed, of the others) for a step of the spike endpoint in which
        ``failed`` of ``total`` requests failed: the failed are the downed pod's tenants' (D, a share
        f of the traffic), the others lean away from D so each tenant keeps its share: a tenant of
        D gets share * (f - e) / (f * (1 - e)) of the others, one outside share / (1 - e), with
        e = failed / total. None when nothing failed or more failed than D's share could hold."""
        e, f = failed / total, self._down_share
        if failed <= 0 or e >= f:
            return None
        failed_w = [s / f if down else 0.0 for s, down in zip(self._shares, self._on_down_pod)]
        other_w = [
            s * (f - e) / (f * (1 - e)) if down else s / (1 - e) for s, down in zip(self._shares, self._on_down_pod)
        ]
        return _cumulative(failed_w), _cumulative(other_w)

    @staticmethod
    def steps(start: float, end: float) -> list[int]:
        """Start times (unix s) of the steps whose scrape (their end) falls in (start, end].

        Consecutive windows (a, b], (b, c] give every step once, wherever a, b, c fall, so a
        live writer can call ``generate(last, now)`` on each tick.
        """
        first_end = (int(start // STEP_SECONDS) + 1) * STEP_SECONDS
        last_end = int(end // STEP_SECONDS) * STEP_SECONDS
        return list(range(first_end - STEP_SECONDS, last_end - STEP_SECONDS + 1, STEP_SECONDS))

    def counts(self, t: int) -> list[tuple[list[int], list[int]]]:
        """Per group: (status counter values, finite bucket values) at ``t``."""
        basis = self.world.basis.at(t)
        return [
            ([int(s.value(basis, t)) for _, s in g.statuses], [int(b.value(basis, t)) for b in g.buckets])  # type: ignore[attr-defined]
            for g in self.groups
        ]

    def generate(self, start: float, end: float) -> Iterator[WorldRequest]:
        """Every (sampled) request of the steps scraped in (start, end], step by step.

        On the 15 s grid that is every request stamped in [start, end).
        """
        steps = self.steps(start, end)
        if not steps:
            return
        before = self.counts(steps[0])
        for t0 in steps:
            after = self.counts(t0 + STEP_SECONDS)
            yield from self._step(t0, before, after)
            before = after

    def _step(self, t0: int, before, after) -> Iterator[WorldRequest]:
        n_keep, seed = self.sample_every, self.world.seed
        active = {i.name for i in self.world.active_incidents(t0 + STEP_SECONDS / 2)}
        t0_ns = t0 * 1_000_000_000
        tenants = self._tenants
        for g, (c0, b0), (c1, b1) in zip(self.groups, before, after):
            total = sum(c1) - sum(c0)
            if total <= 0:
                continue
            failed_cum = other_cum = self._tenant_cum
            if ML_ERROR_SPIKE in active and g.endpoint == _SPIKE_ENDPOINT:
                failed = sum(hi - lo for (status, _), lo, hi in zip(g.statuses, c0, c1) if status.startswith("5"))
                cums = self._spike_cums(failed, total)
                if cums is not None:
                    failed_cum, other_cum = cums
            per_bucket, clamped = bucket_counts([y - x for x, y in zip(b0, b1)], total)
            self.clamped_steps += clamped
            cum, acc = [], 0
            for n in per_bucket:
                acc += n
                cum.append(acc)
            offset = (
                int.from_bytes(
                    hashlib.blake2b(f"{seed}|{g.instance}|{g.endpoint}|{t0}".encode(), digest_size=8).digest(), "big"
                )
                % total
            )
            position = 0
            for (status, _), lo, hi in zip(g.statuses, c0, c1):
                n = hi - lo
                first = lo + 1 + (-(lo + 1) % n_keep)  # the first kept seq in (lo, hi]
                code = int(status)
                level = level_of(code)
                tenant_cum = failed_cum if code >= 500 else other_cum
                for seq in range(first, hi + 1, n_keep):
                    i = seq - lo - 1  # index of this request within its series' step
                    d = request_digest(seed, g.instance, g.method, g.endpoint, status, seq)
                    u, v = int.from_bytes(d[:8], "big"), int.from_bytes(d[24:32], "big")
                    ts = t0_ns + ((i * 1_000_000 + (u & 0xFFFFFFFF) % 1_000_000) * _STEP_NS) // (n * 1_000_000)
                    slot = ((position + i) * _PRIME + offset) % total
                    b = bisect_right(cum, slot)
                    lat = _LOWER_MS[b] + 1 + (v & 0xFFFFFFFF) % (_BOUNDS_MS[b] - _LOWER_MS[b])
                    tenant_id, tenant_n = tenants[bisect_right(tenant_cum, v >> 32)]
                    user_n = (u >> 32) % _USERS_PER_TENANT
                    user_id = f"user_{tenant_n:03d}{user_n:04d}"
                    message = _message(g, code, lat, tenant_id, user_id, active)
                    yield WorldRequest(
                        ts,
                        level,
                        g.service,
                        g.instance,
                        d[:16].hex(),
                        d[16:24].hex(),
                        tenant_id,
                        user_id,
                        g.endpoint,
                        g.method,
                        code,
                        lat,
                        message,
                        _USER_AGENTS[(tenant_n + user_n) % len(_USER_AGENTS)],
                        f"10.{tenant_n % 250}.{user_n // 250}.{user_n % 250 + 1}",
                        f"ak_{tenant_n:03d}_{(user_n % _KEYS_PER_TENANT) + 1}",
                        seq,
                    )
                position += n


def _cumulative(weights: list[float]) -> list[int]:
    """Cumulative weights (summing to 1) as a bisect table over [0, 2**32); a zero weight is never drawn."""
    acc, cum = 0.0, []
    for w in weights:
        acc += w
        cum.append(int(acc * 2**32))
    last = max(i for i, w in enumerate(weights) if w > 0)
    for i in range(last, len(cum)):
        cum[i] = 2**32
    return cum


_ERRORS = {
    400: "invalid request body: field 'context' must be an object",
    401: "invalid credentials",
    404: "not found",
    429: "rate limit exceeded for tenant",
    500: "internal server error: unhandled exception",
    502: "bad gateway: upstream ml-engine returned 503",
    503: "service unavailable: upstream connect error or disconnect/reset before headers",
}


def _message(g: _Group, code: int, latency_ms: int, tenant_id: str, user_id: str, active: set[str]) -> str:
    head = f"{g.method} {g.endpoint} {code} {latency_ms}ms"
    if code < 400:
        if latency_ms > 1000 and LATENCY_REGRESSION in active and g.endpoint == "/api/v1/recommendations":
            return f"{head} slow: ml-engine ranking took {latency_ms - latency_ms // 10}ms"
        return head
    text = _ERRORS.get(code, "error")
    if code == 401 and g.endpoint == "/api/v1/auth/login":
        text = f"login failed for {user_id}: invalid credentials" + (
            " (burst from many IPs)" if AUTH_LOGIN_BURST in active else ""
        )
    elif code == 429:
        text = f"rate limit exceeded for {tenant_id}"
    elif g.service == "ml-engine" and ML_ERROR_SPIKE in active:
        text = (
            "model server OOMKilled, restarting: " + text
            if code == 503
            else "CUDA out of memory during batch inference"
        )
    elif code == 502 and ML_ERROR_SPIKE in active:
        text = "bad gateway: ml-engine /internal/embed returned 503 (ml-engine spike)"
    return f"{head}: {text}"
