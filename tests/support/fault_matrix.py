"""The fault matrix: every backend kind against every way a server misbehaves.

A cell is a backend (how to configure it, which command reads it, which screen shows it) and a
fault (which server to point it at, what the user must be told). The servers are real, on
127.0.0.1, started once per test process (tests/support/faults.py, servers.SilentServer).

Every config carries secrets the output must never show: a bearer token from ``${ENV}``, a
basic-auth password from ``${ENV}``, and ``user:password@`` in a URL.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from tests.support.faults import fault_backend, untrusted_tls_server

TOKEN = "tok-9f8e7d6c5b4a-never-shown"
PASSWORD = "pw-0a1b2c3d4e5f-never-shown"
URL_PASSWORD = "urlpw-77aa88bb-never-shown"
SECRETS = (TOKEN, PASSWORD, URL_PASSWORD)
ENV = {"ZETA_FAULT_TOKEN": TOKEN, "ZETA_FAULT_PASSWORD": PASSWORD}
TIMEOUT = 2.0
CAP = 1024 * 1024
OVERSIZED = 24 * 1024 * 1024


@dataclass(frozen=True)
class BackendCase:
    """How one backend kind is configured, read headless and shown on screen."""

    name: str
    section: str
    argv: tuple[str, ...]
    screen_key: str
    settings: dict[str, str] = field(default_factory=dict)  # extra keys of the section (TOML values)
    auth: str = "token"  # token | password | url


BACKENDS = (
    BackendCase("prometheus", "prometheus", ("promql", "up"), "1"),
    BackendCase("alertmanager", "alertmanager", ("alerts",), "5", auth="password"),
    BackendCase("elasticsearch", "logs", ("logs", "level:ERROR", "--limit", "10"), "3", {"kind": '"elasticsearch"'}),
    BackendCase("loki", "logs", ("logs", "level:ERROR", "--limit", "10"), "3", {"kind": '"loki"'}, auth="url"),
    BackendCase("jaeger", "traces", ("traces", "--service", "checkout"), "4", {"kind": '"jaeger"'}),
    BackendCase("tempo", "traces", ("traces",), "4", {"kind": '"tempo"'}, auth="url"),
    BackendCase("clickhouse", "clickhouse", ("sql", "SELECT 1"), "7", auth="password"),
)


@dataclass(frozen=True)
class FaultCase:
    """A way a server misbehaves, and the words (any one of them, lower case) the user must see."""

    name: str
    words: tuple[str, ...]


FAULTS = (
    FaultCase("refused", ("cannot connect", "connection refused")),
    FaultCase("hang", ("no answer within", "timed out")),
    FaultCase("html500", ("502 bad gateway",)),
    FaultCase("garbage", ("not json", "not valid json", "malformed")),
    FaultCase("unauthorised", ("not authorised",)),
    FaultCase("untrusted_tls", ("certificate",)),
    FaultCase("oversized", ("cap",)),
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fault_url(fault: str) -> str:
    """The base URL of a server misbehaving as ``fault``."""
    if fault == "refused":
        return f"http://127.0.0.1:{_closed_port()}"
    if fault == "hang":
        from tests.support.servers import silent_server

        return silent_server().url
    if fault == "untrusted_tls":
        return untrusted_tls_server().url()
    path = {"html500": "html500", "garbage": "garbage", "unauthorised": "status/401", "oversized": f"huge/{OVERSIZED}"}
    return fault_backend(path[fault]).url()


def config_toml(backend: BackendCase, fault: str) -> str:
    """A config whose context 'f' has only ``backend``, pointed at a server faulting as ``fault``."""
    url = fault_url(fault)
    lines = [f"[contexts.f.{backend.section}]"]
    if backend.auth == "url":
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://zeta:{URL_PASSWORD}@{rest}"
    lines.append(f'url = "{url}"')
    if backend.auth == "token":
        lines.append('bearer_token = "${ZETA_FAULT_TOKEN}"')
    elif backend.auth == "password":
        lines += ['username = "zeta"', 'password = "${ZETA_FAULT_PASSWORD}"']
    lines += [f"timeout_seconds = {TIMEOUT}", f"max_response_bytes = {CAP}"]
    lines += [f"{k} = {v}" for k, v in backend.settings.items()]
    return "\n".join(lines) + "\n"


def leaked(text: str) -> list[str]:
    """The secrets that appear in ``text``."""
    return [s for s in SECRETS if s in text]
