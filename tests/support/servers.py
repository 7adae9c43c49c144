"""Real servers for the backend and headless tests, on 127.0.0.1 free ports.

Prometheus (plain, TLS, mutual TLS, basic auth), Alertmanager and VictoriaMetrics are the real
binaries, started once per test session and stopped at exit. Alongside them: a server that
accepts connections and never answers, and a forwarding HTTP proxy that records what it sees.

Each server is cached at module level (functools.cache), so that every test module of a
session shares one process per kind. The pytest fixtures on them (``prometheus``, ``silent``,
``closed_port_url``, ``recording_proxy``) are in tests/conftest.py.
"""

from __future__ import annotations

import atexit
import http.client
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from zeta_tui.demo.processes import ChildServer, alertmanager_server, find_binary, free_port, prometheus_server
from zeta_tui.errors import ZetaError

REPO = Path(__file__).resolve().parents[2]
EMPTY_SCRAPE_CONFIG = "global:\n  evaluation_interval: 1m\nscrape_configs: []\n"

_children: list[ChildServer] = []
_closers: list = []
_root = Path(tempfile.mkdtemp(prefix="zeta-test-servers-"))


@atexit.register
def _stop_all() -> None:
    for child in _children:
        child.stop()
    for close in _closers:
        close()
    shutil.rmtree(_root, ignore_errors=True)


def _skip_without(binary: str) -> str:
    try:
        return find_binary(binary)
    except ZetaError as exc:
        pytest.skip(f"{binary} is not installed: {exc.hint}")


def _started(child: ChildServer, **ready: object) -> ChildServer:
    _children.append(child)
    child.start()
    child.wait_ready(timeout=30, **ready)  # type: ignore[arg-type]
    return child


# --- shared fixtures on disk ------------------------------------------------------------


def shared_dir() -> Path | None:
    """../shared next to the repo (or /work/shared), where the real captured fixtures live."""
    for candidate in (REPO.parent / "shared", Path("/work/shared")):
        if (candidate / "fixtures" / "real").is_dir():
            return candidate
    return None


def real_fixture(relative: str) -> bytes:
    """Bytes of ../shared/fixtures/real/<relative>; skips the test when ../shared is absent."""
    base = shared_dir()
    if base is None:
        pytest.skip("../shared/fixtures/real is absent (the real captured API responses live there, outside the repo)")
    path = base / "fixtures" / "real" / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent from ../shared")
    return path.read_bytes()


# --- Prometheus in its variants -----------------------------------------------------------


@cache
def plain_prometheus() -> ChildServer:
    """A real Prometheus with no scrape targets (vector(), time() and parse errors need none)."""
    _skip_without("prometheus")
    return _started(prometheus_server(_root / "prom-plain", EMPTY_SCRAPE_CONFIG))


RULES_YAML = """\
groups:
  - name: zeta-test
    interval: 1s
    rules:
      - record: zeta:answer
        expr: vector(42)
      - alert: ZetaAlwaysFiring
        expr: vector(1) > 0
        labels: {severity: page}
        annotations: {summary: "always firing, for the tests"}
"""


