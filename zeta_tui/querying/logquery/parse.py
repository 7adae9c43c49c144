"""Parse the Kibana/Lucene subset engineers type into the log query AST.

luqum does the Lucene grammar (operators, precedence, quoting, ranges); this module turns its
tree into our small AST and rejects what no log backend can honour (fuzzy ``~``, boosts ``^``,
proximity). luqum is imported on the first parse, not at start-up (it is one of the heavy
imports the start-up hygiene test watches), and every luqum failure becomes a QueryError that
says what, at which column, and how to fix it.

Choices that differ from raw Lucene, each the way Kibana users expect:

- Implicit operators (``a b``) mean AND, as in KQL, not Lucene's default OR.
- ``/`` is an ordinary character: ``endpoint:/api/v1/*`` is a wildcard on a path, not a regular
  expression (Lucene's ``/re/``), because engineers type paths far more than regexes.
- ``field:*`` and ``_exists_:field`` mean the field exists.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from zeta_tui.errors import QueryError

from .ast import TIME_FIELD, And, Exists, LogQuery, MatchAll, Node, Not, Or, Phrase, Range, Term
from .timeexpr import is_time_expression

if TYPE_CHECKING:
    from luqum.tree import Item  # luqum ships no type information: Item is Any to mypy

_WHERE = "log query"
# luqum's ply parser keeps state in module globals; one parse at a time.
_PARSE_LOCK = threading.Lock()
_POSITION = re.compile(r"position (\d+)")
_UNESCAPED_WILDCARD = re.compile(r"(?<!\\)(?:\\\\)*[*?]")
# Kibana users type the Elastic Common Schema name of the time field.
_ALIASES = {"@timestamp": TIME_FIELD}
_FIELD_NAME = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@-]*")


def parse_log_query(text: str) -> LogQuery:
    """Parse ``text`` into a LogQuery; empty text matches everything.

    Raises QueryError (where="log query") for anything it cannot read, naming the column.
    """
    if not text.strip():
        return LogQuery(text, MatchAll())
    escaped, columns = _escape_slashes(text)
    try:
        tree = _luqum_parse(escaped, text, columns)
        root = _Converter(text, columns).convert(tree, None)
    except RecursionError:
        root = None
    if root is None or _depth(root) > MAX_DEPTH:
        # Translators walk the tree recursively; a bounded depth keeps every one of them safe.
        raise QueryError(
            f"the query nests groups or NOTs more than {MAX_DEPTH} deep",
            hint="remove redundant parentheses and double NOTs",
            where=_WHERE,
        )
    return LogQuery(text, root)


#: Deepest nesting of groups/NOTs accepted (no engineer types more; it bounds recursion).
MAX_DEPTH = 64


def _depth(root: Node) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.items if isinstance(node, (And, Or)) else (node.item,) if isinstance(node, Not) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _escape_slashes(text: str) -> tuple[str, list[int]]:
    """``text`` with each unquoted ``/`` escaped, and the original column of each new index.

    Escaping keeps luqum from reading ``/api/`` as a regular expression.
    """
    out: list[str] = []
    columns: list[int] = []
    quoted = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index : index + 2])
            columns += [index, index + 1]
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        if char == "/" and not quoted:
            out.append("\\")
            columns.append(index)
        out.append(char)
        columns.append(index)
        index += 1
    columns.append(len(text))  # "at the end"
    return "".join(out), columns


def _luqum_parse(escaped: str, text: str, columns: list[int]) -> Item:
    from luqum.exceptions import ParseError
    from luqum.parser import parser

    try:
        with _PARSE_LOCK:
            return parser.parse(escaped)
    except ParseError as error:
        raise _syntax_error(str(error), text, columns) from None
    except RecursionError:
        raise  # parse_log_query reports it as nesting too deep
    except Exception as error:
        raise QueryError(f"cannot read the query: {error}", hint=_SYNTAX_HINT, where=_WHERE) from None


_SYNTAX_HINT = (
    'write field:value, "a phrase", AND / OR / NOT, (groups), field:[low TO high], field:>N; '
    'quote values that contain spaces or : ( ) [ ] { } " \\'
)


def _syntax_error(message: str, text: str, columns: list[int]) -> QueryError:
    found = _POSITION.search(message)
    if found:
        index = int(found.group(1))
        column = columns[min(index, len(columns) - 1)] + 1
        near = text[column - 1 : column + 9]
        what = f"unexpected {near!r} at column {column}"
        if message.startswith("Illegal character"):
            what = f"a character that needs escaping or quoting at column {column}: {near[:1]!r}"
    else:
        what = f"the query ends too early at column {len(text) + 1} (an operator, ':', '(' or '[' is left open)"
    return QueryError(f"cannot read the query: {what}", hint=_SYNTAX_HINT, where=_WHERE)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value, flags=re.S)


def _glob(value: str) -> str:
    """Keep only the escapes a glob needs (``\\*``, ``\\?``, ``\\\\``); drop the others."""
    return re.sub(r"\\(.)", lambda m: m.group(0) if m.group(1) in "*?\\" else m.group(1), value, flags=re.S)


class _Converter:
    """luqum tree -> AST, remembering the text for error columns."""

    def __init__(self, text: str, columns: list[int]) -> None:
        self.text = text
        self.columns = columns

    def error(self, node: Item, what: str, hint: str) -> QueryError:
        pos = getattr(node, "pos", None)
        column = self.columns[min(pos, len(self.columns) - 1)] + 1 if isinstance(pos, int) else None
        at = f" at column {column}" if column else ""
        return QueryError(f"{what}{at}", hint=hint, where=_WHERE)

    def convert(self, node: Item, field: str | None) -> Node:
        from luqum import tree as t

        kind = type(node)
        if kind is t.SearchField:
            return self.search_field(node, field)
        if kind in (t.Group, t.FieldGroup):
            return self.convert(node.expr, field)
        if kind in (t.AndOperation, t.UnknownOperation):  # implicit operator = AND, as in KQL
            return And(self.flatten(node, field, And))
        if kind is t.OrOperation:
            return Or(self.flatten(node, field, Or))
        if kind in (t.Not, t.Prohibit):
            return Not(self.convert(node.a, field))
        if kind is t.Plus:
            return self.convert(node.a, field)
        if kind in (t.Word, t.Phrase) and field == TIME_FIELD and node.value != "*":
            # Backends store nanoseconds; an exact time matches nothing anyone meant.
            raise self.error(
                node, "timestamp takes a range, not a value", "write timestamp:[now-1h TO now] or timestamp:>now-15m"
            )
        if kind is t.Word:
            return self.word(node, field)
        if kind is t.Phrase:
            return Phrase(field, _unescape(node.value[1:-1]))
        if kind in (t.Range, t.From, t.To):
            return self.range(node, field)
        if kind in (t.Fuzzy, t.Proximity):
            raise self.error(
                node,
                "fuzzy and proximity searches (~) are not supported",
                "remove the ~N; use a wildcard such as time* instead",
            )
        if kind is t.Boost:
            raise self.error(
                node, "boosts (^) are not supported: log search filters, it does not rank", "remove the ^N"
            )
        if kind is t.Regex:
            raise self.error(node, "regular expressions (/.../) are not supported", "use wildcards: field:prefix*")
        raise self.error(node, f"{str(node).strip()!r} is not supported in log queries", _SYNTAX_HINT)

    def flatten(self, node: Item, field: str | None, kind: type[And] | type[Or]) -> tuple[Node, ...]:
        items: list[Node] = []
        for child in node.children:
            item = self.convert(child, field)
            # a AND (b AND c) is a AND b AND c: a flat tree gives flat backend queries.
            items.extend(item.items if isinstance(item, kind) else (item,))
        return tuple(items)

    def search_field(self, node: Item, field: str | None) -> Node:
        from luqum import tree as t

        name = _unescape(node.name)
        name = _ALIASES.get(name, name)
        if field is not None:
            raise self.error(
                node,
                f"field {name!r} inside the value of field {field!r}",
                "quote a value that contains ':', e.g. field:\"a:b\"",
            )
        if not _FIELD_NAME.fullmatch(name):
            raise self.error(
                node,
                f"{name!r} is not a field name",
                "field names are letters, digits, _ . - and @; wildcards in field names are not supported",
            )
        if name == "_exists_":
            if type(node.expr) is not t.Word or not _FIELD_NAME.fullmatch(_unescape(node.expr.value)):
                raise self.error(node, "_exists_ takes one field name", "write _exists_:trace_id")
            return Exists(_unescape(node.expr.value))
        return self.convert(node.expr, name)

    def word(self, node: Item, field: str | None) -> Node:
        value = node.value
        if value in ("&&", "||"):
            raise self.error(node, f"{value!r} is not an operator here", "write AND, OR and NOT in capitals")
        if value == "*":
            return MatchAll() if field is None else Exists(field)
        if _UNESCAPED_WILDCARD.search(value):
            return Term(field, _glob(value), wildcard=True)
        return Term(field, _unescape(value))

    def range(self, node: Item, field: str | None) -> Node:
        from luqum import tree as t

        if field is None:
            raise self.error(
                node, "a range needs a field", "write field:[low TO high] or field:>N, e.g. latency_ms:>1000"
            )
        if type(node) is t.From:
            low, high, inc_low, inc_high = self.bound(node.a), None, node.include, True
        elif type(node) is t.To:
            low, high, inc_low, inc_high = None, self.bound(node.a), True, node.include
        else:
            low, high = self.bound(node.low), self.bound(node.high)
            inc_low, inc_high = node.include_low, node.include_high
        if field == TIME_FIELD:
            for bound in (low, high):
                if bound is not None and not is_time_expression(bound):
                    raise self.error(
                        node,
                        f"{bound!r} is not a time",
                        "write now, now-15m, now-1h, now-7d, or an ISO date such as 2026-11-27T06:00:00Z",
                    )
        if low is None and high is None:
            return Exists(field)
        return Range(field, low, high, inc_low, inc_high)

    def bound(self, node: Item) -> str | None:
        from luqum import tree as t

        if type(node) is t.Phrase:
            return _unescape(node.value[1:-1])
        if type(node) is t.Word:
            return None if node.value == "*" else _unescape(node.value)
        raise self.error(
            node, f"{str(node).strip()!r} cannot be a range bound", "bounds are numbers, words, times or quoted strings"
        )
