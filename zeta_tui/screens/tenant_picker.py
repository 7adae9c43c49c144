"""The Product screen's tenant picker: the tenants with events in the window, most served first.

The tenant shown now is marked ●. Typing filters the list (a substring of the tenant id, any
case); up and down move in it; Enter chooses the highlighted tenant or, when nothing in the list
matches, the tenant id as typed (a tenant past the list's limit, or one with no events in the
window: its figures are asked all the same and say so). Esc keeps the current tenant.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from zeta_tui.models.product import TenantServed, short_count


class TenantPicker(ModalScreen[str | None]):
    """Dismissed with the chosen tenant id, or None (Esc)."""

    DEFAULT_CSS = """
    TenantPicker { align: center middle; background: $background 40%; }
    TenantPicker > Vertical { width: 50; height: auto; max-height: 80%; border: round $primary; background: $surface; }
    TenantPicker OptionList { height: auto; max-height: 20; border: none; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="product.pick.cancel", tooltip="Keep the current tenant"),
        Binding("down", "move(1)", "Next", show=False, id="product.pick.next", tooltip="The next tenant in the list"),
        Binding("up", "move(-1)", "Previous", show=False, id="product.pick.previous", tooltip="The tenant before"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="product.pick.page_down", tooltip="Ten tenants on"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="product.pick.page_up", tooltip="Ten tenants back"),
    ]

    def __init__(self, tenants: tuple[TenantServed, ...], current: str | None, in_window: int = 0) -> None:
        super().__init__()
        self.tenants = tenants
        self.current = current
        self.in_window = in_window
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        cut = (
            f", the {len(self.tenants):,} most served of {self.in_window:,}"
            if self.in_window > len(self.tenants)
            else ""
        )
        with Vertical():
            yield Static(f"Tenant (served recommendations in the window{cut})")
            yield Input(placeholder="type to filter, or a tenant id · Enter", id="picker-filter")
            yield OptionList()

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, text: str) -> None:
        needle = text.strip().lower()
        shown = [t for t in self.tenants if needle in t.tenant_id.lower()]
        self._shown = [t.tenant_id for t in shown]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._line(t), id=t.tenant_id) for t in shown])
        if needle:
            options.highlighted = 0 if shown else None
        elif self.current in self._shown:
            options.highlighted = self._shown.index(self.current)

    def _line(self, tenant: TenantServed) -> str:
        """``● acme  9.1k``: the tenant shown now is marked (the highlight is only the cursor)."""
        mark = "●" if tenant.tenant_id == self.current else " "
        return f"{mark} {tenant.tenant_id:<24} {short_count(tenant.served):>6}"

    @on(Input.Changed, "#picker-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, by: int) -> None:
        options = self.query_one(OptionList)
        if self._shown:
            at = options.highlighted if options.highlighted is not None else -1 if by > 0 else len(self._shown)
            options.highlighted = max(0, min(len(self._shown) - 1, at + by))

    @on(Input.Submitted, "#picker-filter")
    def _typed(self, event: Input.Submitted) -> None:
        at = self.query_one(OptionList).highlighted
        if at is not None and self._shown:
            self.dismiss(self._shown[at])
        elif event.value.strip():
            self.dismiss(event.value.strip())

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
