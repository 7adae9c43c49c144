"""The server path of ClickHouseLogSource, without a ClickHouse server.

No ClickHouse server can run here, so the source talks over real HTTP to a stand-in for
ClickHouse's HTTP interface that runs exactly the SQL, parameters and settings it is sent on the
real engine (chdb; tests/support/clickhouse_http.py, a stand-in named as such); connection
failures use a real closed port.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

pytest.importorskip("chdb", reason="needs chdb (pip install chdb)")

from tests.support.clickhouse_http import ClickHouseStandIn
from tests.support.world import SEED, T0
from zeta_tui.backends.logs.clickhouse import ClickHouseFilter, ClickHouseLogSource
from zeta_tui.config.models import LogsConfig
from zeta_tui.demo.log_store import WorldLogStore
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests
from zeta_tui.demo.world import TeamZetaWorld
from zeta_tui.errors import BackendUnavailable, ConfigError, QueryError
from zeta_tui.models.timerange import TimeRange

END = int(T0) // STEP_SECONDS * STEP_SECONDS
WINDOW = TimeRange(END - 300, END)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("chdb-server") / "store"
    store = WorldLogStore(path)
    records = list(WorldRequests(TeamZetaWorld(SEED), sample_every=20).generate(END - 300, END))
    store.insert(records)
    yield store, records
    store.close()


@pytest.fixture(scope="module")
def server(engine):
    standin = ClickHouseStandIn(engine[0].path, users={"reader": "pw"})
    yield standin
    standin.stop()


def _search(server, flt, **cfg):
    source = ClickHouseLogSource(
        LogsConfig(kind="clickhouse", url=server.url.replace("http://", "http://reader:pw@"), **cfg)
    )

    async def go():
        try:
            return await source.search(flt, WINDOW, limit=50)
        finally:
            await source.aclose()

    return source, asyncio.run(go())


def test_server_search_sends_parameters_and_read_only_settings(engine, server):
    before = len(server.requests)
    source, page = _search(server, ClickHouseFilter("ServiceName = {s:String}", {"s": "auth"}), timeout_seconds=7)
    want = sorted((r.timestamp_ns, r.trace_id) for r in engine[1] if r.service == "auth")[-50:]
    assert [(r.timestamp_ns, r.trace_id) for r in page.records] == want
    assert page.records[0].fields["status_code"] in (200, 401, 429, 500)
    sent = server.requests[-1]  # after the one-off look for TimestampTime
    assert len(server.requests) - before == 2
    assert "auth" not in sent.sql and sent.params["s"] == "auth" and sent.params["zeta_limit"] == "50"
    assert sent.settings["readonly"] == "1" and sent.settings["max_execution_time"] == "7"
    assert (
        sent.settings["max_result_bytes"] == str(64 * 1024 * 1024) and sent.settings["result_overflow_mode"] == "throw"
    )
    assert "TimestampTime >=" in sent.sql  # the exporter's schema: partitions pruned by the seconds column
    assert source.url == server.url  # no user name in messages


def test_server_errors_carry_the_server_message(server):
    with pytest.raises(QueryError) as info:
        _search(server, ClickHouseFilter("no_such_column = 1"))
    assert "no_such_column" in info.value.message and info.value.message.startswith("Code: 47")
    assert info.value.where == server.url and "\n" not in info.value.message


def test_server_down_is_backend_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = ClickHouseLogSource(LogsConfig(kind="clickhouse", url=f"http://127.0.0.1:{port}", timeout_seconds=3))
    with pytest.raises(BackendUnavailable) as info:
        asyncio.run(source.check())
    assert (
        info.value.message == f"cannot connect: connection refused by 127.0.0.1:{port}"
        and "logs.url" in info.value.hint
    )


def test_unreadable_secret_file_is_a_config_error(tmp_path):
    missing = tmp_path / "missing"
    cfg = LogsConfig(kind="clickhouse", url="http://127.0.0.1:1", username="reader", password_file=str(missing))
    with pytest.raises(ConfigError) as info:
        asyncio.run(ClickHouseLogSource(cfg).check())
    assert str(missing) in info.value.message and "password_file" in info.value.message
