"""PrometheusClient against real failure modes: real Prometheus (bad PromQL, TLS, mutual TLS,
basic auth), a closed port, a server that never answers, an HTML 500, a forwarding proxy."""

from __future__ import annotations

import time

import pytest
from pytest_httpserver import HTTPServer

from tests.support.servers import (
    BASIC_PASSWORD,
    BASIC_USER,
    basic_auth_prometheus,
    mtls_prometheus,
    raw_prometheus_error,
    tls_files,
    tls_prometheus,
)
from zeta_tui.backends.prometheus import PrometheusClient
from zeta_tui.config.models import PrometheusConfig
from zeta_tui.errors import BackendAuthError, BackendTimeout, BackendUnavailable, QueryError

pytestmark = pytest.mark.prometheus


async def _query(cfg: PrometheusConfig, expr: str = "vector(42)"):
    client = PrometheusClient(cfg)
    try:
        return await client.query(expr)
    finally:
        await client.aclose()


async def test_working_query_on_real_prometheus(prometheus) -> None:
    result = await _query(PrometheusConfig(url=prometheus.url))
    assert [(dict(s.labels), s.v) for s in result.data] == [({}, 42.0)]
    assert result.warnings == ()


async def test_bad_promql_carries_prometheus_own_parse_error(prometheus) -> None:
    expr = "sum(rate(http_requests_total[5m])"
    expected = raw_prometheus_error(prometheus.url, expr)  # what Prometheus itself says
    with pytest.raises(QueryError) as info:
        await _query(PrometheusConfig(url=prometheus.url), expr)
    assert expected in info.value.message
    assert "parse error" in info.value.message
    assert info.value.error_type == "bad_data"
    assert info.value.where == f"prometheus at {prometheus.url}"
    assert "fix the expression" in info.value.hint


async def test_closed_port_is_unavailable(closed_port_url) -> None:
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url=closed_port_url))
    assert "Connection refused" in info.value.message
    assert closed_port_url in info.value.where
    assert info.value.hint


async def test_server_that_never_answers_times_out_within_timeout(silent) -> None:
    timeout = 0.5
    t0 = time.monotonic()
    with pytest.raises(BackendTimeout) as info:
        await _query(PrometheusConfig(url=silent.url, timeout_seconds=timeout))
    elapsed = time.monotonic() - t0
    assert timeout * 0.9 <= elapsed < timeout + 1.0
    assert "0.5s" in info.value.message
    assert "timeout_seconds" in info.value.hint


async def test_html_500_is_unavailable_and_says_not_json(httpserver: HTTPServer) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    httpserver.expect_request("/api/v1/query").respond_with_data(html, status=500, content_type="text/html")
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url=httpserver.url_for("/").rstrip("/")))
    assert "not JSON" in info.value.message
    assert "HTTP 500" in info.value.message
    assert "502 Bad Gateway" in info.value.message  # the start of what came back is quoted


async def test_prometheus_error_envelope_on_503_is_unavailable(httpserver: HTTPServer) -> None:
    body = {"status": "error", "errorType": "unavailable", "error": "too many queries in flight"}
    httpserver.expect_request("/api/v1/query").respond_with_json(body, status=503)
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url=httpserver.url_for("/").rstrip("/")))
    assert "too many queries in flight" in info.value.message


# --- TLS -------------------------------------------------------------------------------


async def test_tls_without_ca_file_fails_verification() -> None:
    server = tls_prometheus()
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url=server.url))
    assert "TLS verification failed" in info.value.message
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message
    assert "ca_file" in info.value.hint


async def test_tls_with_ca_file_works() -> None:
    server = tls_prometheus()
    result = await _query(PrometheusConfig(url=server.url, ca_file=str(tls_files().ca_file)))
    assert [s.v for s in result.data] == [42.0]


async def test_tls_insecure_skip_verify_works_without_ca() -> None:
    server = tls_prometheus()
    result = await _query(PrometheusConfig(url=server.url, insecure_skip_verify=True))
    assert [s.v for s in result.data] == [42.0]


async def test_http_url_against_https_server_says_use_https() -> None:
    server = tls_prometheus()
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url=server.url.replace("https://", "http://")))
    assert "https://" in info.value.hint


async def test_mutual_tls_needs_the_client_certificate() -> None:
    server = mtls_prometheus()
    files = tls_files()
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url=server.url, ca_file=str(files.ca_file)))
    assert "client_cert" in info.value.hint
    cfg = PrometheusConfig(
        url=server.url, ca_file=str(files.ca_file), client_cert=str(files.client_cert), client_key=str(files.client_key)
    )
    result = await _query(cfg)
    assert [s.v for s in result.data] == [42.0]


