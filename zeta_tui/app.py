"""ZetaApp: wiring only — screens, global bindings, themes, keymap, the shared time window.

The first frame is drawn before the config is validated and the HTTP stack imported: those
cost more than Textual itself, and an engineer at a bastion prompt should see the console
at once. The session (context, backends, catalog) arrives from a thread a moment later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from zeta_tui.errors import ZetaError
from zeta_tui.models.timerange import PRESETS, TimeRange
from zeta_tui.modes import ANALYTICS_MODES, BY_ID, SCREENS
from zeta_tui.navigation import NavigationMixin, Step
from zeta_tui.resources import shipped_dir
from zeta_tui.screens.contract import ConsoleScreen
from zeta_tui.theming import load_themes

if TYPE_CHECKING:
    from zeta_tui.session import ConsoleSession

MIN_WIDTH, MIN_HEIGHT = 60, 15
#: Seconds after start-up the embedded analytics store is opened, when the console opens on another screen.
WARM_ANALYTICS_AFTER = 1.5


def _screen_class(module: str, name: str) -> type[Screen]:
    import importlib

    return getattr(importlib.import_module(module), name)


def _screen_bindings() -> list[Binding]:
    """A number key per mode of the registry (modes.py), with its id and tooltip."""
    return [
        Binding(s.key, f"switch_screen_mode('{s.id}')", s.short, id=s.binding_id, tooltip=s.summary, show=s.in_footer)
        for s in SCREENS
        if s.mode and s.key
    ]


def _returning(screen: Screen) -> Callable[[], Screen]:
    """A mode's screen factory that gives the one instance built for it."""
    return lambda: screen


def _bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    """The Binding objects of a BINDINGS list (zeta declares every key as a Binding with an id)."""
    return [b for b in bindings if isinstance(b, Binding)]


