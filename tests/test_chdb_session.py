"""The process's shared chdb session runs parameterised queries from several threads without
mixing their parameters (chdb 4.4 keeps them in the session; the demo's log and trace writers
and the console's readers share it)."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("chdb", reason="needs the embedded ClickHouse engine (pip install chdb)")

from tests.support.world_store import store_in_use
from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session


def test_threads_sharing_the_session_get_their_own_parameters(tmp_path) -> None:
    path = store_in_use() or str(tmp_path / "store")
    opened_here = store_in_use() is None
    session = embedded_session(path, create=True)
    wrong: list[tuple[int, str]] = []
    failed: list[str] = []

    def ask(thread: int) -> None:
        for k in range(200):
            want = thread * 1000 + k
            try:
                got = session.query("SELECT {x:UInt32}", "CSV", params={"x": str(want)}).bytes().strip().decode()
            except Exception as exc:  # a mixed-up session says "Substitution `x` is not set"
                failed.append(str(exc).splitlines()[0])
                continue
            if got != str(want):
                wrong.append((want, got))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if opened_here:
        close_embedded_session(path)
    assert wrong == [] and failed == []


def _shared(tmp_path):
    path = store_in_use() or str(tmp_path / "store")
    return path, store_in_use() is None


def test_a_query_failing_mid_answer_leaves_nothing_for_the_next_one(tmp_path) -> None:
    """chdb 4.4 hands what a query wrote before it failed to the next query on the session (measured);
    the shared session takes it away, so the next answer is that query's own."""
    import orjson

    path, opened_here = _shared(tmp_path)
    session = embedded_session(path, create=True)
    try:
        with pytest.raises(Exception, match="Code: 396"):
            session.query(
                "SELECT number FROM numbers(1000000) SETTINGS max_result_bytes = 1000, result_overflow_mode = 'throw'",
                "JSONCompact",
            )
        assert orjson.loads(session.query("SELECT 41 + 1 AS a", "JSONCompact").bytes())["data"] == [[42]]
    finally:
        if opened_here:
            close_embedded_session(path)


def test_the_log_and_trace_engine_caps_what_it_reads(tmp_path) -> None:
    """Rows for the log and trace sources are capped twice on an embedded store: ClickHouse's own
    max_result_bytes (100,000 UInt64 are 800 KB in its memory) and the answer's size (60,000
    17-digit numbers are 480 KB in memory but over 1 MiB as JSON)."""
    from zeta_tui.backends.clickhouse_engine import ClickHouseEngine
    from zeta_tui.config.models import LogsConfig
    from zeta_tui.errors import AnswerTooLarge

    path, opened_here = _shared(tmp_path)
    embedded_session(path, create=True)
    try:
        small = ClickHouseEngine(LogsConfig(kind="clickhouse", path=path, max_response_bytes=512 * 1024), "logs")
        with pytest.raises(AnswerTooLarge) as err:
            small.run("SELECT number FROM numbers(100000)", {})
        assert "Code: 396" in err.value.message and "logs.max_response_bytes" in err.value.hint
        capped = ClickHouseEngine(LogsConfig(kind="clickhouse", path=path, max_response_bytes=1024 * 1024), "logs")
        with pytest.raises(AnswerTooLarge) as err:
            capped.run("SELECT number + 10000000000000000 FROM numbers(60000)", {})
        assert err.value.message.startswith("the embedded store's answer is")
        assert len(capped.run("SELECT number FROM numbers(1000)", {})) == 1000  # and the session still answers
    finally:
        if opened_here:
            close_embedded_session(path)
