"""The server path of AnalyticsSource (ClickHouse's HTTP interface, clickhouse_http.py; the file
keeps the name it had when clickhouse-connect was the client): what a user reads when the server
cannot be reached, its certificate is not trusted, or the password is wrong.

No ClickHouse server can be installed on this machine. Connection refused is a real closed
port; the TLS failure is a real TLS server on 127.0.0.1 with a certificate from a throwaway
CA (trustme) the client is not told about; the wrong password is a local HTTP server
(pytest-httpserver) answering as ClickHouse does for a failed login. That last one is a
stand-in, not ClickHouse: it answers with the exception code header and the body text a real
server sends (captured in Altinity/clickhouse-operator#1008 and ClickHouse/ClickHouse#72999:
``X-ClickHouse-Exception-Code: 516`` and ``Code: 516. DB::Exception: default: Authentication
failed: ...``), with HTTP status 403 as servers send it, and 516 as some proxies relay it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time

import pytest
from pytest_httpserver import HTTPServer

from tests.support.servers import tls_files
from zeta_tui.backends.analytics import AnalyticsSource
from zeta_tui.cli import main
from zeta_tui.config.models import ClickHouseConfig
from zeta_tui.errors import BackendAuthError, BackendUnavailable

AUTH_FAILED = (
    "Code: 516. DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such "
    "name. (AUTHENTICATION_FAILED) (version 24.8.4.13 (official build))\n"
)


def _ask(cfg: ClickHouseConfig):
    async def go():
        source = AnalyticsSource(cfg)
        try:
            return await source.query("SELECT 1")
        finally:
            await source.close()

    return asyncio.run(go())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_connection_refused_names_the_address_and_the_setting() -> None:
    port = _closed_port()
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as err:
        _ask(ClickHouseConfig(url=f"http://127.0.0.1:{port}", timeout_seconds=5))
    assert time.monotonic() - started < 5
    assert err.value.message == f"cannot connect: connection refused by 127.0.0.1:{port}"
    assert err.value.where == f"http://127.0.0.1:{port}" and "clickhouse.url" in err.value.hint


@pytest.fixture
def tls_server():
    files = tls_files()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(files.server_cert), str(files.server_key))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx)
    server.expect_request(re.compile(".*")).respond_with_data(
        AUTH_FAILED, status=403, headers={"X-ClickHouse-Exception-Code": "516"}
    )
    server.start()
    yield server, files
    server.clear()
    if server.is_running():
        server.stop()


def test_an_untrusted_certificate_is_a_tls_error_naming_ca_file(tls_server) -> None:
    server, _ = tls_server
    with pytest.raises(BackendUnavailable) as err:
        _ask(ClickHouseConfig(url=f"https://127.0.0.1:{server.port}", timeout_seconds=5))
    assert err.value.message.startswith("TLS: the server's certificate is not trusted")
    assert "CERTIFICATE_VERIFY_FAILED" in err.value.message
    assert "clickhouse.ca_file" in err.value.hint


def test_with_ca_file_the_handshake_passes_and_the_server_answers(tls_server) -> None:
    server, files = tls_server
    with pytest.raises(BackendAuthError):  # past TLS: the stand-in's answer is a failed login
        _ask(ClickHouseConfig(url=f"https://127.0.0.1:{server.port}", ca_file=str(files.ca_file), timeout_seconds=5))
    assert server.log  # the request went through


@pytest.mark.parametrize("status", [403, 516])
def test_a_wrong_password_is_an_auth_error_with_clickhouse_words(httpserver: HTTPServer, status: int) -> None:
    """A stand-in for a ClickHouse server rejecting the login (see the module docstring): not a real server."""
    httpserver.expect_request(re.compile(".*")).respond_with_data(
        AUTH_FAILED, status=status, headers={"X-ClickHouse-Exception-Code": "516"}
    )
    cfg = ClickHouseConfig(
        url=httpserver.url_for("/").rstrip("/"), username="zeta", password="wrong", timeout_seconds=5
    )
    with pytest.raises(BackendAuthError) as err:
        _ask(cfg)
    assert err.value.message.startswith("Code: 516. DB::Exception: default: Authentication failed")
    assert "clickhouse.username / password" in err.value.hint
    assert "wrong" not in err.value.render()  # the password is never in a message
    request = httpserver.log[0][0]
    assert request.headers.get("X-ClickHouse-User") == "zeta" or request.authorization is not None


def test_zeta_sql_and_check_say_the_same(tmp_path, capsys) -> None:
    port = _closed_port()
    config = tmp_path / "zeta.toml"
    config.write_text(f'[contexts.x.clickhouse]\nurl = "http://127.0.0.1:{port}"\ntimeout_seconds = 3\n')
    code = main(["--config", str(config), "sql", "SELECT 1"])
    err = capsys.readouterr().err
    assert code == 1 and f"connection refused by 127.0.0.1:{port}" in err and "Traceback" not in err
    assert err.count("\n") == 3  # title, message, hint: nothing else reaches the terminal
    code = main(["--config", str(config), "check"])
    out = capsys.readouterr().out
    assert code == 1 and "clickhouse" in out and "DOWN" in out and "connection refused" in out
