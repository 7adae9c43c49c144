"""The spans of one world request: the trace behind each log line (pure, no I/O).

``request_spans(request, incidents, setting)`` gives the span tree of a ``WorldRequest``:

- a root SERVER span for the request's service and endpoint whose trace_id and span_id are the
  log record's, ending when the record is written (``timestamp_ns``) and lasting exactly its
  ``latency_ms``, so the trace, the log line and the latency histogram agree;
- below it the calls that endpoint makes in the world's topology (``CALLS``), e.g.
  POST /api/v1/recommendations: authenticate (auth), ml_engine_call (ml-engine) ->
  get_user_embedding -> redis_get (redis), ann_search -> faiss_search, rerank, then log_usage ->
  postgres_insert (postgres);
- child ids are hashes of (trace id, path in the tree); children run one after another (or
  side by side for a ``parallel`` step) inside their parent, which keeps some self time;
- a 4xx request stops after its gate (authentication, validation); a 5xx request has an error
  span where the fault is (the ml-engine span during the ml-engine spike or for a 502/503,
  else the root itself), its ancestors error too and what would have come after is not called;
- during the latency regression on recommendations the ``rerank`` call is the one that grew;
  above 1 s the ml_engine_call span takes exactly the time the log line reports.

Same request, incidents and setting -> the same spans.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from zeta_tui.demo.incidents import LATENCY_REGRESSION, ML_ERROR_SPIKE
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequest
from zeta_tui.models.traces import Span, SpanEvent

_DATASTORES = {"redis": "redis", "postgres": "postgresql"}


@dataclass(frozen=True)
class Call:
    """One step of an endpoint's work: a span named ``name`` in ``service`` ("" = the caller's)."""

    name: str
    service: str = ""
    weight: float = 1.0
    children: tuple[Call, ...] = ()
    parallel: bool = False
    operation: str = ""  # db.operation of a datastore call


@dataclass(frozen=True)
class Endpoint:
    """The call tree of one endpoint: ``gate`` is the last child a 4xx request still reaches,
    ``ml_fault`` the path (child indices) of the span that fails when ml-engine does."""

    calls: tuple[Call, ...]
    gate: int = 0
    ml_fault: tuple[int, ...] | None = None


def _redis(op: str = "GET") -> Call:
    return Call(f"redis_{op.lower()}", "redis", operation=op)


def _pg(op: str) -> Call:
    return Call(f"postgres_{op.lower()}", "postgres", operation=op)


_AUTH = Call("authenticate", "auth", 1.0, (_redis(),))
CALLS: Mapping[str, Endpoint] = {
    "/api/v1/recommendations": Endpoint(
        (
            _AUTH,
            Call(
                "ml_engine_call",
                "ml-engine",
                6.0,
                (
                    Call("get_user_embedding", weight=2.0, children=(_redis(),)),
                    Call("ann_search", weight=3.0, children=(Call("faiss_search"),)),
                    Call("rerank", weight=2.0),
                ),
            ),
            Call("log_usage", weight=1.0, children=(_pg("INSERT"),)),
        ),
        gate=0,
        ml_fault=(1, 0),
    ),
    "/api/v1/items": Endpoint(
        (_AUTH, Call("cache_lookup", children=(_redis(),)), Call("load_items", weight=3.0, children=(_pg("SELECT"),)))
    ),
    "/api/v1/feedback": Endpoint(
        (_AUTH, Call("validate_feedback", weight=0.5), Call("store_feedback", weight=2.0, children=(_pg("INSERT"),))),
        gate=1,
    ),
    "/api/v1/users/profile": Endpoint(
        (_AUTH, Call("load_profile", weight=3.0, children=(_redis(), _pg("SELECT")), parallel=True))
    ),
    "/api/v1/auth/login": Endpoint(
        (
            Call("check_rate_limit", children=(_redis("INCR"),)),
            Call("verify_credentials", weight=4.0, children=(_pg("SELECT"),)),
            Call("issue_token"),
        ),
        gate=1,
    ),
    "/api/v1/auth/refresh": Endpoint(
        (Call("validate_refresh_token", weight=2.0, children=(_redis(),)), Call("issue_token"))
    ),
    "/internal/embed": Endpoint(
        (Call("get_user_embedding", children=(_redis(),)), Call("model_inference", weight=4.0)), ml_fault=(1,)
    ),
    "/internal/ann_search": Endpoint((Call("faiss_search", weight=3.0), Call("rerank")), ml_fault=(0,)),
}


@dataclass(frozen=True)
class TraceSetting:
    """What the spans need from the world besides the request: the namespace, each service's
    instances (for the resource) and the ml-engine instance the spike takes down."""

    namespace: str = "production"
    instances: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ml_down_instance: str = ""

    @classmethod
    def of(cls, world) -> TraceSetting:
        topo = world.topology
        return cls(
            world.namespace,
            {s.name: tuple(i.instance for i in s.instances) for s in topo.services},
            world.schedule.ml_down_instance,
        )


def incidents_at(world, timestamp_ns: int) -> frozenset[str]:
    """The incidents active for a request stamped ``timestamp_ns``: as requests.py decides them,
    at the middle of the request's scrape step."""
    t0 = timestamp_ns // 10**9 // STEP_SECONDS * STEP_SECONDS
    return frozenset(i.name for i in world.active_incidents(t0 + STEP_SECONDS / 2))


