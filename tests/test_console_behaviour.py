"""The console as a user drives it: keys, time range, pause, keymap, and backends that misbehave."""

from __future__ import annotations

import socket
import threading

import pytest
from pytest_httpserver import HTTPServer

from tests.support.console import settled
from tests.support.servers import stub_discovery
from zeta_tui.app import ZetaApp
from zeta_tui.config.models import ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.launch import build_app
from zeta_tui.screens.time_range import parse_range
from zeta_tui.widgets.pane_status import PaneStatus
from zeta_tui.widgets.shell_header import ShellHeader

pytestmark = pytest.mark.console  # the whole console through Textual's pilot

T0 = 1_790_000_000.0


def _app(url: str, *, keymap: dict[str, str] | None = None, timeout: float = 5, live: bool = False) -> ZetaApp:
    context = ContextConfig(prometheus=PrometheusConfig(url=url, timeout_seconds=timeout))
    config = ZetaConfig(default_context="t", contexts={"t": context}, keymap=keymap or {})
    return build_app(config, "t", clock=lambda: T0, live=live)


_settled = settled


def _status_text(app: ZetaApp) -> str:
    return str(app.screen.query_one(PaneStatus).render())


def _header_text(app: ZetaApp) -> str:
    return str(app.screen.query_one(ShellHeader).query_one("#bar").render())


@pytest.fixture
def garbage_server(httpserver: HTTPServer) -> str:
    # A success envelope whose samples are not numbers/pairs: the adapter must not crash the app.
    # Discovery finds one service (auth, with up), so Health asks for its figures.
    stub_discovery(httpserver, names=("up",))
    httpserver.expect_request("/api/v1/query_range").respond_with_json(
        {
            "status": "success",
            "data": {"resultType": "matrix", "result": [{"metric": {"job": "auth"}, "values": [["not-a-time"]]}]},
        }
    )
    httpserver.expect_request("/api/v1/query").respond_with_json(
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {"job": "auth"}, "value": [T0, "1"]}]},
        }
    )
    return httpserver.url_for("").rstrip("/")


async def test_garbage_answer_is_an_error_pane_not_a_crash(garbage_server: str) -> None:
    app = _app(garbage_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        assert screen.snapshot.error is not None
        text = _status_text(app)
        assert "error" in text and "unexpected answer" in text and "retry in 10s" in text
        assert app.is_running


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    for s in held:
        s.close()
    sock.close()


async def test_silent_backend_times_out_and_the_screen_stays_usable(silent_server: str) -> None:
    app = _app(silent_server, timeout=1)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot, timeout=10)
        assert "no answer within 1s" in _status_text(app)
        await pilot.press("2")
        await _settled(pilot, timeout=10)
        assert app.current_mode == "api"


