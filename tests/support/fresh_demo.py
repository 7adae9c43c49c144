"""A fresh demo stack's stores, probed for freshness in a process of their own (one process holds a
chdb store): ``python -m tests.support.fresh_demo DATA_DIR SECONDS`` prints a JSON report.

The stack starts as `zeta demo` starts its stores (live writers first, history released at once,
no Prometheus: the stores need none); a FreshnessProbe then searches the demo context's log and
trace sources every second for ``SECONDS``, and the report says, at the last search, whether each
writer's history fill was still running (its child process alive, the fill not done).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from zeta_tui.backends.logs.factory import log_source_for
from zeta_tui.backends.traces.factory import trace_source_for
from zeta_tui.demo.freshness import FreshnessProbe
from zeta_tui.demo.stack import DemoPaths, DemoStack
from zeta_tui.demo.world import TeamZetaWorld


def history_running(writer) -> bool:
    child = writer._child
    return not writer.caught_up.is_set() and child is not None and child.poll() is None


async def probe(stack: DemoStack, since: float, seconds: float) -> dict:
    context = stack.config(with_prometheus=False).contexts["demo"]
    assert context.logs is not None and context.traces is not None, "the store's writers did not start"
    fresh = FreshnessProbe(
        stack.world,
        log_source_for(context.logs, context.namespace),
        trace_source_for(context.traces),
        since=since,
        window=60.0,
    )
    while time.time() < since + seconds:
        began = time.time()
        await fresh.poll()
        await asyncio.sleep(max(0.0, 1.0 - (time.time() - began)))
    running = {kind: history_running(getattr(stack, kind)) for kind in ("logs", "traces")}
    await fresh.poll()  # the check: with history still running (asserted by the test from `running`)
    report = fresh.report()
    report["history_running_at_check"] = running
    report["writer_errors"] = [str(e) for e in (stack.logs.error, stack.traces.error) if e]
    return report


def main(data_dir: str, seconds: str) -> int:
    stack = DemoStack(DemoPaths(Path(data_dir)), TeamZetaWorld(), fresh=True, log=lambda message: None)
    since = time.time()
    try:
        stack.prepare()
        stack.start_stores()
        report = asyncio.run(probe(stack, since, float(seconds)))
    finally:
        stack.stop()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
