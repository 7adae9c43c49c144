"""What an engineer on call looks for in a log record (its pod, tenant, endpoint, method, status,
latency), under every name log shippers give it.

Records keep the field names their source used (zeta_tui/backends/logs/records.py): an
OpenTelemetry collector writes the pod as ``k8s.pod.name`` or ``service.instance.id``, Filebeat
as ``kubernetes.pod.name``, Fluent Bit as ``kubernetes.pod_name``, Promtail as a ``pod`` or
``instance`` stream label, Loki's OTLP endpoint as ``k8s_pod_name`` or ``service_instance_id``.
A ``LogField`` names one of those things and looks for it under each spelling in turn, most
specific first, record by record, so a list mixing shippers shows each record's own value.

``host.name`` is not a pod spelling: Beats and collectors running as a DaemonSet write the node
they run on there. It can still be shown as a column of its own (the Logs column picker lists
every field the loaded records have).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from zeta_tui.models.conventions import ENDPOINT_LABELS
from zeta_tui.models.logs import LogRecord

#: the record's own attributes, which every list shows; not offered as extra fields
TOP_LEVEL = ("timestamp", "level", "service", "message", "trace_id", "span_id")


def _dotted_first(labels: Iterable[str]) -> Iterator[str]:
    """Each Prometheus label spelling after its dotted OpenTelemetry/ECS form (``http_route``:
    ``http.route`` first), since log records keep the dots that metric labels cannot."""
    for label in labels:
        if "_" in label:
            yield label.replace("_", ".")
        yield label


@dataclass(frozen=True, slots=True)
class LogField:
    """One thing a record can say (``key``), its column title, and the field names it goes by,
    tried in order."""

    key: str
    title: str
    names: tuple[str, ...]

    def name_in(self, record: LogRecord) -> str | None:
        """The first of ``names`` the record has a value for."""
        fields = record.fields
        for name in self.names:
            value = fields.get(name)
            if value is not None and value != "":
                return name
        return None

    def value(self, record: LogRecord) -> Any:
        name = self.name_in(record)
        return None if name is None else record.fields[name]


POD = LogField(
    "pod",
    "Pod",
    (
        "k8s.pod.name",
        "kubernetes.pod.name",
        "kubernetes.pod_name",
        "k8s_pod_name",
        "pod",
        "pod_name",
        "service.instance.id",
        "service_instance_id",
        "instance",
    ),
)
TENANT = LogField(
    "tenant", "Tenant", ("tenant_id", "tenant.id", "tenantId", "tenant", "labels.tenant_id", "labels.tenant")
)
#: the endpoint label spellings of the metrics (conventions.ENDPOINT_LABELS, a route before a
#: path), then the full URL of ECS as a last resort
ENDPOINT = LogField("endpoint", "Endpoint", (*_dotted_first(ENDPOINT_LABELS), "url.original"))
METHOD = LogField(
    "method", "Method", ("method", "http.request.method", "http_request_method", "http.method", "http_method")
)
#: not the bare ``code`` of conventions.STATUS_LABELS: in a log record it is as often an error code
STATUS = LogField(
    "status",
    "St",
    (
        "status_code",
        "http.response.status_code",
        "http_response_status_code",
        "http.status_code",
        "http_status_code",
        "status",
    ),
)
LATENCY = LogField("latency", "ms", ("latency_ms", "duration_ms", "response_time_ms", "elapsed_ms"))

#: in the order the Logs list and the record detail show them
WELL_KNOWN: tuple[LogField, ...] = (POD, TENANT, ENDPOINT, METHOD, STATUS, LATENCY)


def longest_value(field: LogField, records: Iterable[LogRecord], cap: int) -> int:
    """The length of ``field``'s longest value in ``records`` (0: none has it), looked at no
    further once it reaches ``cap``. The spelling found last is tried first: a source rarely
    changes its names from one record to the next, and this runs for every record a tail brings."""
    longest, hint = 0, field.names[0]
    for record in records:
        fields = record.fields
        value = fields.get(hint)
        if value is None or value == "":
            name = field.name_in(record)
            if name is None:
                continue
            hint, value = name, fields[name]
        longest = max(longest, len(value) if isinstance(value, str) else len(str(value)))
        if longest >= cap:
            break
    return longest


def names_found(field: LogField, records: Iterable[LogRecord]) -> list[str]:
    """The spellings of ``field`` that ``records`` use, in the field's order."""
    seen = {field.name_in(r) for r in records}
    return [n for n in field.names if n in seen]


def other_fields(records: Iterable[LogRecord], taken: Iterable[str] = (), limit: int = 40) -> list[str]:
    """The names of the fields ``records`` have beyond ``taken`` (and the record's own
    attributes), the most frequent first (then by name), at most ``limit``."""
    skip = set(taken) | set(TOP_LEVEL)
    counts: Counter[str] = Counter()
    for record in records:
        counts.update(k for k, v in record.fields.items() if k not in skip and v is not None and v != "")
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def detail_items(record: LogRecord, known: Sequence[LogField] = WELL_KNOWN) -> list[tuple[str, Any]]:
    """The record's fields for reading: time, level, service and message, then what ``known``
    finds (under the record's own names), the trace and span ids, then the rest in the source's
    order."""
    data = record.to_dict()
    head = [k for k in ("timestamp", "level", "service", "message") if k in data]
    found = [name for f in known if (name := f.name_in(record)) is not None]
    ids = [k for k in ("trace_id", "span_id") if k in data]
    order = [*head, *dict.fromkeys(found), *ids]
    rest = [k for k in data if k not in set(order)]
    return [(k, data[k]) for k in (*order, *rest)]
