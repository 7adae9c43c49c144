"""How the user moves between screens: joins, the way back, and the path in the header.

A join (a log record's trace, an alert's logs, a span's API performance, `:` with an argument)
remembers where the user was: the screen's mode, the time window, the screens pushed on it. Esc
(or Backspace) walks back along that way: screens the user opened on top are closed first, then
the join is undone, its window restored, and the screens it opened are closed. The screens
themselves keep their cursor and filter, because each mode keeps its own screens. Switching
screens with a number key starts a new way.

``NavigationMixin`` is part of ZetaApp; screens ask for a join by posting a message
(zeta_tui/messages.py) and never call the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zeta_tui.messages import (
    GoBack,
    OpenTrace,
    ShowApi,
    ShowLogs,
    ShowProduct,
    ShowService,
    ShowTenant,
    ShowTraces,
)
from zeta_tui.models.timerange import TimeRange

if TYPE_CHECKING:
    from textual.screen import Screen

#: separator of the header's path
PATH_SEP = " › "


@dataclass
class Step:
    """Where a join left from: the mode, its time window, its screens' names, and the screens the
    join opened (closed again on the way back)."""

    mode: str
    range_label: str
    custom_range: TimeRange | None
    crumbs: tuple[str, ...]
    opened: list[int] = field(default_factory=list)


def crumbs_of(stack: list[Screen]) -> tuple[str, ...]:
    """The names of a mode's screens, bottom up (modals and the starting screen have none)."""
    return tuple(c for c in (getattr(s, "crumb", lambda: "")() for s in stack) if c)


