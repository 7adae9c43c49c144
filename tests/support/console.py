"""Driving the console in tests: wait until a screen's fetch has landed."""

from __future__ import annotations

import asyncio



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
            # A table sizes its columns from its rows after they land; on a loaded machine that
            # can be a frame later, and a snapshot taken before it shows the header widths.
            await pilot.pause(0.1)
            return screen
        await pilot.pause(0.05)
    raise AssertionError(f"the screen never finished loading within {timeout:g}s")
