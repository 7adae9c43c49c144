"""The process's shared chdb session runs parameterised queries from several threads without
mixing their parameters (chdb 4.4 keeps them in the session; the demo's log and trace writers
and the console's readers share it)."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("chdb", reason="needs the embedded ClickHouse engine (pip install chdb)")

from tests.support.world_store import store_in_use  # noqa: E402
from zeta_tui.backends.chdb_store import close_embedded_session, embedded_session  # noqa: E402


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