def _unit(digest: bytes, i: int) -> float:
    """The i-th uniform number in [0, 1) of a digest (two bytes each)."""
    return int.from_bytes(digest[2 * i : 2 * i + 2], "big") / 65536


class _Builder:
    def __init__(self, r: WorldRequest, incidents: frozenset[str], setting: TraceSetting) -> None:
        self.r, self.setting = r, setting
        self.spike = ML_ERROR_SPIKE in incidents
        self.slow = LATENCY_REGRESSION in incidents and r.endpoint == "/api/v1/recommendations"
        self.spans: list[Span] = []
        self.base = {"tenant_id": r.tenant_id, "user_id": r.user_id}
        self.said = ""  # the root's status message

    def digest(self, path: str) -> bytes:
        return hashlib.blake2b(f"{self.r.trace_id}/{path}".encode(), digest_size=32).digest()

    def instance(self, service: str, digest: bytes, failing: bool) -> str:
        names = self.setting.instances.get(service, ())
        if service == "ml-engine" and self.spike and self.setting.ml_down_instance in names:
            if failing:
                return self.setting.ml_down_instance
            names = tuple(n for n in names if n != self.setting.ml_down_instance)  # the load balancer routes around it
        return names[digest[31] % len(names)] if names else ""

    def resource(self, service: str, instance: str) -> dict[str, str]:
        out = {"service.name": service, "service.namespace": self.setting.namespace}
        if instance:
            out["service.instance.id"] = instance
        return out


def _fault(r: WorldRequest, endpoint: Endpoint, spike: bool) -> tuple[tuple[int, ...] | None, str, str]:
    """(path of the failing span: () for the root, None for no error; its status message; the root's).

    The root's message is the log line's error text; the failing span's is the fault itself.
    """
    if r.status_code < 500:
        return None, "", ""
    said = r.message.split(": ", 1)[1] if ": " in r.message else r.message
    if endpoint.ml_fault is not None and (spike or r.status_code in (502, 503)):
        if spike:
            cause = (
                "model server OOMKilled, restarting"
                if r.status_code == 503
                else "CUDA out of memory during batch inference"
            )
        else:
            cause = (
                "upstream connect error or disconnect/reset before headers"
                if r.status_code == 503
                else "ml-engine returned 503"
            )
        return endpoint.ml_fault, cause, said
    return (), said, said


def request_spans(
    r: WorldRequest, incidents: frozenset[str] = frozenset(), setting: TraceSetting = TraceSetting()
) -> tuple[Span, ...]:
    """The spans of request ``r`` (root first, then depth first), given the incidents active for it."""
    b = _Builder(r, incidents, setting)
    endpoint = CALLS.get(r.endpoint, Endpoint(()))
    fault, cause, b.said = _fault(r, endpoint, b.spike)
    calls = endpoint.calls
    if 400 <= r.status_code < 500:
        calls = calls[: 1 if r.status_code == 429 else endpoint.gate + 1]
    duration = r.latency_ms * 1_000_000
    root = Call(f"{r.method} {r.endpoint}", r.service, children=calls)
    attributes = {
        **b.base,
        "endpoint": r.endpoint,
        "http.route": r.endpoint,
        "http.method": r.method,
        "http.status_code": r.status_code,
    }
    _place(
        b, root, "", "", r.span_id, r.timestamp_ns - duration, duration, r.service, r.instance, fault, cause, attributes
    )
    return tuple(b.spans)


