"""zeta showing one large generated trace in the waterfall, for bench/waterfall.py.

    python bench/waterfall_app.py --spans 50000 --shape deep|wide|bushy --stats FILE [--input FILE]
    python bench/waterfall_app.py --bare --stats FILE          # the baseline: a bare Textual app
    python bench/waterfall_app.py --spans 1000 --shape bushy --write trace.json   # just the JSON

The trace is Jaeger v1 query-API JSON (``/api/traces/{id}``), made deterministically by
:func:`jaeger_trace` (``--input`` reads bytes the bench wrote with it, so that generating 50,000
spans does not count in this process's peak RSS). The real ``ZetaApp`` opens the Traces screen
(``first_screen="traces"``, a ``ConsoleSession`` whose only backend is a trace
source that finds nothing); ``--delay`` seconds later
(default 1.0, so that screen is drawn and idle) the response is "ready": the app writes
``ready <perf_counter>`` to ``--stats``. The trace view is already open (pushed when the Traces
screen opened, as after Enter on a result) and waiting in its source's ``trace()``, which then
decodes and parses the bytes in a thread with ``parse_jaeger`` (as ``JaegerTraceSource.trace``
does), writes ``parsed <perf_counter>``; the screen builds the tree and critical path in a
thread and draws.
The bench times from ``ready`` until the root span's row is visible in the pty.

``--bare``: a Textual ``App`` with one ``Static``; ``--delay`` seconds after mount it writes
``ready`` and shows :data:`BARE_MARKER`; ``j``/``space`` change the Static's text. That is
Textual's floor for "data in hand -> drawn" and for a keystroke's repaint.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (str(REPO), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

TRACE_ID = "5a3c0e9d1f2b4c6a8e7d9b1c3f5a7e90"
T0_US = 1_767_225_600_000_000  # 2026-01-01 00:00 UTC
ROOT_SERVICE = "frontend"
ROOT_OPERATION = "HTTP GET /checkout"  # used by the root only: the bench's marker
BARE_MARKER = "response drawn"
SHAPES = ("deep", "wide", "bushy")

# Services and the operations they serve (bushy and wide pick from these).
SERVICES: dict[str, tuple[str, ...]] = {
    "frontend": ("HTTP GET /api/cart", "HTTP POST /api/orders", "render checkout"),
    "checkout": ("checkout.PlaceOrder", "checkout.Quote", "validate cart"),
    "cart": ("cart.GetCart", "cart.AddItem", "cart.EmptyCart"),
    "catalog": ("catalog.GetProduct", "catalog.ListProducts", "catalog.Search"),
    "pricing": ("pricing.Quote", "pricing.ApplyDiscounts"),
    "currency": ("currency.Convert", "currency.GetRates"),
    "payment": ("payment.Charge", "payment.Authorize", "fraud.Score"),
    "shipping": ("shipping.GetQuote", "shipping.ShipOrder"),
    "inventory": ("inventory.Reserve", "inventory.Check"),
    "email": ("email.SendConfirmation",),
    "recommendation": ("recommendation.List", "model.Predict"),
    "ad": ("ad.GetAds",),
    "auth": ("auth.VerifyToken", "auth.Introspect"),
    "postgres": ("SELECT orders", "INSERT orders", "SELECT products", "UPDATE inventory"),
    "redis": ("redis GET", "redis SET", "redis MGET"),
    "kafka": ("orders publish", "orders receive"),
    "search": ("search.Query", "index.Lookup"),
    "ledger": ("ledger.Append", "ledger.Balance"),
    "tax": ("tax.Compute",),
    "geo": ("geo.Resolve",),
}
_KIND = {"postgres": "client", "redis": "client", "kafka": "producer"}


def _span_id(i: int) -> str:
    return f"{i + 1:016x}"


def _intervals(spans: int, shape: str, rng: random.Random) -> tuple[list[int], list[int], list[int]]:
    """parent, start (µs from T0), duration (µs) of each span; children nest inside their parent."""
    parent = [-1] * spans
    start = [0] * spans
    dur = [0] * spans
    if shape == "deep":
        # A chain: each span starts 1 µs after its parent and ends 1 µs before it.
        dur[0] = 2 * spans + 40_000
        for i in range(1, spans):
            parent[i] = i - 1
            start[i] = start[i - 1] + 1
            dur[i] = dur[i - 1] - 2 - (rng.random() < 0.01)
    elif shape == "wide":
        # One root fanning out to N-1 calls, a few in flight at a time, over ~2 s.
        dur[0] = 2_000_000
        slot = max(1, (dur[0] - 200) // max(1, spans - 1))
        for i in range(1, spans):
            parent[i] = 0
            start[i] = 100 + (i - 1) * slot
            dur[i] = min(dur[0] - 100 - start[i], int(slot * rng.uniform(0.5, 4.0)) + 1)
    else:  # bushy: about 4 children each, breadth first; each child a slice of its parent
        dur[0] = 2_500_000
        fanout = 4
        for i in range(1, spans):
            p = (i - 1) // fanout
            parent[i] = p
            lo, hi = start[p], start[p] + dur[p]
            room = max(1, hi - lo)
            s = lo + int(room * rng.uniform(0.0, 0.5))
            start[i] = s
            dur[i] = max(1, int((hi - s) * rng.uniform(0.3, 0.95)))
    return parent, start, dur


def jaeger_trace(spans: int, shape: str, seed: int = 1) -> dict:
    """One trace as a Jaeger v1 ``/api/traces/{id}`` answer: ``spans`` spans of ``shape``."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}")
    rng = random.Random(f"{seed}-{spans}-{shape}")
    parent, start, dur = _intervals(spans, shape, rng)
    names = list(SERVICES)
    process_of = {name: f"p{n + 1}" for n, name in enumerate(names)}
    out = []
    for i in range(spans):
        if i == 0:
            service, op = ROOT_SERVICE, ROOT_OPERATION
        else:
            service = names[rng.randrange(len(names))]
            ops = SERVICES[service]
            op = ops[rng.randrange(len(ops))]
        kind = _KIND.get(service, "server" if i % 2 else "client")
        error = rng.random() < 0.02
        tags = [
            {"key": "span.kind", "type": "string", "value": kind},
            {"key": "otel.library.name", "type": "string", "value": f"io.opentelemetry.{service}"},
            {"key": "tenant_id", "type": "string", "value": f"tenant-{rng.randrange(40):02d}"},
            {"key": "http.status_code", "type": "int64", "value": 500 if error else 200},
            {"key": "net.peer.name", "type": "string", "value": f"{names[rng.randrange(len(names))]}.prod.svc"},
            {"key": "retry.count", "type": "int64", "value": 0},
        ]
        if service == "postgres":
            tags.append(
                {"key": "db.statement", "type": "string", "value": f"{op} WHERE id = $1 LIMIT {rng.randrange(1, 100)}"}
            )
        if error:
            tags.append({"key": "error", "type": "bool", "value": True})
        logs = []
        if error or rng.random() < 0.05:
            logs.append(
                {
                    "timestamp": T0_US + start[i] + dur[i] // 2,
                    "fields": [
                        {"key": "event", "type": "string", "value": "exception" if error else "cache miss"},
                        {
                            "key": "message",
                            "type": "string",
                            "value": "upstream timed out" if error else "key not found",
                        },
                    ],
                }
            )
        refs = [] if i == 0 else [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": _span_id(parent[i])}]
        out.append(
            {
                "traceID": TRACE_ID,
                "spanID": _span_id(i),
                "flags": 1,
                "operationName": op,
                "references": refs,
                "startTime": T0_US + start[i],
                "duration": dur[i],
                "tags": tags,
                "logs": logs,
                "processID": process_of[service],
                "warnings": None,
            }
        )
    processes = {
        pid: {
            "serviceName": name,
            "tags": [
                {"key": "hostname", "type": "string", "value": f"{name}-7d9f8-{n:02d}"},
                {"key": "telemetry.sdk.language", "type": "string", "value": "python"},
            ],
        }
        for n, (name, pid) in enumerate(process_of.items())
    }
    return {
        "data": [{"traceID": TRACE_ID, "spans": out, "processes": processes, "warnings": None}],
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": None,
    }


def jaeger_trace_bytes(spans: int, shape: str, seed: int = 1) -> bytes:
    import orjson

    return orjson.dumps(jaeger_trace(spans, shape, seed))


def _stamp(stats: str, what: str) -> None:
    with open(stats, "a", encoding="utf-8") as f:
        f.write(f"{what} {time.perf_counter():.6f}\n")


def run_bare(args: argparse.Namespace) -> int:
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.widgets import Static

    class BareApp(App):
        BINDINGS = [Binding("j", "bump", "Down"), Binding("space", "bump", "Fold"), Binding("q", "quit", "Quit")]

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def compose(self) -> ComposeResult:
            yield Static("waiting", id="text")

        def on_mount(self) -> None:
            self.set_timer(args.delay, self.deliver)

        def deliver(self) -> None:
            _stamp(args.stats, "ready")
            self.query_one("#text", Static).update(BARE_MARKER)

        def action_bump(self) -> None:
            self.count += 1
            self.query_one("#text", Static).update(f"{BARE_MARKER} · key {self.count}")

    app = BareApp()
    app.run()
    return int(app.return_code or 0)


def run_zeta(args: argparse.Namespace) -> int:
    if args.input:
        raw = Path(args.input).read_bytes()
    else:
        raw = jaeger_trace_bytes(args.spans, args.shape)

    import asyncio

    from zeta_tui.app import ZetaApp
    from zeta_tui.backends.traces.base import TraceNotFound, TraceSource
    from zeta_tui.backends.traces.jaeger_json import parse_jaeger
    from zeta_tui.config.models import ContextConfig
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.models.metrics_meta import BuildInfo
    from zeta_tui.models.traces import TraceSearch, same_id
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir
    from zeta_tui.screens.trace_view import TraceViewScreen
    from zeta_tui.session import ConsoleSession

    ready = asyncio.Event()

    class BenchTraces(TraceSource):
        """A trace source standing in for Jaeger: searches find nothing (so the Traces screen
        under the trace view is in its normal state, not ticking an error countdown), and
        ``trace()`` waits for the response, then reads it as JaegerTraceSource.trace does:
        decoded and parsed in a thread."""

        kind = "bench"
        response: bytes | None = raw

        async def services(self) -> list[str]:
            return sorted(SERVICES)

        async def operations(self, service: str) -> list[str]:
            return sorted(SERVICES.get(service, ()))

        async def search(self, query) -> TraceSearch:
            return TraceSearch(())

        async def trace(self, trace_id: str):
            await ready.wait()
            body, self.response = self.response, None
            traces = await asyncio.to_thread(parse_jaeger, body)
            del body
            _stamp(args.stats, "parsed")
            found = next((t for t in traces if same_id(t.trace_id, trace_id)), None)
            if found is None:
                raise TraceNotFound(f"trace {trace_id} not found")
            return found

        async def check(self):
            return BuildInfo("bench", "", "bench"), 0.0

    class WaterfallBenchApp(ZetaApp):
        """ZetaApp on Traces with the trace view open (as after Enter on a result); the trace's
        bytes arrive ``--delay`` s later: that moment is "ready"."""

        async def _open(self) -> None:
            await super()._open()
            await self.push_screen(TraceViewScreen(TRACE_ID))
            _stamp(args.stats, "pushed")
            self.set_timer(args.delay, self.deliver)

        def deliver(self) -> None:
            _stamp(args.stats, "ready")
            ready.set()

    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    session = ConsoleSession("bench", ContextConfig(), None, catalog, traces=BenchTraces())
    app = WaterfallBenchApp(session, first_screen="traces")
    app.run()
    return int(app.return_code or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--shape", choices=SHAPES, default="bushy")
    parser.add_argument("--stats", help="file the app appends 'ready|parsed|pushed <perf_counter>' lines to")
    parser.add_argument("--input", help="Jaeger v1 JSON to show (default: generate --spans/--shape here)")
    parser.add_argument(
        "--delay", type=float, default=1.0, help="seconds after the Traces screen opened until the response is ready"
    )
    parser.add_argument("--bare", action="store_true", help="the baseline: a bare Textual app")
    parser.add_argument("--write", help="write the generated JSON to this file and exit")
    args = parser.parse_args()
    if args.write:
        Path(args.write).write_bytes(jaeger_trace_bytes(args.spans, args.shape))
        return 0
    if not args.stats:
        parser.error("--stats is required")
    return run_bare(args) if args.bare else run_zeta(args)


if __name__ == "__main__":
    sys.exit(main())
