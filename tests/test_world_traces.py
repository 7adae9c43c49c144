"""The span trees of the world's requests (pure): ids, timing, shape, incidents, and the demo's [traces].

Expectations are written out here (the seed's example tree) or derived from the request and the
incident schedule, not from the tree builder's own tables.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests.support.world import SEED, T0
from zeta_tui.demo.incidents import LATENCY_REGRESSION, ML_ERROR_SPIKE
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.span_tree import TraceSetting, incidents_at, request_spans
from zeta_tui.demo.world import TeamZetaWorld

END = int(T0) // STEP_SECONDS * STEP_SECONDS  # inside the ml-engine spike and the latency regression
QUIET = END - 3 * 3600  # 14:20 UTC: before both


@pytest.fixture(scope="module")
def world():
    return TeamZetaWorld(SEED)


@pytest.fixture(scope="module")
def traced(world):
    """(request, incidents, spans) for 10 minutes in the incidents and 10 quiet minutes."""
    setting = TraceSetting.of(world)
    out = []
    for a, b in ((END - 600, END), (QUIET - 600, QUIET)):
        for r in WorldRequests(world, sample_every=10).generate(a, b):
            active = frozenset(i.name for i in world.active_incidents(r.timestamp_ns // 10**9 // 15 * 15 + 7.5))
            out.append((r, active, request_spans(r, active, setting)))
    return out


def _shape(spans, span_id=None):
    """The tree as nested (name, service, children) tuples, children in start order."""
    root = spans[0] if span_id is None else next(s for s in spans if s.span_id == span_id)
    kids = sorted((s for s in spans if s.parent_id == root.span_id), key=lambda s: s.start_ns)
    return (root.name, root.service, tuple(_shape(spans, k.span_id) for k in kids))


def test_root_is_the_log_record_and_children_fit_inside_their_parents(traced):
    assert len(traced) > 20_000
    for r, _, spans in traced:
        root = spans[0]
        assert (root.trace_id, root.span_id, root.parent_id) == (r.trace_id, r.span_id, "")
        assert (root.service, root.name, root.kind) == (r.service, f"{r.method} {r.endpoint}", "server")
        assert (
            root.duration_ns == r.latency_ms * 1_000_000 and root.end_ns == r.timestamp_ns
        )  # logged when the request ends
        by_id = {s.span_id: s for s in spans}
        assert len(by_id) == len(spans) and {s.trace_id for s in spans} == {r.trace_id}
        children = defaultdict(list)
        for s in spans[1:]:
            parent = by_id[s.parent_id]
            assert parent.start_ns <= s.start_ns and s.end_ns <= parent.end_ns and s.duration_ns > 0
            children[parent.span_id].append(s)
        for pid, kids in children.items():
            busy = sum(k.duration_ns for k in kids)
            parallel = any(a.start_ns < b.end_ns and b.start_ns < a.end_ns for a in kids for b in kids if a is not b)
            if not parallel:
                assert busy < by_id[pid].duration_ns  # one after another, and the parent keeps some time for itself


def test_attributes_and_resource(traced, world):
    instances = {i.instance for i in world.topology.instances}
    for r, _, spans in traced[:3000]:
        root = spans[0]
        assert root.attributes == {
            "tenant_id": r.tenant_id,
            "user_id": r.user_id,
            "endpoint": r.endpoint,
            "http.route": r.endpoint,
            "http.method": r.method,
            "http.status_code": r.status_code,
        }
        assert root.resource["service.instance.id"] == r.instance
        for s in spans:
            assert s.resource["service.name"] == s.service and s.resource["service.namespace"] == "production"
            assert s.resource["service.instance.id"] in instances and s.resource["service.instance.id"].startswith(
                s.service
            )
            assert (s.attributes["tenant_id"], s.attributes["user_id"]) == (r.tenant_id, r.user_id)


def test_recommendations_has_the_seeds_span_tree(traced):
    want = (
        "POST /api/v1/recommendations",
        "backend-api",
        (
            ("authenticate", "auth", (("redis_get", "redis", ()),)),
            (
                "ml_engine_call",
                "ml-engine",
                (
                    ("get_user_embedding", "ml-engine", (("redis_get", "redis", ()),)),
                    ("ann_search", "ml-engine", (("faiss_search", "ml-engine", ()),)),
                    ("rerank", "ml-engine", ()),
                ),
            ),
            ("log_usage", "backend-api", (("postgres_insert", "postgres", ()),)),
        ),
    )
    ok = [spans for r, _, spans in traced if r.endpoint == "/api/v1/recommendations" and r.status_code == 200]
    assert len(ok) > 1000 and all(_shape(s) == want for s in ok)
    login = next(spans for r, _, spans in traced if r.endpoint == "/api/v1/auth/login" and r.status_code == 200)
    assert {s.service for s in login} == {"auth", "postgres", "redis"}
    # A refused login stops after checking the credentials: no token is issued.
    refused = next(spans for r, _, spans in traced if r.endpoint == "/api/v1/auth/login" and r.status_code == 401)
    assert "issue_token" not in {s.name for s in refused} and "verify_credentials" in {s.name for s in refused}


def test_ml_engine_spike_errors_where_the_incident_is(traced, world):
    down = world.schedule.ml_down_instance
    failed = [
        (r, spans)
        for r, active, spans in traced
        if ML_ERROR_SPIKE in active and r.endpoint == "/api/v1/recommendations" and r.status_code >= 500
    ]
    assert len(failed) > 20
    for r, spans in failed:
        errors = [s for s in spans if s.is_error]
        assert [s.name for s in errors] == [f"POST {r.endpoint}", "ml_engine_call", "get_user_embedding"]
        assert all(s.status_message for s in errors) and errors[0].status_message in r.message
        assert {s.resource["service.instance.id"] for s in errors[1:]} == {down}  # the pod the spike took down
        assert errors[-1].events and errors[-1].events[0].name == "exception"
        assert not {"ann_search", "rerank", "log_usage"} & {s.name for s in spans}  # never reached
    # Requests that succeed during the spike are routed around the downed pod.
    fine = [
        s
        for r, active, spans in traced
        if ML_ERROR_SPIKE in active and r.status_code < 400 and r.service == "backend-api"
        for s in spans
        if s.service == "ml-engine"
    ]
    assert fine and down not in {s.resource["service.instance.id"] for s in fine}
    # Requests without an error have no error span; every 5xx has one.
    for r, _, spans in traced:
        assert any(s.is_error for s in spans) == (r.status_code >= 500)


def test_latency_regression_grows_rerank(traced):
    slow = [
        (r, spans)
        for r, active, spans in traced
        if LATENCY_REGRESSION in active
        and r.endpoint == "/api/v1/recommendations"
        and r.status_code == 200
        and r.latency_ms > 1000
    ]
    assert len(slow) > 20
    for r, spans in slow:
        by_name = {s.name: s for s in spans if s.service == "ml-engine"}
        took = int(re.search(r"ranking took (\d+)ms", r.message).group(1))
        assert by_name["ml_engine_call"].duration_ns == took * 1_000_000  # what the log line says
        leaves = [s for s in spans if not any(c.parent_id == s.span_id for c in spans)]
        assert max(leaves, key=lambda s: s.duration_ns).name == "rerank"
    quiet = [
        spans
        for r, active, spans in traced
        if not active and r.endpoint == "/api/v1/recommendations" and r.status_code == 200
    ]
    share = sorted(next(s for s in sp if s.name == "rerank").duration_ns / sp[0].duration_ns for sp in quiet)
    assert len(quiet) > 1000 and share[len(share) // 2] < 0.4  # before the regression rerank is a small part


def test_same_request_same_spans(world, traced):
    setting = TraceSetting.of(world)
    for r, active, spans in traced[::500]:
        assert request_spans(r, active, setting) == spans
        assert incidents_at(world, r.timestamp_ns) == active


def test_demo_context_has_a_traces_section_on_the_log_store(tmp_path):
    from zeta_tui.demo.stack import DemoPaths, DemoStack

    stack = DemoStack(DemoPaths(tmp_path), TeamZetaWorld(SEED))
    stack.logs, stack.traces = object(), object()  # as after _start_logs on a free store
    context = stack.config(with_prometheus=False).contexts["demo"]
    assert context.traces is not None and context.traces.kind == "clickhouse"
    assert context.traces.path == context.logs.path == str(tmp_path / "chdb")
    stack.traces = None  # a store the writers could not open: no section
    assert stack.config(with_prometheus=False).contexts["demo"].traces is None
