"""The log query AST: the only shape of a query the rest of Zeta sees.

The parser (``parse.py``) turns the Kibana/Lucene text into these frozen nodes; each translator
(Elasticsearch DSL, LogQL, ClickHouse SQL) walks them. No node refers to the parser library, so
changing parsers never touches a translator or a screen.

Field names are the structured record's: ``timestamp``, ``level``, ``service``, ``message``,
``trace_id``, ``span_id`` are top-level; anything else (``tenant_id``, ``latency_ms``,
``context.ip_address``...) is a structured attribute. ``field=None`` means the message text
(a bare word or an unfielded phrase).

Values are kept as the user typed them (strings); each translator decides whether a value is a
number, a time or text, because backends disagree about types.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Fields of the record itself; everything else is a structured attribute.
TOP_LEVEL_FIELDS = ("timestamp", "level", "service", "message", "trace_id", "span_id")

#: The field whose ranges are time ranges (values like ``now-1h`` or ISO dates).
TIME_FIELD = "timestamp"

#: The field whose values match case-insensitively (ERROR == error).
LEVEL_FIELD = "level"

#: The field bare words and unfielded phrases search.
MESSAGE_FIELD = "message"


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every record (the empty query, or ``*``)."""


@dataclass(frozen=True, slots=True)
class Term:
    """``field:value`` or a bare word (``field=None``: the message text).

    With ``wildcard=True`` the value is a glob: ``*`` is any run of characters, ``?`` one
    character, and a backslash makes the next character literal (``\\*``). Without it the value
    is the literal text (escapes already removed).
    """

    field: str | None
    value: str
    wildcard: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """A quoted phrase: exact value of a field, or words in that order in the message text."""

    field: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Range:
    """``field:[low TO high]``, ``{low TO high}``, ``field:>low``, ``field:<=high``.

    A missing bound (``*`` or a one-sided comparison) is ``None``. ``field:>1000`` is
    ``Range(field, "1000", None, include_low=False)``: one node kind for every comparison keeps
    each translator to one code path.
    """

    field: str
    low: str | None
    high: str | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True, slots=True)
class Exists:
    """``_exists_:field`` or ``field:*``: the record has the field.

    For a top-level field that every record has as a column (ClickHouse's SeverityText, TraceId)
    that means a non-empty value.
    """

    field: str


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` (two or more)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Any of ``items`` (two or more)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Records ``item`` does not match (including records without the field)."""

    item: Node


Node = MatchAll | Term | Phrase | Range | Exists | And | Or | Not


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A parsed log query: the AST and the text it came from (for history and error messages)."""

    text: str
    root: Node


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def is_numeric(value: str | None) -> bool:
    """True if ``value`` is a plain decimal number (``None``, an open bound, counts as numeric).

    Stricter than float(): "1_000", "nan" and "inf" are text to an engineer and to every backend.
    """
    return value is None or _NUMBER.fullmatch(value) is not None


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, depth first (parents before children)."""
    yield node
    if isinstance(node, (And, Or)):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)