@cache
def scraping_prometheus() -> ChildServer:
    """A real Prometheus scraping itself every second, with one recording and one alerting rule."""
    _skip_without("prometheus")
    workdir = _root / "prom-scraping"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rules.yml").write_text(RULES_YAML)
    port = free_port()
    config = (
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: [{workdir / 'rules.yml'}]\n"
        f"scrape_configs:\n  - job_name: prometheus\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    return _started(prometheus_server(workdir, config, port=port))


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server (and client) certificate it signed, as PEM files."""

    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@cache
def tls_files() -> TlsFiles:
    trustme = pytest.importorskip("trustme", reason="trustme makes the test CA")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("zeta-client@example.test")
    d = _root / "tls"
    d.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(d / "ca.pem", d / "server.pem", d / "server-key.pem", d / "client.pem", d / "client-key.pem")
    ca.cert_pem.write_to_path(str(files.ca_file))
    files.server_cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(files.server_key))
    files.client_cert.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
    client.private_key_pem.write_to_path(str(files.client_key))
    return files


def _tls_context(files: TlsFiles, *, client: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(files.ca_file))
    if client:
        ctx.load_cert_chain(str(files.client_cert), str(files.client_key))
    return ctx


@cache
def tls_prometheus() -> ChildServer:
    """Prometheus serving HTTPS with a certificate from the test CA (tls_files().ca_file)."""
    _skip_without("prometheus")
    files = tls_files()
    web = f"tls_server_config:\n  cert_file: {files.server_cert}\n  key_file: {files.server_key}\n"
    return _started(
        prometheus_server(_root / "prom-tls", EMPTY_SCRAPE_CONFIG, web_config_yaml=web), verify=_tls_context(files)
    )


@cache
def mtls_prometheus() -> ChildServer:
    """Prometheus that also requires a client certificate signed by the test CA."""
    _skip_without("prometheus")
    files = tls_files()
    web = (
        f"tls_server_config:\n  cert_file: {files.server_cert}\n  key_file: {files.server_key}\n"
        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {files.ca_file}\n"
    )
    return _started(
        prometheus_server(_root / "prom-mtls", EMPTY_SCRAPE_CONFIG, web_config_yaml=web),
        verify=_tls_context(files, client=True),
    )


BASIC_USER = "zeta"
BASIC_PASSWORD = "correct horse battery staple"


@cache
def basic_auth_prometheus() -> ChildServer:
    """Prometheus behind basic auth (BASIC_USER / BASIC_PASSWORD, a bcrypt hash in web.yml)."""
    _skip_without("prometheus")
    bcrypt = pytest.importorskip(
        "bcrypt", reason="bcrypt hashes the password for Prometheus's web.config (pip install bcrypt)"
    )
    # Cost 4, the minimum: Prometheus checks the hash on every request.
    hashed = bcrypt.hashpw(BASIC_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    web = f"basic_auth_users:\n  {BASIC_USER}: '{hashed}'\n"
    return _started(
        prometheus_server(_root / "prom-basic", EMPTY_SCRAPE_CONFIG, web_config_yaml=web),
        auth=(BASIC_USER, BASIC_PASSWORD),
    )


# --- Alertmanager and VictoriaMetrics -------------------------------------------------------

ALERTMANAGER_CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'


@cache
def alertmanager() -> ChildServer:
    """A real Alertmanager, clustering off, routing everything to a receiver that does nothing."""
    _skip_without("prometheus-alertmanager")
    return _started(alertmanager_server(_root / "alertmanager", ALERTMANAGER_CONFIG))


@cache
def victoria_metrics() -> ChildServer:
    """A real single-node VictoriaMetrics keeping 100 years, so fixed old timestamps stay."""
    binary = _skip_without("victoria-metrics")
    workdir = _root / "victoria-metrics"
    port = free_port()
    argv = [
        binary,
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-storageDataPath={workdir / 'data'}",
        "-retentionPeriod=100y",
    ]
    return _started(ChildServer("victoria-metrics", argv, port, workdir, ready_path="/health"))


def prometheus_version() -> str:
    """What the installed binary says its version is (`prometheus --version`), e.g. 2.42.0+ds."""
    out = subprocess.run([_skip_without("prometheus"), "--version"], capture_output=True, text=True, timeout=10)
    first = (out.stdout or out.stderr).splitlines()[0]  # "prometheus, version 2.42.0+ds (branch: ...)"
    return first.split("version", 1)[1].split()[0]


# --- a server that never answers, and a recording proxy ---------------------------------


class SilentServer:
    """Accepts TCP connections and reads nothing, writes nothing: the hung backend."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # held open, never answered

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@cache
def silent_server() -> SilentServer:
    server = SilentServer()
    _closers.append(server.close)
    return server


class _ForwardingHandler(BaseHTTPRequestHandler):
    server: RecordingProxy

    def _forward(self) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Host", "")))
        target = urlsplit(self.path)
        if not target.scheme:  # a proxy is sent absolute URIs; anything else is a client bug
            self.send_error(400, "proxy expected an absolute URI")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=10)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection", "connection")}
        conn.request(self.command, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class RecordingProxy(ThreadingHTTPServer):
    """A plain HTTP forward proxy: records (method, request target, Host) and sends every
    request, whatever host it names, to ``upstream`` (as if the proxy resolved it)."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _ForwardingHandler)
        self.upstream = upstream
        self.seen: list[tuple[str, str, str]] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def raw_prometheus_error(base_url: str, expr: str) -> str:
    """Prometheus's own error text for ``expr``, fetched without Zeta's code."""
    body = httpx.get(f"{base_url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "error", body
    return body["error"]


def rule_prometheus(workdir: Path, rules: str, until, timeout: float = 30.0):
    """A Prometheus child evaluating ``rules`` every second, started in ``workdir`` (skips the
    test without the binary) and returned once ``until(alerts)`` holds for its /api/v1/alerts
    list. The caller stops it."""
    _skip_without("prometheus")
    (workdir / "rules.yml").write_text(rules)
    child = prometheus_server(
        workdir, f"global:\n  evaluation_interval: 1s\nrule_files: [{workdir / 'rules.yml'}]\nscrape_configs: []\n"
    )
    child.start()
    try:
        child.wait_ready(timeout=30)

        def evaluated() -> bool:
            return bool(until(httpx.get(f"{child.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]))

        assert wait_until(evaluated, timeout=timeout), child.tail_log()
    except BaseException:
        child.stop()
        raise
    return child


def stub_discovery(httpserver, *, names: tuple[str, ...] = (), labels: tuple[str, ...] = ("job", "instance")) -> None:
    """Answers a stand-in Prometheus (pytest-httpserver) gives to service discovery: these metric
    names exist and carry these labels (the /api/v1/query answers are the test's own)."""
    httpserver.expect_request("/api/v1/label/__name__/values").respond_with_json(
        {"status": "success", "data": list(names)}
    )
    httpserver.expect_request("/api/v1/labels").respond_with_json({"status": "success", "data": list(labels)})
    httpserver.expect_request("/api/v1/label/le/values").respond_with_json({"status": "success", "data": []})


def started_alertmanager(
    workdir: Path, config: str, load: Callable[[ChildServer], None] | None = None
) -> Iterator[ChildServer]:
    """A real Alertmanager on ``config``, ready, after ``load(child)`` (alerts and silences to
    post); stopped when the generator is closed. Skips the test without the binary."""
    try:
        child = alertmanager_server(workdir, config)
    except ZetaError as exc:
        pytest.skip(f"Alertmanager is not installed: {exc.hint}")
    child.start()
    try:
        child.wait_ready(timeout=30)
        if load is not None:
            load(child)
        yield child
    finally:
        child.stop()
