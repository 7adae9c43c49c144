"""Every backend kind against every fault, headless and in the console (tests/support/fault_matrix.py).

Headless: the command exits 1 (``zeta alerts``: 3, its "could not read a backend"), names the
backend and says what happened in the user's words, prints no traceback and no secret, and ends
within the timeout plus a process's start. In the console: the pane says the same, keys are still
answered, and the console quits cleanly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.support.fault_matrix import BACKENDS, ENV, FAULTS, TIMEOUT, config_toml, leaked

pytestmark = pytest.mark.slow  # a server and a zeta process for each of 98 cells

CELLS = [pytest.param(b, f, id=f"{b.name}-{f.name}") for b in BACKENDS for f in FAULTS]


@pytest.mark.parametrize(("backend", "fault"), CELLS)
def test_headless(backend, fault, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_toml(backend, fault.name))
    env = {**os.environ, **ENV, "NO_COLOR": "1", "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "zeta_tui.cli", "--config", str(config), *backend.argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    took = time.monotonic() - began
    out = done.stdout + done.stderr
    assert done.returncode == (3 if backend.name == "alertmanager" else 1), out
    assert "Traceback" not in out, out
    assert not leaked(out), out
    assert any(word in out.lower() for word in fault.words), out
    assert backend.name in out.lower() or backend.section in out.lower(), out
    assert took < TIMEOUT + 6, f"{took:.1f}s: {out}"


@pytest.mark.parametrize(("backend", "fault"), CELLS)
async def test_console(backend, fault, tmp_path, monkeypatch) -> None:
    import tomllib

    from zeta_tui.config.loader import parse_config
    from zeta_tui.launch import build_app
    from zeta_tui.widgets.pane_status import PaneStatus

    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    config = parse_config(tomllib.loads(config_toml(backend, fault.name)), source="matrix", base_dir=tmp_path)
    app = build_app(config, "f", live=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press(backend.screen_key)
        deadline = time.monotonic() + TIMEOUT + 8
        text = ""
        while time.monotonic() < deadline:
            await pilot.pause(0.1)
            panes = list(app.screen.query(PaneStatus))
            text = " ".join(str(p.render()) for p in panes)
            if "error" in text or "✖" in text:
                break
        assert any(word in text.lower() for word in fault.words), text
        assert not leaked(text), text
        assert "retry in" in text, text
        # keys are still answered: help opens and closes
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause(0.2)
    assert not app.is_running
