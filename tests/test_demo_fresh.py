"""A fresh demo's present comes first: its requests are searchable in the logs and traces a few
seconds after they happen, while the history fill is still running (issue 15: the live writers
used to wait for the whole history, and a fresh demo showed minutes-old logs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.demo_process import REPO

pytest.importorskip("chdb", reason="the embedded ClickHouse tests need chdb (pip install chdb)")

#: The searches run for this long after the start; every request of the first 25 s must be found.
PROBE_SECONDS = 25
#: The lag allowed here. bench/fresh_lag.py measures the real figure against the 10 s budget
#: (2-5 s on this machine); a test shares the machine with the rest of the suite, so its bound
#: is looser, and still far from what history-first gave (not found for minutes).
LAG_BOUND_S = 20.0


@pytest.mark.slow  # a demo stack's writers and their history children
def test_a_fresh_demos_requests_are_searchable_while_history_fills(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.fresh_demo", str(tmp_path / "demo"), str(PROBE_SECONDS)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    # The order is proven at the check: both history fills were still running.
    assert report["history_running_at_check"] == {"logs": True, "traces": True}, report
    assert report["writer_errors"] == []
    for kind in ("logs", "traces"):
        found = report[kind]["all"]
        # About 3 of the tenant's requests a second: every one of them found, none too late, and
        # none that happened earlier than the bound before the last search still missing.
        assert found["requests"] > 20 and found["missed"] == 0, (kind, report)
        assert found["max_s"] <= LAG_BOUND_S and report[kind]["unfound_at_end_s"] <= LAG_BOUND_S, (kind, report)
        assert report[kind]["errors"] == 0, (kind, report)