async def test_time_range_cycles_and_refetches(garbage_server: str) -> None:
    app = _app(garbage_server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        first = screen._generation
        assert "range 1h" in _header_text(app)
        await pilot.press("t")
        await pilot.pause()
        assert "range 6h" in _header_text(app)
        assert app.current_range().seconds == 6 * 3600
        assert screen._generation == first + 1  # asked again for the new window


async def test_pause_shows_and_stops_polling(garbage_server: str) -> None:
    app = _app(garbage_server, live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _settled(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert app.paused and "PAUSED" in _header_text(app)
        assert screen._timer is None
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused and "PAUSED" not in _header_text(app)


async def test_keymap_override_from_config(garbage_server: str) -> None:
    app = _app(garbage_server, keymap={"screen.api": "f2"})
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("2")  # no longer bound
        await pilot.pause()
        assert app.current_mode == "health"
        await pilot.press("f2")
        await pilot.pause()
        assert app.current_mode == "api"


async def test_custom_range_rejects_bad_text_and_keeps_it(garbage_server: str) -> None:
    app = _app(garbage_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        await pilot.press("T")
        await pilot.pause()
        prompt = app.screen
        field = prompt.query_one("#range-input")
        field.value = "yesterday"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is prompt and field.value == "yesterday"
        assert "e.g. 30s" in str(prompt.query_one("#range-error").render())
        field.value = "90m"
        await pilot.press("enter")
        await pilot.pause()
        assert app.range_label == "90m" and app.current_range().seconds == 5400


def test_parse_custom_range() -> None:
    tr = parse_range("2026-11-27 10:00 .. 2026-11-27 11:30", now=T0)
    assert tr.seconds == 5400
    with pytest.raises(ValueError, match="end must be after"):
        parse_range("2026-11-27 11:00 .. 2026-11-27 10:00", now=T0)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_range("noon .. now", now=T0)


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch, garbage_server: str) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert _app(garbage_server).no_color


async def test_a_bad_config_found_after_the_first_frame_exits_2_with_the_message() -> None:
    """`zeta` draws first and reads the config behind it; a bad file still ends in status 2."""
    from zeta_tui.errors import ConfigError

    def setup():
        raise ConfigError(
            "contexts.prod.prometheus.urll: unknown key 'urll'; did you mean 'url'?", where="/tmp/zeta.toml"
        )

    app = ZetaApp(setup, starting="reading the config…")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if not app.is_running:
                break
            await pilot.pause(0.02)
    assert app.return_code == 2
    assert app.startup_error is not None and "did you mean 'url'" in app.startup_error.render()


def test_a_broken_user_query_stops_start_up_naming_the_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zeta_tui.errors import ConfigError
    from zeta_tui.launch import build_session

    queries = tmp_path / "zeta" / "queries" / "promql"
    queries.mkdir(parents=True)
    (queries / "service_up.promql").write_text("# params: services\navg by (job (up)\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = ZetaConfig(default_context="t", contexts={"t": ContextConfig()})
    with pytest.raises(ConfigError) as info:
        build_session(config, "t")
    assert "service_up" in info.value.message and str(queries / "service_up.promql") in info.value.message
    assert info.value.exit_code == 2


async def test_a_backend_that_cannot_be_had_is_named_in_its_panes() -> None:
    """`zeta demo` without the prometheus binary: the console opens and says what to install."""
    from zeta_tui.errors import BackendUnavailable

    missing = BackendUnavailable(
        "the demo cannot start Prometheus: `prometheus` was not found on PATH", hint="sudo apt-get install prometheus"
    )
    config = ZetaConfig(default_context="demo", contexts={"demo": ContextConfig()})
    app = build_app(config, "demo", clock=lambda: T0, live=False, unavailable={"prometheus": missing})
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled(pilot)
        assert "apt-get install prometheus" in _status_text(app)
        await pilot.press("2")
        await _settled(pilot)
        assert "was not found on PATH" in _status_text(app)


async def test_a_screen_shown_again_asks_at_once_when_its_answer_is_older_than_a_period(httpserver: HTTPServer) -> None:
    """Switching back to a screen whose data is a poll period old (or more) fetches now; one shown
    again within the period keeps its data and asks when the period is up, not a period later."""
    stub_discovery(httpserver)
    for path, kind in (("/api/v1/query", "vector"), ("/api/v1/query_range", "matrix")):
        httpserver.expect_request(path).respond_with_json(
            {"status": "success", "data": {"resultType": kind, "result": []}}
        )
    now = [T0]
    context = ContextConfig(prometheus=PrometheusConfig(url=httpserver.url_for("").rstrip("/")), refresh_seconds=10)
    app = build_app(ZetaConfig(default_context="t", contexts={"t": context}), "t", clock=lambda: now[0], live=True)
    async with app.run_test(size=(120, 40)) as pilot:
        health = await _settled(pilot)
        asked = health._generation
        await pilot.press("2")
        await _settled(pilot)
        now[0] += 4  # back within the period: the same data, the next poll in the 6 s left
        await pilot.press("1")
        await pilot.pause()
        assert health._generation == asked and health._timer is not None
        assert health._until_due() == pytest.approx(6)
        await pilot.press("2")
        await pilot.pause()
        now[0] += 60  # back after a minute: asked at once
        await pilot.press("1")
        await pilot.pause()
        assert health._generation == asked + 1
