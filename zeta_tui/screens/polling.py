"""A screen that polls one data source: workers, one-shot timers, backoff, pane state.

Polling re-arms a one-shot timer when a fetch ends (so a slow backend is never asked twice at
once), backs off after failures, pauses while the screen is hidden or the user paused, and
drops results that arrive after the question changed (time range, filter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import Footer, Static

from zeta_tui.errors import BackendUnavailable, ZetaError
from zeta_tui.models.series import QueryResult
from zeta_tui.models.snapshot import PaneState, Snapshot, retry_delay
from zeta_tui.models.timerange import TimeRange
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.shell_header import ShellHeader

if TYPE_CHECKING:
    from zeta_tui.screens.contract import Console

T = TypeVar("T")


class PollingScreen(ConsoleScreen, Generic[T]):
    """Subclasses implement ``fetch`` (async, may raise ZetaError) and ``show``."""

    app: Console  # type: ignore[assignment]  # the app as a screen may use it (contract.py), not all of App
    #: the least time between two readings when the last one succeeded (0: the context's refresh);
    #: screens whose backends change slowly (a week of incidents, the product events) set it
    min_poll_seconds = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: Snapshot[T] = Snapshot()
        self._timer: Timer | None = None
        self._ticker: Timer | None = None
        self._generation = 0
        self._due = True
        self._asked: Any = None  # (range, question) of the data on screen
        self._prefetching = False
        self._asked_on_the_way = False  # ask_ahead ran as the screen was about to be shown

    # --- composition ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ShellHeader()
        yield PaneStatus(id="pane-status")
        yield from self.compose_body()
        yield Static(id="too-small")
        yield Footer()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - overridden
        yield from ()

    # --- what subclasses provide ---------------------------------------------------------

    async def fetch(self, time_range: TimeRange) -> QueryResult[T]:
        raise NotImplementedError

    def show(self, value: T) -> None:
        raise NotImplementedError

    def require_prometheus(self):
        """The context's Prometheus client, or the error a pane shows when there is none."""
        return self.app.session.require("prometheus", "with url = ...")

    def question(self) -> Any:
        """What the current data answer (changes -> refetch, late answers dropped)."""
        return None

    # --- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self._tick, pause=True)
        self.update_header()
        if self.snapshot.value is not None:  # prefetched before the screen was first shown
            self.show(self.snapshot.value)
        self._show_status()

    def prefetch(self) -> None:
        """At start-up: ask the first question before the screen is built. Screens whose first
        question is heavy override this to ask only when the console opens on them."""
        self._ask_first()

    def ask_ahead(self) -> None:
        """The screen is about to be shown for the first time: ask now, while it is built. An
        answer (or a failure) that lands before it is shown is not asked again when it is."""
        if self.is_mounted or self.snapshot.value is not None or self.snapshot.error is not None:
            return  # shown before, or asked at start-up: on_screen_resume knows what to do
        self._asked_on_the_way = True
        self._ask_first()

    def _ask_first(self) -> None:
        """Start the first fetch before the screen is built, so its answer is on the way (or
        already here) when the screen is shown; building the screen overlaps the wait."""
        if self.is_mounted or self.snapshot.value is not None or self._prefetching:
            return
        self._prefetching = True
        self._generation += 1
        self._asked = self._current_ask()
        fetch = self._fetch_and_apply(self._generation, self.app.current_range(), self.question())
        self.app.run_worker(fetch, group=f"prefetch-{id(self)}", exit_on_error=False)

    def on_screen_resume(self) -> None:
        self.update_header()
        if self._prefetching:
            return  # the answer is on its way; it is shown and the timer armed when it lands
        if self._asked_on_the_way and self.snapshot.error is not None:
            self._arm(self._delay())  # failed as the screen was built: retry when it is due, not at once
            return
        if self.snapshot.from_cache:
            # A previous run's answer is on screen: let it be drawn before asking (opening an
            # embedded store holds the GIL for a moment, and the first paint would wait for it).
            self.call_after_refresh(self.refresh_data)
        elif self._due or self.snapshot.value is None or self._asked != self._current_ask() or self._until_due() <= 0:
            self.refresh_data()
        else:
            self._arm(self._until_due())

    def on_screen_suspend(self) -> None:
        self._disarm()
        if self._ticker is not None:
            # A hidden screen's countdown must not tick: each tick would repaint the screen on
            # top, and an idle console would keep writing (docs/performance.md).
            self._ticker.pause()

    def update_header(self) -> None:
        super().update_header()
        self._show_status()

    # --- polling -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Fetch now (cancelling a fetch in flight); results for an older question are dropped."""
        self._disarm()
        self._asked_on_the_way = False
        self._generation += 1
        self._due = False
        self._prefetching = False  # a prefetch still in flight is superseded by this fetch
        self._asked = self._current_ask()
        self._run_fetch(self._generation, self.app.current_range(), self.question())

    def _current_ask(self) -> Any:
        return (self.app.range_label, self.question())

    @work(exclusive=True, exit_on_error=False, group="poll")
    async def _run_fetch(self, generation: int, time_range: TimeRange, question: Any) -> None:
        await self._fetch_and_apply(generation, time_range, question)

    async def _fetch_and_apply(self, generation: int, time_range: TimeRange, question: Any) -> None:
        try:
            result = await self.fetch(time_range)
        except ZetaError as exc:
            error: ZetaError | None = exc
        except Exception as exc:  # garbage from a backend must not crash the console
            error = BackendUnavailable(
                f"unexpected answer: {type(exc).__name__}: {exc}",
                hint="the backend answered something Zeta cannot read; retrying",
            )
        else:
            error = None
        if generation != self._generation or question != self.question():
            return  # the user changed the question while this was in flight
        self._prefetching = False
        now = self.app.clock()
        if error is None:
            self.snapshot = self.snapshot.succeeded(result.data, now, result.warnings)
            if self.is_mounted:
                self.show(result.data)
        else:
            delay = retry_delay(error, self.snapshot.failures + 1, self.app.context.refresh_seconds)
            self.snapshot = self.snapshot.failed(error, None if delay is None else now + delay)
        # When the screen is shown (again): a failure is asked again at once, data once a period old.
        self._due = error is not None
        if not self.is_mounted:
            return  # a prefetched answer is shown when the screen is
        self._show_status()
        if self.is_current:
            self._arm(self._delay())

    def _until_due(self) -> float:
        """Seconds until the next poll counted from the answer on screen (<= 0: due now). A screen
        shown again after a while (or one prefetched at start-up) must not wait a whole period
        more with old data on it."""
        fetched = self.snapshot.fetched_at
        delay = self._delay()
        if delay is None:
            return float("inf")
        if self.snapshot.error is not None or fetched is None:
            return delay
        return fetched + delay - self.app.clock()

    def _delay(self) -> float | None:
        """Seconds to the next poll; None when there is nothing to ask (no such backend)."""
        if self.snapshot.error is not None:
            return retry_delay(self.snapshot.error, self.snapshot.failures, self.app.context.refresh_seconds)
        return max(self.app.context.refresh_seconds, self.min_poll_seconds)

    def header_refresh(self) -> float | None:
        return max(self.app.context.refresh_seconds, self.min_poll_seconds) if self.min_poll_seconds else None

    def _arm(self, delay: float | None) -> None:
        self._disarm()
        if delay is None or delay == float("inf"):
            return  # nothing to ask again: the backend is not configured
        if not self.app.paused and self.app.live:
            self._timer = self.set_timer(delay, self.refresh_data)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_pause_changed(self) -> None:
        self.update_header()
        if self.app.paused:
            self._disarm()
        else:
            self.refresh_data()

    # --- pane state ------------------------------------------------------------------------

    def _show_status(self) -> None:
        if not self.is_mounted:
            return
        now = self.app.clock()
        fresh_for = self.app.context.refresh_seconds * 2 + 5
        self.query_one(PaneStatus).show(self.snapshot, now, fresh_for, self.app.paused)
        # Tick once a second only while something on screen counts (retry countdown, age).
        ticking = self.snapshot.state(now, fresh_for) in (PaneState.ERROR, PaneState.STALE) and self.app.live
        if self._ticker is not None:
            (self._ticker.resume if ticking else self._ticker.pause)()

    def _tick(self) -> None:
        self._show_status()
