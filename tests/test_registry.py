"""Each screen is declared once (zeta_tui/modes.py); bindings, palette, help and the command line
all come from that declaration, and a screen missing from any of them fails here."""

from __future__ import annotations

import importlib

import pytest

from zeta_tui.app import ZetaApp
from zeta_tui.cli import build_parser
from zeta_tui.modes import MODES, SCREENS, by_command, missing_section


def test_every_screen_is_importable_and_unique() -> None:
    ids = [s.id for s in SCREENS]
    keys = [s.key for s in SCREENS if s.key]
    commands = [c for s in SCREENS for c in s.commands]
    assert len(ids) == len(set(ids)) and len(keys) == len(set(keys)) and len(commands) == len(set(commands))
    assert keys == [str(i) for i in range(1, len(keys) + 1)]  # number keys 1.. in order
    for spec in SCREENS:
        cls = getattr(importlib.import_module(spec.module), spec.class_name)
        assert isinstance(cls, type), spec
        assert spec.summary and spec.commands and spec.commands[0] == spec.id, spec
        assert by_command(spec.id) is spec and all(by_command(c) is spec for c in spec.commands)


def test_every_mode_has_its_key_binding_its_palette_command_and_its_help() -> None:
    bindings = {b.id: b for b in ZetaApp.BINDINGS}
    for spec in SCREENS:
        if spec.mode and not spec.key:
            # A mode without a number key (Incidents) is reached by `:` and the palette only.
            assert spec.binding_id not in bindings and spec.commands
            assert ZetaApp.MODE_SCREENS[spec.id] == (spec.module, spec.class_name)
        elif spec.mode:
            binding = bindings[spec.binding_id]
            assert (
                binding.key == spec.key
                and binding.tooltip == spec.summary
                and binding.action == f"switch_screen_mode('{spec.id}')"
            )
            assert ZetaApp.MODE_SCREENS[spec.id] == (spec.module, spec.class_name)
        else:
            assert ZetaApp.HELP_EXTRA[spec.id] == (spec.module, spec.class_name)
    assert set(ZetaApp.MODE_SCREENS) == set(MODES)


def test_the_command_line_offers_every_mode() -> None:
    screen = next(a for a in build_parser()._actions if a.dest == "screen")
    assert tuple(screen.choices) == MODES


def test_a_screen_whose_backend_is_missing_names_the_section_to_add() -> None:
    tenants = by_command("tenants")
    assert missing_section(tenants, {"prometheus"}) == "clickhouse"
    assert missing_section(tenants, {"clickhouse"}) is None
    alerts = by_command("alerts")
    assert missing_section(alerts, {"prometheus"}) is None  # either of its backends is enough


@pytest.mark.console  # the whole console through Textual's pilot
async def test_the_palette_lists_every_mode() -> None:
    from zeta_tui.config.models import ContextConfig, ZetaConfig
    from zeta_tui.launch import build_app

    app = build_app(ZetaConfig(default_context="c", contexts={"c": ContextConfig()}), "c", live=False)
    async with app.run_test(size=(100, 30)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
    assert all(f"Go to {s.title}" in titles for s in SCREENS if s.mode), titles
