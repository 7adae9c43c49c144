"""The record detail: every field shown whole, long values wrapped within the width (never cut at
the edge), the fields an engineer on call looks for first, under the record's own names.

The records are written here in shapes zeta does not generate (an OpenTelemetry collector's
k8s attributes, ECS fields, a stack trace); what must be on screen is taken from them.
"""

from __future__ import annotations

from rich.console import Console

from zeta_tui.models.log_fields import ENDPOINT, POD, TENANT, detail_items
from zeta_tui.models.logs import LogRecord
from zeta_tui.widgets.log_record import RecordFields

MESSAGE = (
    "model server OOMKilled (exit 137) while loading ranking model ndcg-ranker-v42 (3.2 GiB) into GPU 1; "
    "requests to /v2/tenants/acme-retail-eu/recommendations fail with 503 until the pod restarts"
)
URL = "https://shop.example.com/v2/tenants/acme-retail-eu/recommendations?" + "&".join(
    f"candidate={i:04d}" for i in range(30)
)
STACK = (
    "Traceback (most recent call last):\n"
    '  File "ranker/load.py", line 88, in load\n'
    "    weights = torch.load(path)\n"
    "RuntimeError: CUDA out of memory"
)


def _record() -> LogRecord:
    fields = {
        "http.request.method": "POST",
        "url.full": URL,
        "exception.stacktrace": STACK,
        "http.route": "/v2/tenants/{tenant}/recommendations",
        "tenant_id": "acme-retail-eu",
        "http.response.status_code": 503,
        "k8s.namespace.name": "prod-eu",
        "k8s.pod.name": "recommendation-ranker-7c9f6d5b8-x2k4p",
        "host.name": "gke-prod-eu-pool-2-9f1c",
        "retry": False,
        "gpu": None,
    }
    return LogRecord(
        1_736_245_800_123_456_789,
        "ERROR",
        "recommendation-ranker",
        MESSAGE,
        fields,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id="00f067aa0ba902b7",
    )


def _lines(record: LogRecord, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(RecordFields(detail_items(record)))
    return console.export_text().splitlines()


def _value_lines(lines: list[str], name: str) -> list[str]:
    """The value column of field ``name``: its first line and the lines continuing it."""
    start = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
    indent = len(lines[start]) - len(lines[start][len(name) :].lstrip())
    out = [lines[start][indent:]]
    for line in lines[start + 1 :]:
        if line[:indent].strip():  # the next field's name
            break
        out.append(line[indent:])
    return out


def test_long_values_wrap_within_the_width_and_nothing_is_lost() -> None:
    record = _record()
    for width in (60, 76, 148):  # a narrow window, the detail at 80x24, at 160x50
        lines = _lines(record, width)
        assert all(len(line) <= width for line in lines), width
        message = _value_lines(lines, "message")
        assert len(message) > 1 or width >= len(MESSAGE) + 20
        # Nothing lost, in order; and where every word fits the value column, no word is cut
        # (at 60 cells the 42-character path folds).
        assert "".join("".join(message).split()) == "".join(MESSAGE.split())
        if width >= 76:
            assert " ".join(" ".join(message).split()) == " ".join(MESSAGE.split())
        # A value without spaces is folded: its pieces put back together are the value.
        assert "".join(part.rstrip() for part in _value_lines(lines, "url.full")) == URL
        # Newlines kept: the stack trace takes at least a line per line of its own, words in order.
        stack = _value_lines(lines, "exception.stacktrace")
        assert len(stack) >= len(STACK.splitlines())
        assert "".join("".join(stack).split()) == "".join(STACK.split())


def test_the_fields_on_call_come_first_under_the_records_own_names() -> None:
    record = _record()
    names = [name for name, _ in detail_items(record)]
    assert names[:4] == ["timestamp", "level", "service", "message"]
    found = [POD.name_in(record), TENANT.name_in(record), ENDPOINT.name_in(record)]
    assert found == ["k8s.pod.name", "tenant_id", "http.route"]
    assert names[4:7] == found
    assert names[7:9] == ["http.request.method", "http.response.status_code"]
    assert names[9:11] == ["trace_id", "span_id"]
    # The rest in the source's order, nothing twice, nothing lost.
    rest = [n for n in record.fields if n not in names[:9]]
    assert names[11:] == rest and len(names) == len(set(names)) == 4 + 2 + len(record.fields)
    values = dict(detail_items(record))
    assert values["retry"] is False and values["gpu"] is None and values["message"] == MESSAGE


def test_values_read_as_they_are() -> None:
    lines = _lines(_record(), 100)
    by_name = {line.split()[0]: line.split(None, 1)[1].rstrip() for line in lines if line and not line.startswith(" ")}
    assert by_name["retry"] == "false" and by_name["gpu"] == "null"
    assert by_name["http.response.status_code"] == "503"
    assert by_name["service"] == "recommendation-ranker"  # text without quotes
