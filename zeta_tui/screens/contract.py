"""What a screen of the console is, and what it may ask of the console.

``ConsoleScreen`` is the base of every full screen: the app calls its methods (refresh,
prefetch, pause, header) without asking whether it has them, and draws the header from its
``crumb`` and the way the user came. ``Console`` is the part of the app a screen may use; a
screen asks for anything else (a join to another screen, the way back) by posting a message
from zeta_tui/messages.py, so no screen imports the app.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from textual.geometry import Size
from textual.screen import Screen
from textual.worker import Worker

from zeta_tui.modes import SCREENS, ScreenSpec
from zeta_tui.widgets.shell_header import ShellHeader

if TYPE_CHECKING:
    from zeta_tui.config.models import ContextConfig
    from zeta_tui.models.timerange import TimeRange
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.session import ConsoleSession

_SPECS = {s.class_name: s for s in SCREENS}


class Console(Protocol):
    """The console as its screens see it."""

    session: ConsoleSession
    clock: Callable[[], float]
    live: bool
    paused: bool
    range_label: str

    @property
    def context(self) -> ContextConfig: ...
    @property
    def context_name(self) -> str: ...
    @property
    def catalog(self) -> PromCatalog: ...
    @property
    def first_screen(self) -> str: ...
    @property
    def theme_variables(self) -> dict[str, str]: ...
    def current_range(self) -> TimeRange: ...
    def path_to(self, screen: ConsoleScreen) -> str: ...
    def query_history(self, kind: str, *, multiline: bool = False) -> list[str]: ...
    def remember_query(self, kind: str, query: str, *, multiline: bool = False) -> None: ...

    # What a screen uses of Textual's App.
    @property
    def size(self) -> Size: ...
    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], object] | None = None) -> Any: ...
    def notify(self, message: str) -> None: ...
    def copy_to_clipboard(self, text: str) -> None: ...
    def run_worker(
        self, work: Coroutine[Any, Any, object], *, group: str = "default", exit_on_error: bool = True
    ) -> Worker[Any]: ...


class ConsoleScreen(Screen):
    """A full screen of the console (a mode, or one pushed on a mode by a join)."""

    #: shown in the header when the registry does not name the screen
    TITLE = ""

    @classmethod
    def spec(cls) -> ScreenSpec | None:
        """This screen's declaration in zeta_tui/modes.py, if it has one."""
        return _SPECS.get(cls.__name__)

    def crumb(self) -> str:
        """The screen's name in the header's path (Alerts › HighErrorRate › Logs)."""
        spec = self.spec()
        return spec.title if spec is not None else self.TITLE

    def header_range(self) -> str:
        """The time window the header shows."""
        return self.app.range_label  # type: ignore[attr-defined]

    def update_header(self) -> None:
        app: Any = self.app
        for header in self.query(ShellHeader):
            header.show_context(
                app.path_to(self),
                app.context_name,
                app.context,
                range_label=self.header_range(),
                paused=app.paused,
                refresh_seconds=self.header_refresh(),
            )

    def header_refresh(self) -> float | None:
        """How often the screen asks again, for the header (None: the context's refresh)."""
        return None

    def refresh_data(self) -> None:
        """Ask the backend again now (the `r` key, a new time window)."""

    def prefetch(self) -> None:
        """Ask the first question before the screen is shown (at start-up)."""

    def ask_ahead(self) -> None:
        """Ask the first question now, the screen about to be built and shown (a key or `:` chose
        it): the answer is on its way while it is composed. Unlike ``prefetch``, whatever the
        screen's start-up policy."""

    def on_pause_changed(self) -> None:
        self.update_header()

    def clear_or_back(self) -> bool:
        """Esc on the screen: clear what the screen holds (a filter) and return True, or return
        False to let Esc go back along the user's way."""
        return False
