"""The Product screen's tenant picker: filter as you type, move, choose, or a tenant id as typed."""

from __future__ import annotations

import pytest
from textual.app import App

from zeta_tui.models.product import TenantServed
from zeta_tui.screens.tenant_picker import TenantPicker

# Other names than the demo's, a list cut at its limit (5 of 1,204 with events).
TENANTS = tuple(
    TenantServed(t, n)
    for t, n in (("Acme-Retail", 9_100), ("globex-eu", 7_000), ("globex-us", 6_500), ("initech", 300), ("umbrella", 2))
)


class _PickerApp(App[None]):
    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current
        self.chosen: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(TenantPicker(TENANTS, self.current, in_window=1_204), self.chosen.append)


def _listed(app: _PickerApp) -> list[str]:
    from textual.widgets import OptionList

    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


@pytest.mark.console
async def test_typing_filters_and_enter_takes_the_first_match() -> None:
    app = _PickerApp(current="initech")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert _listed(app) == [t.tenant_id for t in TENANTS]
        assert "the 5 most served of 1,204" in str(app.screen.query_one("Static").render())
        await pilot.press(*"GLOBEX")  # any case
        assert _listed(app) == ["globex-eu", "globex-us"]
        await pilot.press("down", "enter")
        assert app.chosen == ["globex-us"]


@pytest.mark.console
async def test_the_current_tenant_is_highlighted_and_up_down_move() -> None:
    from textual.widgets import OptionList

    app = _PickerApp(current="initech")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        assert options.highlighted == 3
        marks = [str(options.get_option_at_index(i).prompt)[0] for i in range(options.option_count)]
        assert marks == [" ", " ", " ", "●", " "]  # the tenant shown now, whatever the cursor does
        await pilot.press("down", "down", "down")  # stops at the last
        assert options.highlighted == 4
        await pilot.press("pageup", "enter")
        assert app.chosen == ["Acme-Retail"]


@pytest.mark.console
async def test_a_tenant_past_the_list_is_taken_as_typed() -> None:
    app = _PickerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*" tenant_0993 ", "enter")
        assert app.chosen == ["tenant_0993"]


@pytest.mark.console
async def test_escape_keeps_the_current_tenant_and_an_empty_enter_does_nothing() -> None:
    app = _PickerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"zzz", "enter")  # nothing matches: zzz is a tenant id as typed
        assert app.chosen == ["zzz"]
    app = _PickerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"   ")
        assert _listed(app) == [t.tenant_id for t in TENANTS]  # blanks filter nothing
        await pilot.press("enter")  # nothing highlighted, nothing typed: nothing chosen
        assert app.chosen == [] and isinstance(app.screen, TenantPicker)
        await pilot.press("escape")
        assert app.chosen == [None]
