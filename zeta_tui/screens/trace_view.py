"""One trace: the waterfall, the selected span's detail, search, critical path, and the joins.

Opened from a search result, from a log record's trace link (the app routes OpenTrace here),
or by id. The trace is fetched and its tree built off the event loop (a 50,000-span trace is
tens of MB of JSON); the waterfall then draws only what is on screen.

Joins, one key each: `l` the span's service's logs for this trace, `L` all the trace's logs,
`a` API Performance for the span's service and endpoint with the window locked around the trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from zeta_tui.backends.off_loop import run_off_loop
from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.messages import GoBack, ShowApi, ShowLogs, ShowTenant
from zeta_tui.models.critical_path import critical_path, on_path
from zeta_tui.models.snapshot import Snapshot
from zeta_tui.models.tenant import SPAN_TENANT_KEYS, tenant_in
from zeta_tui.models.trace_tree import TraceTree, build_tree
from zeta_tui.models.traces import Trace, TraceSummary, format_duration_ns
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.shell_header import ShellHeader
from zeta_tui.widgets.span_detail import span_detail
from zeta_tui.widgets.waterfall import WaterfallView

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

WIDE_DETAIL = 140  # columns from which the span detail sits beside the waterfall
JOIN_MARGIN_SECONDS = 60.0  # logs of a trace: its time window widened by this much each side
METRICS_MARGIN_SECONDS = 900.0  # API Performance around a trace: +-15 minutes (a few scrapes)
ENDPOINT_KEYS = ("http.route", "endpoint", "http.target", "url.path")

# Services get colours from this list in order of appearance (the theme's own accents first).
_PALETTE_KEYS = ("accent", "primary", "secondary", "success", "warning")
_EXTRA = ("#d19a66", "#56b6c2", "#c678dd", "#98c379", "#e5c07b", "#61afef", "#be5046")


class TraceViewScreen(ConsoleScreen):
    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App

    BINDINGS = [
        Binding(
            "escape",
            "back",
            "Back",
            id="trace.back",
            tooltip="Back to the search results, or to where the trace was opened from",
        ),
        Binding(
            "slash",
            "focus_search",
            "Find",
            id="trace.find",
            tooltip="Find spans by operation, service, id or attribute (n / N jump)",
        ),
        Binding("n", "next_match(1)", "Next", show=False, id="trace.next", tooltip="Next match"),
        Binding("N", "next_match(-1)", "Prev", show=False, id="trace.prev", tooltip="Previous match"),
        Binding(
            "l", "logs(True)", "Logs", id="trace.logs", tooltip="Logs of the selected span's service for this trace"
        ),
        Binding(
            "L", "logs(False)", "All logs", show=False, id="trace.all_logs", tooltip="Every log record of this trace"
        ),
        Binding(
            "a",
            "api",
            "API perf",
            id="trace.api",
            tooltip="API Performance for the span's service and endpoint around the trace",
        ),
        Binding(
            "ctrl+t",
            "tenant",
            "Tenant",
            id="trace.tenant",
            tooltip="The selected span's tenant (tenant_id / tenant.id)",
        ),
        Binding("y", "copy_trace", "Copy id", id="trace.copy", tooltip="Copy the trace id (OSC 52, works over SSH)"),
        Binding("Y", "copy_span", "Copy span", show=False, id="trace.copy_span", tooltip="Copy the selected span id"),
        Binding(
            "u",
            "ui_link",
            "UI link",
            show=False,
            id="trace.ui_link",
            tooltip="Show and copy the trace's web UI link (traces.ui_url)",
        ),
    ]

    def __init__(self, trace_id: str, *, trace: Trace | None = None, span_id: str = "") -> None:
        super().__init__()
        self.trace_id = trace_id
        self.span_id = span_id  # selected once the trace is drawn (a log record's span)
        self.shown_trace = trace
        self.trace_tree: TraceTree | None = None
        self.snapshot: Snapshot[int] = Snapshot()
        self._path_ns: dict[int, int] = {}
        self._found = ""  # "3 matches" while a find is active
        self._summary: TraceSummary | None = None  # the shown trace's summary (computed once: it walks every span)
        #: the trace is drawn and its critical path marked (tests and benchmarks wait for this)
        self.laid_out = False

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield PaneStatus(id="pane-status")
        yield Static("", id="trace-title")
        yield Input(placeholder="/ find spans (operation, service, id, attribute)", id="trace-find")
        with Horizontal(id="trace-body"):
            yield WaterfallView(id="waterfall")
            with VerticalScroll(id="span-detail"):
                yield Static("", id="span-detail-text")
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self.update_header()
        self.query_one("#trace-find").display = False
        self._layout()
        view = self.query_one(WaterfallView)
        view.focus()
        theme = self.app.theme_variables
        from rich.style import Style

        view.error_style = Style(color=theme.get("error"), bold=True)
        view.flag_style = Style(color=theme.get("warning"), bold=True)
        if theme.get("boost"):
            view.selected_bar_style = Style(bgcolor=theme.get("primary-background-darken-1") or theme.get("panel"))
        if self.shown_trace is not None:
            self._load_given(self.shown_trace)
        else:
            self.refresh_data()

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        self.query_one("#span-detail").display = self.app.size.width >= WIDE_DETAIL

    # --- shell hooks ------------------------------------------------------------------------

    def crumb(self) -> str:
        return f"trace {self.trace_id[:8]}"

    def update_header(self) -> None:
        super().update_header()
        self._show_status()

    def refresh_data(self) -> None:
        """Fetch the trace again (r); a trace does not change once complete, so no polling."""
        self._fetch(self.trace_id)

    def prefetch(self) -> None:
        """Nothing to prefetch: the trace is fetched when the screen opens."""

    def on_pause_changed(self) -> None:
        self.update_header()

    # --- fetching ---------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="trace", description="fetch a trace")
    async def _fetch(self, trace_id: str) -> None:
        error: ZetaError | None = None
        try:
            source = self.app.session.require("traces", 'with kind = "jaeger" | "tempo" | "clickhouse"')
            trace = await source.trace(trace_id)
            laid_out = await run_off_loop(_lay_out, trace)
        except ZetaError as exc:
            error = exc
        except Exception as exc:  # garbage from a backend must not crash the console
            error = BackendUnavailable(
                f"unexpected answer: {type(exc).__name__}: {exc}",
                hint="the trace source answered something Zeta cannot read",
            )
        now = self.app.clock()
        if error is not None:
            self.snapshot = self.snapshot.failed(error, now + self.app.context.refresh_seconds)
            self._show_status()
            return
        await self._show_tree(trace, *laid_out)

    # description: without one, Textual describes the worker by repr() of its arguments, which
    # for a 50,000-span trace is a 28 MB string built on the event loop.
    @work(exclusive=True, exit_on_error=False, group="trace", description="lay out a trace")
    async def _load_given(self, trace: Trace) -> None:
        await self._show_tree(trace, *await run_off_loop(_lay_out, trace))

    async def _show_tree(self, trace: Trace, tree: TraceTree, summary: TraceSummary) -> None:
        """Draw the tree, then find and mark the critical path (0.2 s at 50,000 spans, in a thread:
        the first frame does not wait for it)."""
        self.shown_trace, self.trace_tree, self._summary, self.laid_out = trace, tree, summary, False
        self.snapshot = self.snapshot.succeeded(len(trace.spans), self.app.clock(), trace.warnings)
        view = self.query_one(WaterfallView)
        view.service_styles = _service_styles(summary.services, self.app.theme_variables)
        view.show(tree)
        if self.span_id:
            found = next((i for i, s in enumerate(tree.spans) if s.span_id == self.span_id), None)
            if found is not None:
                view.select_span(found)
        self._show_title()
        self._show_status()
        self._show_detail(view.current)
        path = await run_off_loop(critical_path, tree)
        if tree is not self.trace_tree:
            return  # another trace came meanwhile
        view.set_path(path)
        self._path_ns = on_path(path)
        self.laid_out = True
        self._show_title()
        self._show_detail(view.current)

    # --- drawing ----------------------------------------------------------------------------

    def _show_status(self) -> None:
        if self.is_mounted:
            self.query_one(PaneStatus).show(self.snapshot, self.app.clock(), 1e9, self.app.paused)

    def _show_title(self) -> None:
        trace, tree = self.shown_trace, self.trace_tree
        if trace is None or tree is None:
            return
        summary = self._summary = self._summary or trace.summary()
        path_total = sum(self._path_ns.values())
        parts = [
            f"{summary.root_service or '?'} {summary.root_name}",
            format_duration_ns(tree.end_ns - tree.start_ns),
            f"{len(trace.spans):,} spans",
            f"✖ {summary.error_count} errors" if summary.error_count else "no errors",
            f"critical path ◆ {format_duration_ns(path_total)}" if self.laid_out else "critical path …",
            f"{len(summary.services)} services",
            f"trace {trace.trace_id}",
        ]
        ui = self._ui_url()
        if ui:
            parts.append(ui)
        if self._found:
            parts.insert(0, self._found)
        self.query_one("#trace-title", Static).update(" · ".join(parts), layout=False)

    def _show_detail(self, index: int | None) -> None:
        if self.trace_tree is None or index is None or not self.query_one("#span-detail").display:
            return
        self.query_one("#span-detail-text", Static).update(
            span_detail(self.trace_tree, index, self._path_ns.get(index, 0), hidden=self._pii())
        )

    def _pii(self) -> frozenset[str]:
        logs = self.app.context.logs
        return (
            frozenset(logs.pii_fields) if logs is not None else frozenset({"user_id", "enduser.id", "client.address"})
        )

    @on(WaterfallView.SpanHighlighted)
    def _highlighted(self, event: WaterfallView.SpanHighlighted) -> None:
        self._show_detail(event.index)

    @on(WaterfallView.SpanChosen)
    def _chosen(self, event: WaterfallView.SpanChosen) -> None:
        if self.trace_tree is not None and not self.query_one("#span-detail").display:
            span = self.trace_tree.spans[event.index]
            self.app.push_screen(
                SpanDetailScreen(
                    span_detail(self.trace_tree, event.index, self._path_ns.get(event.index, 0), hidden=self._pii()),
                    tenant_in(span.get, SPAN_TENANT_KEYS),
                )
            )

    # --- actions ----------------------------------------------------------------------------

    def action_back(self) -> None:
        find = self.query_one("#trace-find", Input)
        if find.has_focus:
            find.display = False
            self.query_one(WaterfallView).focus()
            return
        self.post_message(GoBack())  # to the results, or back along a join (a log record's trace)

    def action_focus_search(self) -> None:
        find = self.query_one("#trace-find", Input)
        find.display = True
        find.focus()

    @on(Input.Changed, "#trace-find")
    def _find_changed(self, event: Input.Changed) -> None:
        count = self.query_one(WaterfallView).search(event.value)
        self._found = f"find: {count} matches (n / N)" if event.value.strip() else ""
        self._show_title()

    @on(Input.Submitted, "#trace-find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        view = self.query_one(WaterfallView)
        view.focus()
        if not view.jump(1) and event.value.strip():
            self.notify("no span matches", severity="warning")

    def action_next_match(self, direction: int) -> None:
        if not self.query_one(WaterfallView).jump(direction):
            self.notify("no match: / finds spans", severity="warning")

    def _span(self):
        view = self.query_one(WaterfallView)
        if self.trace_tree is None or view.current is None:
            self.notify("no span selected", severity="warning")
            return None
        return self.trace_tree.spans[view.current]

    def action_logs(self, this_service: bool) -> None:
        span = self._span()
        if span is None or self.trace_tree is None:
            return
        query = f'trace_id:"{self.trace_tree.trace.trace_id}"'
        if this_service and span.service:
            query += f' AND service:"{span.service}"'
        start = self.trace_tree.start_ns / 1e9 - JOIN_MARGIN_SECONDS
        end = self.trace_tree.end_ns / 1e9 + JOIN_MARGIN_SECONDS
        self.post_message(ShowLogs(query, start, end))

    def action_api(self) -> None:
        span = self._span()
        if span is None or self.trace_tree is None:
            return
        endpoint = next((str(span.get(k)) for k in ENDPOINT_KEYS if span.get(k)), "")
        middle = (self.trace_tree.start_ns + self.trace_tree.end_ns) / 2e9
        self.post_message(
            ShowApi(span.service, endpoint, middle - METRICS_MARGIN_SECONDS, middle + METRICS_MARGIN_SECONDS)
        )

    def action_tenant(self) -> None:
        span = self._span()
        if span is None:
            return
        tenant = tenant_in(span.get, SPAN_TENANT_KEYS)
        if tenant:
            self.post_message(ShowTenant(tenant))
        else:
            self.notify(f"the span has no tenant attribute ({', '.join(SPAN_TENANT_KEYS)})", severity="warning")

    def action_copy_trace(self) -> None:
        self.app.copy_to_clipboard(self.trace_id)
        self.notify(f"trace id {self.trace_id} copied (OSC 52)")

    def action_copy_span(self) -> None:
        if (span := self._span()) is not None:
            self.app.copy_to_clipboard(span.span_id)
            self.notify(f"span id {span.span_id} copied (OSC 52)")

    def _ui_url(self) -> str:
        cfg = self.app.context.traces
        return cfg.ui_url.replace("{trace_id}", self.trace_id) if cfg is not None and cfg.ui_url else ""

    def action_ui_link(self) -> None:
        url = self._ui_url()
        if not url:
            self.notify(
                "no web UI configured: set ui_url in [traces], e.g. https://jaeger.internal/trace/{trace_id}",
                severity="warning",
            )
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"{url} (copied)", timeout=10)


class SpanDetailScreen(ModalScreen[None]):
    """Enter on a span when the terminal is too narrow for the side pane."""

    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close", id="trace.detail_close", tooltip="Back to the waterfall"),
        Binding("ctrl+t", "tenant", "Tenant", id="trace.detail_tenant", tooltip="The span's tenant: its Tenant screen"),
    ]
    DEFAULT_CSS = """
    SpanDetailScreen { align: center middle; }
    SpanDetailScreen > Vertical { width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, text, tenant_id: str = "") -> None:
        super().__init__()
        self.text = text
        self.tenant_id = tenant_id

    def compose(self) -> ComposeResult:
        tenant = f" · ctrl+t opens tenant {self.tenant_id}" if self.tenant_id else ""
        with Vertical():
            yield Static(f"Span · Esc closes{tenant}", classes="section-title")
            with VerticalScroll():
                yield Static(self.text)

    def action_tenant(self) -> None:
        # The detail stays open under the join: Esc on the tenant comes back to this span.
        if self.tenant_id:
            self.post_message(ShowTenant(self.tenant_id))
        else:
            self.notify(f"the span has no tenant attribute ({', '.join(SPAN_TENANT_KEYS)})", severity="warning")


def _service_styles(services, theme: dict[str, str]):
    from rich.style import Style

    colours = [theme[k] for k in _PALETTE_KEYS if theme.get(k)] + list(_EXTRA)
    return {service: Style(color=colours[n % len(colours)], bold=True) for n, service in enumerate(services)}


def _lay_out(trace: Trace) -> tuple[TraceTree, TraceSummary]:
    """The tree and the title's summary of a trace (run off the event loop: 60 ms for the
    summary alone at 50,000 spans)."""
    return build_tree(trace), trace.summary()
