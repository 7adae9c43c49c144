"""The server path of ClickHouseLogSource (clickhouse-connect), without a ClickHouse server.

No ClickHouse server can run here, so the client is a stand-in that executes exactly the SQL,
parameters and settings the source sends on the real engine (chdb) and answers as
clickhouse-connect does (``result_rows``); connection failures use the real client library.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

pytest.importorskip("chdb", reason="needs chdb (pip install chdb)")

from tests.support.world import SEED, T0  # noqa: E402
from zeta_tui.backends.logs.clickhouse import ClickHouseFilter, ClickHouseLogSource  # noqa: E402
from zeta_tui.config.models import LogsConfig  # noqa: E402
from zeta_tui.demo.log_store import WorldLogStore  # noqa: E402
from zeta_tui.demo.requests import STEP_SECONDS, WorldRequests  # noqa: E402
from zeta_tui.demo.world import TeamZetaWorld  # noqa: E402
from zeta_tui.errors import BackendUnavailable, QueryError  # noqa: E402
from zeta_tui.models.timerange import TimeRange  # noqa: E402

END = int(T0) // STEP_SECONDS * STEP_SECONDS
WINDOW = TimeRange(END - 300, END)


class _Result:
    def __init__(self, rows):
        self.result_rows = rows


class EngineClient:
    """Answers ``query`` by running the SQL on chdb; remembers what it was sent."""

    def __init__(self, session):
        self.session, self.sent = session, []

    def query(self, sql, parameters=None, settings=None):
        import orjson

        self.sent.append((sql, parameters, settings))
        text = f"{sql} SETTINGS " + ", ".join(f"{k} = {v!r}" for k, v in settings.items())
        try:
            out = self.session.query(text, "JSONCompact", params=parameters).bytes()
        except Exception as e:  # clickhouse-connect raises DatabaseError with the server's text
            raise RuntimeError(f"HTTPDriver received ClickHouse error {e}") from None
        return _Result([tuple(r) for r in orjson.loads(out)["data"]])

    def close(self):
        pass


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("chdb-server") / "store"
    store = WorldLogStore(path)
    records = list(WorldRequests(TeamZetaWorld(SEED), sample_every=20).generate(END - 300, END))
    store.insert(records)
    yield store, records
    store.close()


def _source(engine) -> tuple[ClickHouseLogSource, EngineClient]:
    store, _ = engine
    source = ClickHouseLogSource(LogsConfig(kind="clickhouse", url="https://reader@clickhouse.internal:8443", timeout_seconds=7))
    client = EngineClient(store.session)
    source._client = client
    return source, client


def test_server_search_sends_parameters_and_read_only_settings(engine):
    source, client = _source(engine)
    page = asyncio.run(source.search(ClickHouseFilter("ServiceName = {s:String}", {"s": "auth"}), WINDOW, limit=50))
    want = sorted((r.timestamp_ns, r.trace_id) for r in engine[1] if r.service == "auth")[-50:]
    assert [(r.timestamp_ns, r.trace_id) for r in page.records] == want
    assert page.records[0].fields["status_code"] in (200, 401, 429, 500)
    sql, params, settings = client.sent[-1]  # after the one-off look for TimestampTime
    assert "auth" not in sql and params["s"] == "auth" and params["zeta_limit"] == 50
    assert settings["readonly"] == 1 and settings["max_execution_time"] == 7
    assert "TimestampTime >=" in sql  # the exporter's schema: partitions pruned by the seconds column
    assert source.url == "https://clickhouse.internal:8443"  # no user name in messages


def test_server_errors_carry_the_server_message(engine):
    source, _ = _source(engine)
    with pytest.raises(QueryError) as info:
        asyncio.run(source.search(ClickHouseFilter("no_such_column = 1"), WINDOW))
    assert "no_such_column" in info.value.message and info.value.where == "https://clickhouse.internal:8443"


def test_server_down_is_backend_unavailable():
    pytest.importorskip("clickhouse_connect", reason="needs clickhouse-connect (pip install clickhouse-connect)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = ClickHouseLogSource(LogsConfig(kind="clickhouse", url=f"http://127.0.0.1:{port}", timeout_seconds=3))
    with pytest.raises(BackendUnavailable) as info:
        asyncio.run(source.check())
    assert "logs.url" in info.value.hint


def test_unreadable_secret_file_is_a_config_error(tmp_path):
    pytest.importorskip("clickhouse_connect", reason="needs clickhouse-connect (pip install clickhouse-connect)")
    from zeta_tui.errors import ConfigError

    cfg = LogsConfig(kind="clickhouse", url="http://127.0.0.1:1", username="reader", password_file=str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as info:
        asyncio.run(ClickHouseLogSource(cfg).check())
    assert info.value.where.endswith("missing")
