"""LogView, HistoryInput, query history and PII masking: the logs UI parts that need no backend."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from zeta_tui.config.history import QueryHistory
from zeta_tui.models.logs import LogRecord, normalise_level
from zeta_tui.models.pii import MASK, mask_value, masked
from zeta_tui.widgets.history_input import HistoryInput
from zeta_tui.widgets.log_columns import cell_text
from zeta_tui.widgets.log_view import LogView


def _record(i: int, **fields) -> LogRecord:
    base = {"tenant_id": f"tenant_{i % 3:03d}", "user_id": f"user_{i}", "status_code": 200, "latency_ms": 12.0}
    base.update(fields)
    return LogRecord(
        1_790_000_000_000_000_000 + i * 1_000_000, "INFO", "backend-api", f"request {i}", base, record_id=str(i)
    )


class _ViewApp(App):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def compose(self) -> ComposeResult:
        yield LogView(self.capacity)


async def test_buffer_is_bounded_and_the_cursor_follows_the_newest() -> None:
    app = _ViewApp(capacity=1_000)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(LogView)
        view.extend([_record(i) for i in range(600)])
        view.extend([_record(i) for i in range(600, 1_500)])
        await pilot.pause()
        assert len(view.records) == 1_000
        assert view.records[0].message == "request 500"  # the oldest 500 went
        assert view.current().message == "request 1499"
        # Scrolled up, new records do not move the cursor off what the user is reading.
        view.action_cursor(-10)
        reading = view.current()
        view.extend([_record(i) for i in range(1_500, 1_600)])
        assert view.current() == reading


def _in_view(view: LogView) -> bool:
    top, rows = view.scroll_offset.y, view.region.height - 1  # the first line is the header
    return top <= view.cursor < top + rows


async def test_the_cursor_is_in_view_when_records_land_on_a_hidden_view_and_while_following() -> None:
    from textual.screen import Screen
    from textual.widgets import Static

    class _Elsewhere(Screen):
        def compose(self) -> ComposeResult:
            yield Static("another screen")

    app = _ViewApp(capacity=5_000)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()  # laid out empty: no scrollbar yet
        await app.push_screen(_Elsewhere())
        await pilot.pause()
        view.replace([_record(i) for i in range(2_000)])  # lands while the view is hidden
        await pilot.pause()
        app.pop_screen()
        await pilot.pause()
        assert view.current().message == "request 1999" and _in_view(view)
        assert view.scroll_offset.y == 2_000 - (24 - 1)  # the newest on the last line
        # Following: each arrival moves the cursor to the newest, and it stays on screen.
        for start in range(2_000, 2_300, 100):
            view.extend([_record(i) for i in range(start, start + 100)])
            await pilot.pause(0.3)  # the redraw is paced (REDRAW_SECONDS)
            assert view.current().message == f"request {start + 99}" and _in_view(view)


async def test_search_jumps_between_matches_and_wraps() -> None:
    app = _ViewApp(capacity=100)
    async with app.run_test(size=(100, 20)):
        view = app.query_one(LogView)
        view.replace([_record(i) for i in range(30)])
        view.matcher = lambda r: r.message.endswith("7")
        assert [view.records[i].message for i in view.matches()] == ["request 7", "request 17", "request 27"]
        view.action_cursor_to(0)
        assert view.jump(1) and view.current().message == "request 7"
        assert view.jump(-1) and view.current().message == "request 27"  # wrapped backwards
        view.matcher = lambda r: False
        assert not view.jump(1)


async def test_columns_hide_and_widen_and_pii_is_masked_on_screen() -> None:
    app = _ViewApp(capacity=100)
    async with app.run_test(size=(120, 10)) as pilot:
        view = app.query_one(LogView)
        view.replace([_record(1)])
        tenant = next(i for i, c in enumerate(view.columns) if c.key == "tenant")
        view.selected_column = tenant
        assert view.columns[tenant].visible(120) and not view.columns[tenant].visible(80)  # automatic
        view.action_toggle_column()
        await pilot.pause()
        assert "tenant_001" not in "".join(s.text for s in view.render_line(1))
        view.action_toggle_column()
        view.action_widen(4)
        assert view.columns[tenant].width == 14
        assert "tenant_001" in "".join(s.text for s in view.render_line(1))
    record = _record(5)
    assert cell_text(record, "user_id", frozenset({"user_id"})).startswith(MASK)
    assert cell_text(record, "user_id", frozenset()) == "user_5"


def test_masking_keeps_a_stable_fingerprint_and_leaves_the_rest() -> None:
    a, b = _record(1, **{"context.ip_address": "10.1.2.3"}), _record(2, user_id="user_1")
    ma, mb = masked(a, ["user_id", "context.ip_address"]), masked(b, ["user_id"])
    assert ma.fields["user_id"] == mb.fields["user_id"] == mask_value("user_1") != "user_1"
    assert "10.1.2.3" not in str(ma.to_dict()) and ma.fields["tenant_id"] == a.fields["tenant_id"]
    assert a.fields["user_id"] == "user_1"  # the original record is untouched


def test_levels_are_normalised() -> None:
    assert [normalise_level(x) for x in ("warning", "err", "Information", "critical", "info", None)] == [
        "WARN",
        "ERROR",
        "INFO",
        "FATAL",
        "INFO",
        "",
    ]


def test_record_json_keeps_nanoseconds() -> None:
    r = LogRecord(1_790_000_000_123_456_789, "ERROR", "auth", "bad password", {"status_code": 401}, trace_id="ab" * 16)
    d = r.to_dict()
    assert d["timestamp"].endswith(".123456789Z") and d["status_code"] == 401 and d["trace_id"] == "ab" * 16


async def test_history_input_walks_back_and_keeps_the_draft() -> None:
    class _InputApp(App):
        def compose(self) -> ComposeResult:
            yield HistoryInput(["level:ERROR", "latency_ms:>1000"])

    app = _InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(HistoryInput)
        box.focus()
        await pilot.press("s", "v", "c")
        await pilot.press("up")
        assert box.value == "latency_ms:>1000"
        await pilot.press("up", "up")
        assert box.value == "level:ERROR"  # stops at the oldest
        await pilot.press("down", "down")
        assert box.value == "svc"  # back to what was being typed


def test_query_history_is_kept_bounded_and_deduplicated(tmp_path: Path) -> None:
    history = QueryHistory(tmp_path)
    for q in ["a", "b", "a", "  c   d "]:
        history.append("logs", q)
    assert history.load("logs") == ["b", "a", "c d"]
    assert QueryHistory(tmp_path / "missing").load("logs") == []


async def test_a_long_service_name_is_whole_while_the_message_has_room_then_cut_in_the_middle() -> None:
    service = "checkout-payments-gateway-service"  # 33 characters
    for size, whole in (((160, 10), True), ((80, 10), False)):
        app = _ViewApp(capacity=100)
        async with app.run_test(size=size) as pilot:
            view = app.query_one(LogView)
            view.replace(
                [LogRecord(1_790_000_000_000_000_000, "INFO", service, "paid", {"service": service}, record_id="1")]
            )
            await pilot.pause()
            line = "".join(s.text for s in view.render_line(1))
            if whole:
                assert service in line
            else:
                cut = next(w for w in line.split() if "…" in w)
                head, _, tail = cut.partition("…")
                assert service.startswith(head) and service.endswith(tail) and len(head) >= 4 and len(tail) >= 4
                assert "paid" in line  # the message keeps its room
