"""The top of every screen: context, production banner, time range, refresh, pause."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class ShellHeader(Vertical):
    """Two lines at most: a production banner (only for production contexts) and a status bar."""

    DEFAULT_CSS = """
    ShellHeader { height: auto; dock: top; }
    ShellHeader #banner { background: $production-banner; color: $text; text-style: bold; padding: 0 1; display: none; }
    ShellHeader.-production #banner { display: block; }
    ShellHeader #bar { background: $panel; color: $foreground; padding: 0 1; height: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="banner")
        yield Static(id="bar")

    def show_context(
        self,
        screen_title: str,
        name: str,
        context,
        *,
        range_label: str,
        paused: bool,
        refresh_seconds: float | None = None,
    ) -> None:
        """The bar for a context (anything with production, is_read_only, refresh_seconds);
        ``refresh_seconds`` when the screen asks less often than the context's refresh."""
        self.show(
            screen_title=screen_title,
            context=name,
            production=context.production,
            read_only=context.is_read_only,
            range_label=range_label,
            refresh_seconds=context.refresh_seconds if refresh_seconds is None else refresh_seconds,
            paused=paused,
        )

    def show(
        self,
        *,
        screen_title: str,
        context: str,
        production: bool,
        read_only: bool,
        range_label: str,
        refresh_seconds: float,
        paused: bool,
    ) -> None:
        self.set_class(production, "-production")
        if production:
            mode = "read-only" if read_only else "WRITES ENABLED"
            self.query_one("#banner", Static).update(f"▲ PRODUCTION · context {context} · {mode}", layout=False)
        bar = Text.assemble(
            ("zeta", "bold"),
            f" · {screen_title} · ctx ",
            (context, "bold"),
            f" · range {range_label}",
            f" · every {refresh_seconds:g}s",
            (" · ⏸ PAUSED" if paused else "", "bold reverse"),
        )
        self.query_one("#bar", Static).update(bar, layout=False)
