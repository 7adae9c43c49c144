"""The Logs list's columns: what each shows, how wide it is, and when it is shown.

A column that shows a record field (pod, tenant, endpoint, method, status, latency, or any field
picked by name) reads it under each spelling of its ``LogField`` in turn (models/log_fields.py),
so the Pod column shows ``service.instance.id`` from an OpenTelemetry collector and ``pod`` from
Promtail. When it is shown:

- picked (the column picker, `x`): as the user said, whatever the width;
- otherwise automatically: the time, level, service, status, latency and message columns always;
  tenant and endpoint from 120 columns, the pod from 140 (below, the message keeps its room and
  the detail shows them); the method only when picked;
- a picked column gets its whole value before an automatic one grows, down to a shorter message,
  and the latency and status columns give way to it where it still does not fit;
- an automatic field column none of the loaded records has is left out, so a source without
  tenants does not spend cells on an empty Tenant column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from zeta_tui.models.log_fields import ENDPOINT, LATENCY, METHOD, POD, STATUS, TENANT, LogField, other_fields
from zeta_tui.models.logs import LogRecord
from zeta_tui.models.pii import mask_value

WIDE = 120  # terminal columns from which tenant and endpoint show (the message repeats the endpoint)
WIDER = 140  # and the pod
EXTRA_PREFIX = "field:"  # the key of a column picked by field name


@dataclass
class Column:
    """One column: what it shows (``field``; None for time, level, service and message), its
    width, and whether it is shown (``shown``: picked; None: automatic from ``shows_from``)."""

    key: str
    title: str
    width: int
    field: LogField | None = None
    shown: bool | None = None
    shows_from: int | None = 0  # automatic: from this terminal width; None: only when picked
    #: a name (service, pod, tenant, endpoint): grows up to this many cells to its longest value
    #: while the message keeps its room, and is cut in the middle beyond; 0 for other columns
    grows_to: int = 0
    base: int = 0  # the width before growing (set from width)
    widened: bool = False  # set with + / -: no longer grows by itself

    def __post_init__(self) -> None:
        self.base = self.base or self.width

    def visible(self, width: int, present: bool = True) -> bool:
        """Shown at terminal ``width``; ``present``: some loaded record has the field (or none is loaded)."""
        if self.shown is not None:
            return self.shown
        if self.shows_from is None:
            return False
        return width >= self.shows_from and (present or self.field is None)

    def text(self, record: LogRecord, hidden: frozenset[str]) -> str:
        """The cell of ``record``: its value under the first spelling it has, masked when that
        spelling is a PII field."""
        if self.field is None:
            return cell_text(record, self.key, hidden)
        name = self.field.name_in(record)
        return "" if name is None else cell_text(record, name, hidden)


def default_columns() -> list[Column]:
    return [
        Column("timestamp", "Time", 12),
        Column("level", "Level", 5),
        Column("service", "Service", 11, grows_to=40),
        Column(POD.key, POD.title, 12, POD, shows_from=WIDER, grows_to=56),
        Column(TENANT.key, TENANT.title, 10, TENANT, shows_from=WIDE, grows_to=24),
        Column(ENDPOINT.key, ENDPOINT.title, 24, ENDPOINT, shows_from=WIDE, grows_to=48),
        Column(METHOD.key, METHOD.title, 6, METHOD, shows_from=None),
        Column(STATUS.key, STATUS.title, 3, STATUS),
        Column(LATENCY.key, LATENCY.title, 6, LATENCY),
        Column("message", "Message", 0),  # 0: the rest of the line
    ]


def field_column(name: str) -> Column:
    """A column for one field, picked by its name."""
    return Column(EXTRA_PREFIX + name, name, 10, LogField(name, name, (name,)), shown=True, grows_to=40)


def cell_text(record: LogRecord, name: str, hidden: frozenset[str]) -> str:
    if name == "timestamp":
        moment = datetime.fromtimestamp(record.timestamp_ns / 1e9)
        return moment.strftime("%H:%M:%S.") + f"{(record.timestamp_ns // 1_000_000) % 1000:03d}"
    value = record.get(name)
    if value is None or value == "":
        return ""
    if name in hidden:
        return mask_value(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


@dataclass(frozen=True)
class ColumnChoice:
    """A line of the column picker: a column (or a field not yet a column), the spellings the
    loaded records use for it, and whether it is shown now."""

    key: str
    title: str
    found: tuple[str, ...]
    shown: bool
    looks_for: tuple[str, ...] = field(default=())

    def describe(self, cells: int = 48) -> str:
        """The field names it reads in the loaded records, or that none has one of the names it
        looks for; at most ``cells`` long."""
        if self.key.startswith(EXTRA_PREFIX) or not self.looks_for:
            return ""
        text = ", ".join(self.found) if self.found else "not in these records: " + ", ".join(self.looks_for)
        return text if len(text) <= cells else text[: cells - 1].rstrip(", ") + "…"


def column_choices(
    columns: Sequence[Column], records: Sequence[LogRecord], width: int, present: set[str]
) -> list[ColumnChoice]:
    """What the picker offers: every column but the message (always shown), then the fields the
    loaded ``records`` have that no column shows. ``present``: keys of the columns some record has."""
    out = []
    for column in columns:
        if column.key == "message":
            continue
        found: tuple[str, ...] = ()
        if column.field is not None:
            seen = {column.field.name_in(r) for r in records}
            found = tuple(n for n in column.field.names if n in seen)
        shown = column.visible(width, column.key in present or not records)
        looks_for = column.field.names if column.field is not None else ()
        out.append(ColumnChoice(column.key, column.title, found, shown, looks_for))
    # A spelling a column shows is not offered again; one it does not use here (an SDK's random
    # service.instance.id beside k8s.pod.name) is offered as a field of its own.
    taken = {n for choice in out for n in choice.found}
    for name in other_fields(records, taken):
        out.append(ColumnChoice(EXTRA_PREFIX + name, name, (name,), False))
    return out


def apply_choice(
    columns: list[Column], chosen: Iterable[str], width: int, present: set[str], any_records: bool
) -> list[Column]:
    """The columns with ``chosen`` (keys) shown and the rest hidden. A column whose automatic
    state already agrees stays automatic (it keeps following the width); fields picked by name
    become columns before the message, and unpicked ones are dropped."""
    wanted = set(chosen)
    out = []
    for column in columns:
        if column.key.startswith(EXTRA_PREFIX) and column.key not in wanted:
            continue
        if column.key != "message":
            now = column.visible(width, column.key in present or not any_records)
            if (column.key in wanted) != now:
                column.shown = column.key in wanted
        out.append(column)
    have = {c.key for c in out}
    extra = [field_column(k.removeprefix(EXTRA_PREFIX)) for k in wanted if k.startswith(EXTRA_PREFIX) and k not in have]
    at = next((i for i, c in enumerate(out) if c.key == "message"), len(out))
    return [*out[:at], *sorted(extra, key=lambda c: c.key), *out[at:]]