class StartingScreen(Screen):
    """The first frame: what is being opened, before the config is read."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what

    def compose(self):
        yield Static(f"zeta · {self._what}", classes="starting")


class ZetaApp(NavigationMixin, App[int]):
    """The console. Everything it shows comes from the backends handed to it."""

    TITLE = "zeta"
    # The shell's rules only: the screens' (screens.tcss) are read in _adopt, after the first frame.
    CSS_PATH = str(shipped_dir("themes") / "zeta.tcss")
    SCREENS_CSS = shipped_dir("themes") / "screens.tcss"
    # mode -> (module, class), from the registry; imported when the session arrives, after the first frame.
    MODE_SCREENS = {s.id: (s.module, s.class_name) for s in SCREENS if s.mode}
    # Keys of the screens pushed on top, and of widgets, listed by `?` after the modes' own.
    HELP_EXTRA = {
        **{s.id: (s.module, s.class_name) for s in SCREENS if not s.mode},
        "logs list": ("zeta_tui.widgets.log_view", "LogView"),
        "waterfall": ("zeta_tui.widgets.waterfall", "WaterfallView"),
        "alert": ("zeta_tui.screens.alert_detail", "AlertDetailScreen"),
        "silence form": ("zeta_tui.screens.silences", "SilenceForm"),
    }
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        *_screen_bindings(),
        Binding("t", "next_range", "Range", id="range.next", tooltip=f"Cycle the time range ({', '.join(PRESETS)})"),
        Binding(
            "T",
            "custom_range",
            "Custom range",
            id="range.custom",
            tooltip="Type a time range: a duration or START .. END",
            show=False,
        ),
        Binding("p", "toggle_pause", "Pause", id="app.pause", tooltip="Pause or resume refreshing"),
        Binding("r", "refresh_now", "Refresh", id="app.refresh", tooltip="Refresh the current screen now"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="List every key binding"),
        Binding(
            "colon",
            "command_line",
            "Command",
            id="app.command",
            tooltip="Go anywhere: :alerts, :logs QUERY, :trace ID, :tenant ID, ... (Ctrl+P: the palette)",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="app.back",
            tooltip="Back along the way you came (a join from another screen)",
            show=False,
        ),
        Binding(
            "backspace", "back", "Back", id="app.back_key", tooltip="Back along the way you came (also Esc)", show=False
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit zeta"),
    ]

    paused: reactive[bool] = reactive(False, init=False)
    range_label: reactive[str] = reactive("1h", init=False)

    def __init__(
        self,
        session: ConsoleSession | Callable[[], ConsoleSession],
        *,
        clock: Callable[[], float] = time.time,
        live: bool = True,
        starting: str = "starting…",
        first_screen: str = "health",
    ) -> None:
        """``session`` is ready, or a function that builds it (run in a thread after the first frame)."""
        super().__init__()
        self.session: ConsoleSession | None = None
        self._setup = session if callable(session) else None
        self.clock = clock
        self.live = live
        self.startup_error: ZetaError | None = None
        self._starting = starting
        self._first_screen = first_screen if first_screen in self.MODE_SCREENS else "health"
        self._custom_range: TimeRange | None = None
        self.way_back: list[Step] = []
        self._keymap: dict[str, str] = {}
        for t in load_themes(shipped_dir("themes")):
            self.register_theme(t)
        self.theme = "zeta-dark"
        if not callable(session):
            self._adopt(session)

    # The screens read these; they exist once the session does.
    @property
    def _ready_session(self) -> ConsoleSession:
        """The session (screens ask for it only once it exists)."""
        if self.session is None:
            raise RuntimeError("the console's session is not ready yet")
        return self.session

    @property
    def context(self):
        return self._ready_session.context

    @property
    def context_name(self) -> str:
        return self._ready_session.context_name

    @property
    def prometheus(self):
        return self._ready_session.prometheus

    @property
    def catalog(self):
        return self._ready_session.catalog

    def _adopt(self, session: ConsoleSession) -> None:
        self.session = session
        self._keymap = dict(session.keymap)
        self.set_reactive(ZetaApp.range_label, session.context.time_range)
        self.stylesheet.read(self.SCREENS_CSS)
        self._mode_screens = {mode: _screen_class(*where)() for mode, where in self.MODE_SCREENS.items()}
        for mode, screen in self._mode_screens.items():
            self.add_mode(mode, _returning(screen))

    async def on_mount(self) -> None:
        if self.session is None:
            title = BY_ID[self._first_screen].title
            await self.push_screen(StartingScreen(f"{title} · {self._starting}"))
            self.call_after_refresh(self._load_session)
        else:
            await self._open(self.session)

    def on_load(self) -> None:
        # Read the config and import the HTTP stack in a thread from the very start: Textual
        # spends part of its own start-up waiting on the terminal, and the set-up fills it.
        # (Started on Ready instead, after the first frame, the first frame gained about 8 ms and
        # the data lost about 100 ms: docs/performance.md.)
        if self._setup is not None:
            self._setup_future = asyncio.get_running_loop().run_in_executor(None, self._setup)

    async def _load_session(self) -> None:
        try:
            session = await self._setup_future
        except ZetaError as exc:
            self.startup_error = exc
            self.exit(return_code=exc.exit_code)
            return
        self._adopt(session)
        await self._open(session)

    async def _open(self, session: ConsoleSession) -> None:
        if session.theme in self.available_themes:
            self.theme = session.theme
        if self._keymap:
            self.set_keymap(self._keymap)
        # Ask every screen's first question now: the first screen is built while its
        # answer is on the way, and the others show data at once when their key is pressed.
        for screen in self._mode_screens.values():
            if isinstance(screen, ConsoleScreen):
                screen.prefetch()
        await self.switch_mode(self._first_screen)
        clickhouse = session.clickhouse
        if clickhouse is not None and self.live and self._first_screen not in ANALYTICS_MODES:
            # Open the embedded analytics store once the first screen is busy with its own data.
            self.set_timer(
                WARM_ANALYTICS_AFTER,
                lambda: self.run_worker(clickhouse.warm(), group="warm", exit_on_error=False),
            )

    @property
    def first_screen(self) -> str:
        """The mode the console opened on (screens that skip prefetching at start-up ask it)."""
        return self._first_screen

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.aclose()

    # --- the shared time window ------------------------------------------------------------

    def current_range(self) -> TimeRange:
        if self._custom_range is not None:
            return self._custom_range
        return TimeRange.last(self.range_label, self.clock()).aligned()

    def watch_range_label(self) -> None:
        self._on_question_changed()

    def watch_paused(self) -> None:
        if isinstance(self.screen, ConsoleScreen):
            self.screen.on_pause_changed()

    def _on_question_changed(self) -> None:
        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            screen.update_header()
            screen.refresh_data()

    # --- actions ---------------------------------------------------------------------------

    async def action_switch_screen_mode(self, mode: str) -> None:
        if self.session is None:
            return  # still starting
        self.way_back.clear()  # a number key starts a new way; only joins are walked back
        if self.current_mode != mode:
            screen = self._mode_screens.get(mode)
            if isinstance(screen, ConsoleScreen) and not screen.is_mounted:
                screen.ask_ahead()  # first shown: ask while it is built (bench/screen_data.py)
            await self.switch_mode(mode)
        self._refresh_header()
        self._apply_min_size()

    def _refresh_header(self) -> None:
        if isinstance(self.screen, ConsoleScreen):
            self.screen.update_header()

    def action_next_range(self) -> None:
        self._custom_range = None
        label = self.range_label
        self.range_label = PRESETS[(PRESETS.index(label) + 1) % len(PRESETS)] if label in PRESETS else PRESETS[0]

    def action_custom_range(self) -> None:
        def chosen(result: TimeRange | None) -> None:
            if result is None:
                return
            self._custom_range = None if result.label in PRESETS or ".." not in result.label else result
            if self.range_label == result.label:
                self._on_question_changed()
            self.range_label = result.label

        from zeta_tui.screens.time_range import TimeRangePrompt

        self.push_screen(TimeRangePrompt(self.clock(), self.range_label), chosen)

    def set_range(self, label: str) -> None:
        self._custom_range = None
        self.range_label = label

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def action_refresh_now(self) -> None:
        if isinstance(self.screen, ConsoleScreen):
            self.screen.refresh_data()

    def action_help(self) -> None:
        sections = [("global", _bindings(self.BINDINGS))]
        for mode, where in (*self.MODE_SCREENS.items(), *self.HELP_EXTRA.items()):
            sections.append((mode, _bindings(getattr(_screen_class(*where), "BINDINGS", []))))
        from zeta_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(sections, self._keymap))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for spec in SCREENS:
            if spec.mode:
                yield SystemCommand(
                    f"Go to {spec.title}",
                    f"{spec.summary} ({f'key {spec.key}, or ' if spec.key else ''}:{spec.commands[0]})",
                    lambda m=spec.id: self.run_action(f"switch_screen_mode('{m}')"),
                )
        for label in PRESETS:
            yield SystemCommand(
                f"Time range: last {label}",
                "Set the time window of every screen",
                lambda chosen=label: self.set_range(chosen),
            )
        yield SystemCommand("Custom time range…", "Type a duration or START .. END", self.action_custom_range)
        yield SystemCommand("Pause / resume refreshing", "Key p", self.action_toggle_pause)
        yield SystemCommand("Refresh now", "Key r", self.action_refresh_now)
        yield SystemCommand("Help: list every key", "Key ?", self.action_help)

    def query_history(self, kind: str, *, multiline: bool = False) -> list[str]:
        from zeta_tui.config.history import QueryHistory

        return QueryHistory().load(kind, multiline=multiline) if self.live else []

    def remember_query(self, kind: str, query: str, *, multiline: bool = False) -> None:
        if self.live:  # tests and snapshots leave the user's history alone
            from zeta_tui.config.history import QueryHistory

            QueryHistory().append(kind, query, multiline=multiline)

    # --- minimum size ----------------------------------------------------------------------

    def on_resize(self) -> None:
        self._apply_min_size()

    def _apply_min_size(self) -> None:
        width, height = self.size
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        screen = self.screen
        screen.set_class(too_small, "-too-small")
        if too_small:
            for widget in screen.query("#too-small").results(Static):
                widget.update(
                    f"Zeta needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {width}x{height}.\nEnlarge the "
                    "window or reduce the font size."
                )
