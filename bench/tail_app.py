"""zeta on the Logs screen, its log source a local BenchSource (bench/tail_source.py).

    python bench/tail_app.py --stats FILE [--rate 5000] [--page 1000] [--limit N] [--buffer 100000]

Run by bench/tail.py in a 120x40 pty; it then types `f` to follow. The context has a logs
section (kind clickhouse, a path that is never opened) so the screen reads its settings
(buffer_records, PII fields) from it; the session's log source is the bench source itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for p in (str(REPO), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stats", required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="records/s (0: as fast as they are taken)")
    parser.add_argument("--page", type=int, default=1000, help="records per page when rate is 0")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between pages when rate > 0")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many records (0: never)")
    parser.add_argument("--buffer", type=int, default=100_000, help="logs.buffer_records")
    args = parser.parse_args()

    from tail_source import BenchSource

    from zeta_tui.app import ZetaApp
    from zeta_tui.config.models import ContextConfig, LogsConfig
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir
    from zeta_tui.session import ConsoleSession

    source = BenchSource(
        rate=args.rate, page=args.page, interval=args.interval, limit=args.limit, stats_path=args.stats
    )
    context = ContextConfig(
        logs=LogsConfig(kind="clickhouse", path="/nonexistent/bench-logs", buffer_records=args.buffer)
    )
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    session = ConsoleSession("bench", context, None, catalog, logs=source)
    app = ZetaApp(session, first_screen="logs")
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main())