def _place(
    b: _Builder,
    call: Call,
    path: str,
    parent_id: str,
    span_id: str,
    start: int,
    duration: int,
    parent_service: str,
    parent_instance: str,
    fault: tuple[int, ...] | None,
    cause: str,
    attributes: Mapping[str, object],
) -> None:
    """Append ``call``'s span and, recursively, its children's. ``fault`` is the failing span's path
    relative to this one (() = this span fails, None = no failure below)."""
    d = b.digest(path)
    service = call.service or parent_service
    failing = fault is not None
    if not path or service == parent_service:
        instance = parent_instance
    else:
        instance = b.instance(service, d, failing)
    kind = (
        "server"
        if not path
        else ("client" if service in _DATASTORES else ("server" if service != parent_service else "internal"))
    )
    attrs = dict(attributes)
    if service in _DATASTORES and call.operation:
        attrs.update({"db.system": _DATASTORES[service], "db.operation": call.operation})
    events: tuple[SpanEvent, ...] = ()
    message = ""
    if fault == ():
        message = cause
        events = (
            SpanEvent(
                start + duration - duration // 20,
                "exception",
                {"exception.type": "ServerError", "exception.message": cause},
            ),
        )
    elif fault is not None:
        message = b.said if not path else f"{call.children[fault[0]].name} failed: {cause}"
    b.spans.append(
        Span(
            trace_id=b.r.trace_id,
            span_id=span_id,
            parent_id=parent_id,
            name=call.name,
            service=service,
            start_ns=start,
            duration_ns=duration,
            kind=kind,
            status="error" if failing else "unset",
            status_message=message,
            attributes=attrs,
            resource=b.resource(service, instance),
            events=events,
        )
    )
    children = call.children
    if fault:  # the failing span is below: what would come after it is never called
        children = children[: fault[0] + 1]
    if not children:
        return
    for i, (child, (c_start, c_duration)) in enumerate(
        zip(children, _layout(b, call, children, path, d, start, duration))
    ):
        c_path = f"{path}/{i}.{child.name}" if path else f"{i}.{child.name}"
        c_id = hashlib.blake2b(f"{b.r.trace_id}/{c_path}".encode(), digest_size=8).hexdigest()
        c_fault = fault[1:] if fault and fault[0] == i else None
        _place(b, child, c_path, span_id, c_id, c_start, c_duration, service, instance, c_fault, cause, b.base)


def _layout(
    b: _Builder, call: Call, children: tuple[Call, ...], path: str, d: bytes, start: int, duration: int
) -> list[tuple[int, int]]:
    """(start, duration) of each child inside the parent's [start, start + duration)."""
    own = int(duration * (0.04 + 0.08 * _unit(d, 0)))  # the parent's self time
    pinned = -1
    pin = 0
    if b.slow and not path and b.r.latency_ms > 1000:
        # The log line says "ml-engine ranking took {latency - latency // 10}ms".
        pinned = next((i for i, c in enumerate(children) if c.name == "ml_engine_call"), -1)
        pin = (b.r.latency_ms - b.r.latency_ms // 10) * 1_000_000
        own = min(own, (duration - pin) // 2)
    lead = int(own * (0.2 + 0.6 * _unit(d, 1)))
    avail = duration - own
    weights = [
        c.weight * (0.75 + 0.5 * _unit(d, 2 + i % 12)) * (25.0 if b.slow and c.name == "rerank" else 1.0)
        for i, c in enumerate(children)
    ]
    if call.parallel:
        out = []
        for i in range(len(weights)):
            offset = int(avail * 0.05 * _unit(d, 2 + i % 12))
            out.append((start + lead + offset, int((avail - offset) * (0.6 + 0.4 * _unit(d, 14 - i % 12)))))
        return out
    rest = avail - (pin if pinned >= 0 else 0)
    total = sum(w for i, w in enumerate(weights) if i != pinned) or 1.0
    out, at = [], start + lead
    for i, w in enumerate(weights):
        length = pin if i == pinned else int(rest * w / total)
        out.append((at, length))
        at += length
    return out
