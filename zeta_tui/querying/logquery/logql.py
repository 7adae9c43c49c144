"""Log query AST -> LogQL: ``{selector} <line filters> | json | <label filter>``.

- Message words and phrases ANDed at the top of the query become line filters
  (``|~ "(?i)timeout"``, ``!~`` for NOT) placed before ``| json``: Loki runs them on the raw
  line, far cheaper than parsing every line. They are case-insensitive, like the other backends.
- Everything else becomes one label filter expression after ``| json``, using Loki's ``and`` /
  ``or`` and parentheses. LogQL has no ``not`` in label filters, so NOT is pushed down to the
  atoms (De Morgan): ``=`` <-> ``!=``, ``=~`` <-> ``!~``, ``>`` <-> ``<=``.
- Field names become labels the way ``| json`` names them: characters other than letters, digits
  and ``_`` become ``_`` (``context.ip_address`` -> ``context_ip_address``).
- A JSON key that is also a label of the stream is renamed by ``| json`` to ``<key>_extracted``.
  For such fields (``stream_labels``, which the source learns from /series) the filter checks
  the line's value where it has one and the stream's label where it has not:
  ``(level_extracted=~"(?i)ERROR" or (level_extracted="" and level=~"(?i)ERROR"))``.
- ``service`` on streams labelled ``service_name`` (Grafana Alloy, Loki's OTLP endpoint) and
  not ``service``: the line's own ``service`` where it has one, else the stream's
  ``service_name`` (``(service="x" or (service="" and service_name="x"))``), so a join from a
  trace's service finds its logs there too.
- Timestamp ranges ANDed at the top are not part of LogQL: Loki's time range is the
  query_range ``start``/``end``. They are left out of the string; the Loki source narrows its
  range with ``timeexpr.time_window(query, now)``. A timestamp range under OR or NOT cannot be
  expressed and is a QueryError naming Loki.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime

from zeta_tui.errors import QueryError

from .ast import (
    LEVEL_FIELD,
    MESSAGE_FIELD,
    TIME_FIELD,
    And,
    Exists,
    LogQuery,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Range,
    Term,
    is_numeric,
)
from .timeexpr import split_time_window, time_window

_REGEX_SPECIALS = set("\\.+*?()|[]{}^$")
#: the stream label names of the translation under way (see to_logql)
_STREAM_LABELS: ContextVar[frozenset[str]] = ContextVar("stream_labels", default=frozenset())


def to_logql(query: LogQuery, selector: str, now: datetime, stream_labels: Iterable[str] = ()) -> str:
    """The LogQL log query for ``query`` on the streams ``selector`` (e.g. ``{namespace="prod"}``).

    ``now`` resolves the relative times of the query's time window (checked here, applied by the
    caller as query_range start/end). ``stream_labels``: the label names the streams carry, whose
    JSON namesakes Loki renames to ``<name>_extracted``. Raises QueryError for constructs Loki
    cannot express.
    """
    token = _STREAM_LABELS.set(frozenset(stream_labels))
    try:
        return _to_logql(query, selector, now)
    finally:
        _STREAM_LABELS.reset(token)


def _to_logql(query: LogQuery, selector: str, now: datetime) -> str:
    time_window(query, now)  # a bad time is reported now, not when Loki is asked
    _window, rest = split_time_window(query)
    items = rest.items if isinstance(rest, And) else (rest,)
    line_filters = [_line_filter(*atom) for i in items if (atom := _line_atom(i)) is not None]
    others = [i for i in items if _line_atom(i) is None and not isinstance(i, MatchAll)]
    if not selector.strip():
        raise QueryError(
            "Loki needs a stream selector",
            hint="set selector in [contexts.NAME.logs], e.g. selector = '{namespace=\"production\"}'",
            where="log query",
        )
    parts = [selector.strip(), *line_filters, "| json"]
    if others:
        parts.append("| " + _expression(others[0] if len(others) == 1 else And(tuple(others)), False, top=True))
    return " ".join(parts)


def _line_atom(node: Node) -> tuple[bool, Term | Phrase] | None:
    """(negated, the term or phrase) when ``node`` can be a line filter; None when it cannot."""
    negated = isinstance(node, Not)
    atom = node.item if isinstance(node, Not) else node
    if not (isinstance(atom, (Term, Phrase)) and atom.field in (None, MESSAGE_FIELD)):
        return None
    # The raw line is JSON: text that JSON escapes (quotes, backslashes, control characters,
    # non-ASCII under ensure_ascii loggers) is not in the line as typed, so it is matched on the
    # parsed message label instead.
    if not all(" " <= char <= "~" and char not in '"\\' for char in _text(atom)):
        return None
    return negated, atom


def _line_filter(negated: bool, atom: Term | Phrase) -> str:
    pattern = _glob_regex(atom.value) if isinstance(atom, Term) and atom.wildcard else _regex_escape(_text(atom))
    return f"{'!~' if negated else '|~'} {_string('(?i)' + pattern)}"


def _text(node: Term | Phrase) -> str:
    return node.text if isinstance(node, Phrase) else node.value


def _label(field: str | None) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", field or MESSAGE_FIELD)
    # A label cannot start with a digit; Loki's json parser prefixes such keys with "_".
    return "_" + name if name[:1].isdigit() else name


def _expression(node: Node, negated: bool, top: bool = False) -> str:
    """Label filter text for ``node`` (or its negation), parenthesised unless at the top."""
    if isinstance(node, Not):
        return _expression(node.item, not negated, top)
    if isinstance(node, (And, Or)):
        # De Morgan: NOT (a AND b) == NOT a OR NOT b.
        joiner = " and " if isinstance(node, And) != negated else " or "
        text = joiner.join(_expression(i, negated) for i in node.items)
        return text if top else f"({text})"
    if isinstance(node, Term):
        return _term(node, negated)
    if isinstance(node, Phrase):
        if node.field in (None, MESSAGE_FIELD):
            return _matcher(MESSAGE_FIELD, "=~", ".*" + _regex_escape(node.text) + ".*", negated, flags="is")
        return _matcher(node.field, "=", node.text, negated, flags=_flags(node.field))
    if isinstance(node, Exists):
        return _on_label(node.field, negated, lambda label, neg: f'{label}{"=" if neg else "!="}""')
    if isinstance(node, Range):
        return _range(node, negated, top)
    raise QueryError(
        "a lone * combined with other conditions cannot be expressed in Loki",
        hint="remove the *; it matches every record anyway",
        where="log query",
    )


def _term(node: Term, negated: bool) -> str:
    if node.field in (None, MESSAGE_FIELD):  # message words inside OR/NOT: match the message label
        pattern = _glob_regex(node.value) if node.wildcard else _regex_escape(node.value)
        return _matcher(MESSAGE_FIELD, "=~", ".*" + pattern + ".*", negated, flags="is")
    if node.wildcard:
        return _matcher(node.field, "=~", _glob_regex(node.value), negated, flags=_flags(node.field))
    return _matcher(node.field, "=", node.value, negated, flags=_flags(node.field))


def _flags(field: str) -> str:
    return "i" if field == LEVEL_FIELD else ""


def _matcher(field: str, op: str, value: str, negated: bool, flags: str = "") -> str:
    """``label op "value"``; regex ``flags`` (i: case-blind, s: . matches newlines) make it a regex."""
    if flags:
        # Label regexes are anchored in Loki, so "(?i)ERROR" is an exact, case-blind match.
        value = f"(?{flags})" + (value if op == "=~" else _regex_escape(value))
        op = "=~"
    text = _string(value)

    def check(label: str, neg: bool) -> str:
        return f"{label}{ ({'=': '!=', '=~': '!~'}[op] if neg else op) }{text}"

    return _on_label(field, negated, check)


#: a record field -> the stream label that holds it on streams without a label of its own name
_STREAM_ALIASES = {"service": "service_name"}


def _on_label(field: str, negated: bool, check: Callable[[str, bool], str]) -> str:
    """``check(label, negated)`` on the field's label; for a field that is also a stream label,
    on the line's ``_extracted`` value where the line has one and on the stream's otherwise
    (likewise for a field whose stream label has another name, _STREAM_ALIASES)."""
    label = _label(field)
    stream = _STREAM_LABELS.get()
    alias = _STREAM_ALIASES.get(label)
    if label not in stream and alias in stream:
        extracted, label = label, alias  # the line's own value (from | json), then the stream's
    elif label not in stream:
        return check(label, negated)
    else:
        extracted = label + "_extracted"
    if negated:  # NOT (x_ex ok OR (x_ex = "" AND x ok)) == x_ex not ok AND (x_ex != "" OR x not ok)
        return f'({check(extracted, True)} and ({extracted}!="" or {check(label, True)}))'
    return f'({check(extracted, False)} or ({extracted}="" and {check(label, False)}))'


def _range(node: Range, negated: bool, top: bool) -> str:
    if node.field == TIME_FIELD:
        raise QueryError(
            "a timestamp range inside OR or NOT cannot be expressed in Loki",
            hint="Loki takes the time range from the request: AND the timestamp range with the rest of the query",
            where="log query",
        )
    if not (is_numeric(node.low) and is_numeric(node.high)):
        raise QueryError(
            f"a range over text values ({node.field}:[{node.low} TO {node.high}]) cannot be expressed in Loki",
            hint="Loki compares only numbers, durations and sizes; use numbers, or a wildcard such as field:abc*",
            where="log query",
        )
    bounds = []
    if node.low is not None:
        bounds.append((">=" if node.include_low else ">", node.low))
    if node.high is not None:
        bounds.append(("<=" if node.include_high else "<", node.high))
    inverse = {">=": "<", ">": "<=", "<=": ">", "<": ">="}

    def check(label: str, neg: bool) -> str:
        joiner = " or " if neg else " and "
        text = joiner.join(f"{label} {inverse[op] if neg else op} {_number(value)}" for op, value in bounds)
        return text if len(bounds) == 1 else f"({text})"

    if _label(node.field) in _STREAM_LABELS.get():
        return _on_label(node.field, negated, check)
    text = check(_label(node.field), negated)
    return text[1:-1] if top and len(bounds) > 1 else text


def _number(value: str) -> str:
    return value.strip().lstrip("+")


def _regex_escape(text: str) -> str:
    """``text`` as a literal RE2 pattern (RE2 reads a backslash before punctuation as literal)."""
    return "".join("\\" + c if c in _REGEX_SPECIALS else c for c in text)


def _glob_regex(glob: str) -> str:
    """A glob (``*``, ``?``, backslash escapes) as an RE2 pattern."""
    out = []
    chars = iter(glob)
    for char in chars:
        if char == "\\":
            out.append(_regex_escape(next(chars, "\\")))
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(_regex_escape(char))
    return "".join(out)


def _string(value: str) -> str:
    """A LogQL double-quoted string (Go string syntax) holding exactly ``value``."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            out.append("\\ufffd")  # a lone surrogate is not valid UTF-8 and Go would reject it
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
