"""A log record for reading, and a record's context (its neighbours from the same service).

The detail shows a field per row, values wrapped within the window (widgets/log_record.py):
time, level, service and message first, then the pod, tenant, endpoint, method, status and
latency under the record's own field names (models/log_fields.py), the ids, then the rest.
`y` copies the record as JSON; `ctrl+t` opens the record's tenant (its Tenant screen) when the record
has a tenant field under any of models/log_fields.py's TENANT spellings.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from zeta_tui.messages import ShowTenant
from zeta_tui.models.log_fields import TENANT, detail_items
from zeta_tui.models.logs import LogRecord
from zeta_tui.widgets.log_record import RecordFields
from zeta_tui.widgets.log_view import LogView

_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }}
"""


class LogDetailScreen(ModalScreen[None]):
    """Enter on a record: every field, long values wrapped (↑ ↓ scroll a long record)."""

    BINDINGS = [
        Binding("escape,q,enter", "dismiss", "Close", id="logs.detail_close", tooltip="Back to the records"),
        Binding("y", "copy", "Copy", id="logs.detail_copy", tooltip="Copy the record as JSON (OSC 52, works over SSH)"),
        Binding(
            "ctrl+t", "tenant", "Tenant", id="logs.detail_tenant", tooltip="The record's tenant: its Tenant screen"
        ),
    ]
    DEFAULT_CSS = _MODAL_CSS.format(name="LogDetailScreen")

    def __init__(self, record: LogRecord) -> None:
        super().__init__()
        self.record = record
        value = TENANT.value(record)
        self.tenant_id = str(value).strip() if value is not None else ""

    def compose(self) -> ComposeResult:
        tenant = f" · ctrl+t opens tenant {self.tenant_id}" if self.tenant_id else ""
        with Vertical():
            yield Static(f"Record · Esc closes · y copies it as JSON{tenant}", classes="section-title")
            with VerticalScroll(id="record-fields"):
                yield Static(RecordFields(detail_items(self.record)))

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()  # ↑ ↓ PgUp PgDn scroll a record taller than the window

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(orjson.dumps(self.record.to_dict(), default=str).decode())
        self.notify("record copied (OSC 52)")

    def action_tenant(self) -> None:
        # The detail stays open under the join: Esc on the tenant comes back to this record.
        if self.tenant_id:
            self.post_message(ShowTenant(self.tenant_id))
        else:
            self.notify(f"no tenant field in this record ({', '.join(TENANT.names)})", severity="warning")


class LogContextScreen(ModalScreen[None]):
    """`c` on a record: the records around it from the same service, the record itself selected."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="logs.context_close", tooltip="Back to the records")]
    DEFAULT_CSS = _MODAL_CSS.format(name="LogContextScreen")

    def __init__(self, records: Sequence[LogRecord], chosen: LogRecord) -> None:
        super().__init__()
        self.records = sorted(records, key=lambda r: r.timestamp_ns)
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Context of {self.chosen.service or 'the record'} · Esc closes", classes="section-title")
            yield LogView(capacity=max(100, len(self.records)), id="context-view")

    def on_mount(self) -> None:
        view = self.query_one(LogView)
        view.follow = False
        view.replace(self.records)
        for i, r in enumerate(view.records):
            if r.timestamp_ns == self.chosen.timestamp_ns and r.message == self.chosen.message:
                view.cursor = i
                break
        view.focus()
