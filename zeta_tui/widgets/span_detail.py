"""The detail of one span as text: what it is, where its time went, and everything it carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text

from zeta_tui.models.trace_tree import TraceTree
from zeta_tui.models.traces import format_duration_ns


def span_detail(tree: TraceTree, i: int, path_ns: int = 0, *, hidden: frozenset[str] = frozenset()) -> Text:
    """Rich text for span ``i``: header facts, flags, attributes, events, resource, links.

    ``path_ns`` is the time the span spends on the critical path; ``hidden`` names attributes
    whose values are masked (PII)."""
    span = tree.spans[i]
    out = Text()
    title = f"{span.service or '?'} · {span.name}"
    out.append(title + "\n", style="bold")
    status = span.status.upper() + (f": {span.status_message}" if span.status_message else "")
    facts = [
        ("status", ("ERROR" if span.is_error else status)),
        ("kind", span.kind or "—"),
        ("starts at", "+" + format_duration_ns(span.start_ns - tree.start_ns)),
        ("duration", format_duration_ns(span.duration_ns)),
        ("self time", format_duration_ns(tree.self_ns[i])),
        ("critical path", format_duration_ns(path_ns) if path_ns else "not on it"),
        ("span id", span.span_id),
        ("parent id", span.parent_id or "— (root)"),
    ]
    for label, value in facts:
        style = "bold red" if label == "status" and span.is_error else ""
        out.append(f"{label:>13}  ", style="dim")
        out.append(f"{value}\n", style=style)
    for flag in tree.flags.get(i, ()):
        out.append(f"⚠ {flag}\n", style="bold yellow")
    _section(out, "Attributes", span.attributes, hidden)
    if span.events:
        out.append("\nEvents\n", style="bold underline")
        for event in span.events:
            out.append(f"  +{format_duration_ns(event.timestamp_ns - span.start_ns)}  ", style="dim")
            out.append(f"{event.name}\n")
            for key, value in sorted(event.attributes.items()):
                out.append(f"      {key} = {_value(key, value, hidden)}\n")
    _section(out, "Resource", span.resource, hidden)
    if span.links:
        out.append("\nLinks\n", style="bold underline")
        for link in span.links:
            where = "this trace" if link.trace_id == span.trace_id else f"trace {link.trace_id}"
            out.append(f"  {link.kind}: span {link.span_id} in {where}\n")
    return out


def _section(out: Text, title: str, values: Mapping[str, Any], hidden: frozenset[str]) -> None:
    if not values:
        return
    out.append(f"\n{title}\n", style="bold underline")
    for key, value in sorted(values.items()):
        out.append(f"  {key}", style="bold")
        out.append(f" = {_value(key, value, hidden)}\n")


def _value(key: str, value: Any, hidden: frozenset[str]) -> str:
    if key in hidden:
        from zeta_tui.models.pii import mask_value

        return mask_value(value)
    return str(value)