class NavigationMixin:
    """The joins and the way back, for ZetaApp (which provides switch_mode, screen_stack, ...)."""

    way_back: list[Step]
    _custom_range: TimeRange | None

    # --- the path ------------------------------------------------------------------------------

    def path_to(self, screen: Any) -> str:
        """The header's title for ``screen``: the way the user came, then the screens of its mode
        up to it (``Alerts › HighErrorRate › Logs``)."""
        app: Any = self
        stack = list(app.screen_stack)
        here = crumbs_of(stack[: stack.index(screen) + 1] if screen in stack else [screen])
        earlier = [c for step in self.way_back for c in step.crumbs]
        return PATH_SEP.join([*earlier, *here]) or getattr(screen, "TITLE", "")

    # --- joins -----------------------------------------------------------------------------------

    def _leave(self) -> Step:
        """Remember where the user is before a join takes them elsewhere."""
        app: Any = self
        step = Step(app.current_mode, app.range_label, self._custom_range, crumbs_of(list(app.screen_stack)))
        self.way_back.append(step)
        return step

    async def _join(self, mode: str, window: tuple[float, float] | None = None) -> Step:
        app: Any = self
        step = self._leave()
        if window is not None:
            self.lock_window(*window)
        await app.switch_mode(mode)
        return step

    # Each join names the screen class it lands on, so a renamed method or a changed signature
    # fails the type check, not silently at run time (the screens are imported by now).

    async def on_show_service(self, message: ShowService) -> None:
        await self._show_service(message.service)

    async def _show_service(self, service: str) -> None:
        from zeta_tui.screens.api_performance import ApiPerformanceScreen

        await self._join("api")
        if isinstance(screen := self._screen(), ApiPerformanceScreen):
            screen.set_service(service)

    async def on_show_product(self, message: ShowProduct) -> None:
        await self._show_product(message.tenant_id)

    async def _show_product(self, tenant_id: str) -> None:
        from zeta_tui.screens.product import ProductScreen

        await self._join("product")
        if isinstance(screen := self._screen(), ProductScreen):
            screen.set_tenant(tenant_id)

    async def on_show_logs(self, message: ShowLogs) -> None:
        await self._show_logs(message.query, (message.start, message.end))

    async def _show_logs(self, query: str, window: tuple[float, float] | None = None) -> None:
        from zeta_tui.screens.logs import LogsScreen

        await self._join("logs", window)
        if isinstance(screen := self._screen(), LogsScreen):
            screen.set_query(query)

    async def on_show_traces(self, message: ShowTraces) -> None:
        from zeta_tui.screens.traces import TracesScreen

        app: Any = self
        await self._join("traces", (message.start, message.end))
        while len(app.screen_stack) > 1 and not isinstance(app.screen, TracesScreen):  # a trace view on top
            app.pop_screen()
        if isinstance(screen := self._screen(), TracesScreen):
            screen.set_search(message.service, message.errors_only, message.tags)

    async def on_show_api(self, message: ShowApi) -> None:
        from zeta_tui.screens.api_performance import ApiPerformanceScreen

        await self._join("api", (message.start, message.end))
        if isinstance(screen := self._screen(), ApiPerformanceScreen):
            screen.set_scope(message.service or None, message.endpoint)

    async def on_open_trace(self, message: OpenTrace) -> None:
        """A trace link: the Traces screen, with the waterfall of that trace on it."""
        await self.open_trace(message.trace_id, message.span_id)

    async def open_trace(self, trace_id: str, span_id: str = "") -> None:
        from zeta_tui.models.traces import normalise_id
        from zeta_tui.screens.trace_view import TraceViewScreen

        app: Any = self
        step = await self._join("traces")
        screen = TraceViewScreen(normalise_id(trace_id), span_id=normalise_id(span_id))
        step.opened.append(id(screen))
        await app.push_screen(screen)

    async def on_show_tenant(self, message: ShowTenant) -> None:
        await self.open_tenant(message.tenant_id)

    async def open_tenant(self, tenant_id: str) -> None:
        """The Tenant screen for ``tenant_id``, on top of the screen the user is on (Esc closes it).

        Not a join to the Tenants mode: that would first draw the Tenants table and ask its
        questions, which the tenant's own wait behind (measured: bench/screen_data.py), and a
        context without ClickHouse has no Tenants screen to land on.
        """
        from zeta_tui.screens.tenant_detail import TenantDetailScreen

        app: Any = self
        screen = TenantDetailScreen(tenant_id)
        screen.ask_ahead()  # its questions are on the way while it is built
        await app.push_screen(screen)

    async def open_on_top(self, mode: str, screen: Screen) -> None:
        """``screen`` pushed on ``mode`` as a join (`:tenant ID`, `:silences`)."""
        app: Any = self
        step = await self._join(mode)
        step.opened.append(id(screen))
        await app.push_screen(screen)

    def _screen(self) -> Screen:
        app: Any = self
        return app.screen

    def lock_window(self, start: float, end: float) -> None:
        """Every screen's time window fixed to [start, end] (a join from a trace or an alert)."""
        from datetime import datetime

        app: Any = self

        def clock(t: float) -> str:
            return datetime.fromtimestamp(t).strftime("%H:%M:%S")

        label = f"{clock(start)} .. {clock(end)}"
        self._custom_range = TimeRange(start, end, label)
        if app.range_label == label:
            app._on_question_changed()
        app.range_label = label

    # --- the `:` command line ----------------------------------------------------------------------

    def action_command_line(self) -> None:
        from zeta_tui.screens.command_line import CommandLine

        app: Any = self
        if app.session is None:
            return  # still starting

        def chosen(text: str | None) -> None:
            if text:
                app.run_worker(self.run_command(text), group="command", exit_on_error=False)

        app.push_screen(CommandLine(set(app.session.context.backends()), app.context_name, self._known_words()), chosen)

    def _known_words(self) -> list[str]:
        """Arguments to complete: `api SERVICE` for the services discovery found."""
        app: Any = self
        directory = app.session.directory if app.session is not None else None
        inventory = directory.known() if directory is not None else None
        return [f"api {name}" for name in inventory.names()] if inventory is not None else []

    async def run_command(self, text: str) -> None:
        """Run what was typed on the `:` line (without the colon)."""
        from zeta_tui.modes import by_command

        app: Any = self
        word, _, arg = text.strip().partition(" ")
        word, arg = word.lower(), arg.strip()
        if word in ("q", "quit"):
            app.exit()
            return
        if word == "help":
            app.action_help()
            return
        spec = by_command(word)
        if spec is None:
            app.notify(f"no command :{word}; press : and see the list", title="Command", severity="warning")
            return
        if not spec.mode and spec.argument and not arg:
            from zeta_tui.screens.command_line import usage

            app.notify(f"{usage(spec.id)} needs its {spec.argument}", title="Command", severity="warning")
            return
        if spec.id == "trace":
            await self.open_trace(arg)
        elif spec.id == "tenant":
            await self.open_tenant(arg)
        elif spec.id == "silences":
            from zeta_tui.screens.silences import SilencesScreen

            await self.open_on_top("alerts", SilencesScreen())
        elif spec.id == "logs" and arg:
            await self._show_logs(arg)
        elif spec.id == "api" and arg:
            await self._show_service(arg)
        elif spec.id == "product" and arg:
            await self._show_product(arg)
        else:
            await app.action_switch_screen_mode(spec.id)

    # --- the way back ------------------------------------------------------------------------------

    async def on_go_back(self, message: GoBack) -> None:
        await self.action_back()

    async def action_back(self) -> None:
        """Close what the user opened on top of this screen, else undo the last join."""
        app: Any = self
        screen = app.screen
        last = self.way_back[-1] if self.way_back else None
        if len(app.screen_stack) > 1 and (last is None or id(screen) not in last.opened):
            app.pop_screen()
            return
        if last is None:
            return
        self.way_back.pop()
        while len(app.screen_stack) > 1 and id(app.screen) in last.opened:
            app.pop_screen()
        window_changed = (app.range_label, self._custom_range) != (last.range_label, last.custom_range)
        self._custom_range = last.custom_range
        await app.switch_mode(last.mode)
        if app.range_label != last.range_label:
            app.range_label = last.range_label  # its watcher asks the screen again
        elif window_changed:
            app._on_question_changed()