# --- auth, headers, proxy ------------------------------------------------------------------


async def test_basic_auth_401_without_credentials() -> None:
    server = basic_auth_prometheus()
    with pytest.raises(BackendAuthError) as info:
        await _query(PrometheusConfig(url=server.url))
    assert "HTTP 401" in info.value.message
    assert "wants credentials" in info.value.hint


async def test_basic_auth_wrong_password_says_rejected() -> None:
    server = basic_auth_prometheus()
    with pytest.raises(BackendAuthError) as info:
        await _query(PrometheusConfig(url=server.url, username=BASIC_USER, password="wrong"))
    assert "rejected" in info.value.hint
    assert "wrong" not in info.value.render()


async def test_basic_auth_with_credentials_works(tmp_path) -> None:
    server = basic_auth_prometheus()
    result = await _query(PrometheusConfig(url=server.url, username=BASIC_USER, password=BASIC_PASSWORD))
    assert [s.v for s in result.data] == [42.0]
    secret_file = tmp_path / "pw"
    secret_file.write_text(BASIC_PASSWORD + "\n")
    result = await _query(PrometheusConfig(url=server.url, username=BASIC_USER, password_file=str(secret_file)))
    assert [s.v for s in result.data] == [42.0]


VECTOR_42 = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1700000000, "42"]}]},
}


async def test_bearer_token_and_custom_headers_are_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/api/v1/query", method="POST", headers={"Authorization": "Bearer tok-123", "X-Scope-OrgID": "zeta"}
    ).respond_with_json(VECTOR_42)
    cfg = PrometheusConfig(
        url=httpserver.url_for("/").rstrip("/"), bearer_token="tok-123", headers={"X-Scope-OrgID": "zeta"}
    )
    result = await _query(cfg)
    assert [s.v for s in result.data] == [42.0]
    httpserver.check_assertions()


async def test_bearer_token_file_is_read(httpserver: HTTPServer, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("from-file-456\n")
    httpserver.expect_request("/api/v1/query", headers={"Authorization": "Bearer from-file-456"}).respond_with_json(
        VECTOR_42
    )
    result = await _query(PrometheusConfig(url=httpserver.url_for("/").rstrip("/"), bearer_token_file=str(token)))
    assert [s.v for s in result.data] == [42.0]


async def test_path_prefix_in_url_is_kept(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/prometheus/api/v1/query").respond_with_json(VECTOR_42)
    result = await _query(PrometheusConfig(url=httpserver.url_for("/prometheus/")))
    assert [s.v for s in result.data] == [42.0]


async def test_warnings_are_surfaced(httpserver: HTTPServer) -> None:
    body = {**VECTOR_42, "warnings": ["PromQL info: metric might not be a counter"], "infos": ["input is sparse"]}
    httpserver.expect_request("/api/v1/query").respond_with_json(body)
    result = await _query(PrometheusConfig(url=httpserver.url_for("/").rstrip("/")))
    assert result.warnings == ("PromQL info: metric might not be a counter", "info: input is sparse")


async def test_configured_proxy_receives_absolute_uri_requests(recording_proxy) -> None:
    # The host does not resolve: only a request through the proxy can succeed.
    cfg = PrometheusConfig(url="http://prometheus.zeta.invalid:9090", proxy=recording_proxy.url)
    result = await _query(cfg)
    assert [s.v for s in result.data] == [42.0]
    method, target, host = recording_proxy.seen[0]
    assert (method, target, host) == (
        "POST",
        "http://prometheus.zeta.invalid:9090/api/v1/query",
        "prometheus.zeta.invalid:9090",
    )


async def test_http_proxy_from_environment_is_honoured(recording_proxy, monkeypatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", recording_proxy.url)
    result = await _query(PrometheusConfig(url="http://prometheus.zeta.invalid:9090"))
    assert [s.v for s in result.data] == [42.0]
    assert recording_proxy.seen[0][1].startswith("http://prometheus.zeta.invalid:9090/api/v1/")


async def test_proxy_down_is_unavailable(closed_port_url) -> None:
    with pytest.raises(BackendUnavailable) as info:
        await _query(PrometheusConfig(url="http://prometheus.zeta.invalid:9090", proxy=closed_port_url))
    assert "proxy" in (info.value.message + info.value.hint).lower()
