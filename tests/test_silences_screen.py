"""Silences from the console against a real Alertmanager (tests/test_cli_alerts.py's fixtures):
`s` on an alert opens the form with its matchers, Enter asks, `y` creates the silence (checked
through Alertmanager's raw API), a read-only context refuses before anything is sent, and the
list expires a silence after asking."""

from __future__ import annotations

import httpx
import pytest

from tests.support.alert_world import NOW
from tests.support.console import settled
from zeta_tui.config.models import AlertmanagerConfig, ContextConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.silences import ConfirmScreen, SilenceForm, SilencesScreen, parse_matchers
from zeta_tui.widgets.alert_table import AlertTable

pytestmark = pytest.mark.console  # the whole console through Textual's pilot


def _app(url: str, *, production: bool = False):
    context = ContextConfig(alertmanager=AlertmanagerConfig(url=url), production=production)
    return build_app(ZetaConfig(default_context="a", contexts={"a": context}), "a", clock=lambda: NOW, live=False)


def _raw_silences(url: str) -> list[dict]:
    return httpx.get(f"{url}/api/v2/silences", timeout=5).json()


async def _wait(pilot, check, tries: int = 100) -> None:
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("the console never got there")


async def test_silence_an_alert_then_expire_it(am, monkeypatch) -> None:
    monkeypatch.setenv("USER", "oncall")  # the author the form suggests
    before = {s["id"] for s in _raw_silences(am.url)}
    async with _app(am.url).run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        screen = await settled(pilot)
        table = screen.query_one(AlertTable)
        row = next(i for i, r in enumerate(table.rows_shown) if r.name == "DiskSpaceLow")
        table.move_cursor(row=row)
        await pilot.press("s")
        form = pilot.app.screen
        assert isinstance(form, SilenceForm)
        assert (
            form.query_one("#silence-matchers").value
            == 'alertname="DiskSpaceLow" service="postgres" severity="warning"'
        )
        await pilot.press("enter")  # no comment yet: refused with the reason, nothing asked
        assert "comment is required" in str(form.query_one("#silence-problem").render())
        await pilot.press(*"disk grows, ticket OPS-42", "enter")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        await _wait(pilot, lambda: not isinstance(pilot.app.screen, (SilenceForm, ConfirmScreen)))
        created = [s for s in _raw_silences(am.url) if s["id"] not in before]
        assert len(created) == 1 and (created[0]["comment"], created[0]["createdBy"]) == (
            "disk grows, ticket OPS-42",
            "oncall",
        )
        assert {(m["name"], m["value"]) for m in created[0]["matchers"]} == {
            ("alertname", "DiskSpaceLow"),
            ("service", "postgres"),
            ("severity", "warning"),
        }
        await pilot.press("S")
        listing = pilot.app.screen
        assert isinstance(listing, SilencesScreen)
        await _wait(pilot, lambda: any(s.id == created[0]["id"] for s in listing.silences))
        listing.query_one("#silences-table").move_cursor(row=[s.id for s in listing.silences].index(created[0]["id"]))
        await pilot.press("x", "y")
        await _wait(
            pilot,
            lambda: (
                next(s for s in _raw_silences(am.url) if s["id"] == created[0]["id"])["status"]["state"] == "expired"
            ),
        )


async def test_read_only_context_refuses_and_sends_nothing(am) -> None:
    before = len(_raw_silences(am.url))
    notices: list[str] = []
    async with _app(am.url, production=True).run_test(size=(120, 40)) as pilot:
        pilot.app.notify = lambda text, **kw: notices.append(text)  # type: ignore[method-assign]
        await pilot.press("5")
        await settled(pilot)
        await pilot.press("s")
        assert not isinstance(pilot.app.screen, SilenceForm)
        assert any("read-only" in n and "production" in n for n in notices)
    assert len(_raw_silences(am.url)) == before


def test_parse_matchers():
    assert [str(m) for m in parse_matchers('alertname="A b" service=~"api.*"')] == [
        'alertname="A b"',
        'service=~"api.*"',
    ]
    for bad in ("", "no-operator", '1abc="x"'):
        try:
            parse_matchers(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
