"""Driving the console in tests: wait until a screen's fetch has landed."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable


async def settled(pilot, timeout: float = 20.0):
    """The current screen once its fetch has finished (data or error) and the frame is drawn."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        screen = pilot.app.screen
        snapshot = getattr(screen, "snapshot", None)  # every data screen keeps one
        if snapshot is not None and (snapshot.fetched_at is not None or snapshot.error is not None):
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            # A DataTable sizes its columns from its rows when the app is next idle; on a loaded
            # machine that can be several frames later, and a snapshot taken before it shows
            # the header widths. Wait until no table on screen has sizing left to do.
            for _ in range(100):
                if not any(getattr(t, "_require_update_dimensions", False) for t in screen.query(DataTable)):
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.1)
            return screen
        await pilot.pause(0.05)
    raise AssertionError(f"the screen never finished loading within {timeout:g}s")


async def open_alert(pilot, name: str):
    """The evidence screen of the first alert called ``name`` on the Alerts screen, its graph
    fetched. Alerts of one name on one service are one folded row: it is opened, and its first
    member (the most severe, most urgent) is the one."""
    from zeta_tui.widgets.alert_table import AlertTable

    await pilot.press("5")
    table = (await settled(pilot)).query_one(AlertTable)
    row = next(i for i, line in enumerate(table.lines) if line.row.name == name)
    table.move_cursor(row=row)
    if table.lines[row].is_fold:
        if table.lines[row].fold.key not in table.expanded:
            await pilot.press("enter")  # opens the fold
        await pilot.press("down")
    await pilot.press("enter")
    return await settled(pilot)
