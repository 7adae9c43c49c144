"""Log query AST -> Elasticsearch / OpenSearch query DSL.

Only clauses that exist unchanged in Elasticsearch 7/8/9 and OpenSearch 1/2 are used: ``bool``
(filter / should / must_not), ``match``, ``match_phrase``, ``terms``, ``wildcard``, ``range``,
``exists``, ``match_all``. Everything goes in filter context: logs are sorted by time, not by
score, and filters are cached.

Mapping choices:

- ``field:value`` is ``match``, as Kibana does: it finds the value in a keyword field exactly and
  in a text field by its words, so it works whatever the index mapping is.
- ``level`` is ``terms`` over its common spellings (ERROR, error, Error), since level is
  usually a keyword field and keyword matching is case-sensitive.
- Numeric range bounds are sent as numbers; timestamp bounds as UTC ISO strings resolved
  against ``now`` with an explicit format, so the server's date math never differs from ours.
- ``exact_fields`` (what the source learnt from ``_field_caps``) names, for a field that is
  ``text`` in the index, its keyword sub-field (``service`` -> ``service.keyword``, the default
  dynamic mapping of every JSON string, as Logstash's output gets). A value of such a field is
  its whole value, as on the other backends: ``service:"auth"`` is a ``term`` on
  ``service.keyword``, so it finds "auth" and not "auth-proxy", which a ``match_phrase`` on the
  analysed text would; wildcards, string ranges and level spellings use it too (on the words of
  a text field ``endpoint:/api/v1/*`` matches nothing). Where some indices map the field as
  keyword itself, the field is asked too, in the documents without the sub-field (not in the
  text indices, where a one-word value is also a word of longer ones). Without the knowledge (no
  field caps) a field is used as it is, with ``match``/``match_phrase``. The message keeps its
  word semantics always.
  A keyword sub-field holds values up to ``ignore_above`` (256 by default) only: a longer
  value is looked for as a phrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

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
from .timeexpr import resolve_time

Query = dict[str, Any]

#: the longest value a default dynamic keyword sub-field holds (``ignore_above``)
KEYWORD_IGNORE_ABOVE = 256


def to_elasticsearch(
    query: LogQuery,
    now: datetime,
    timestamp_field: str = "@timestamp",
    exact_fields: Mapping[str, tuple[str, ...]] | None = None,
) -> Query:
    """The ``query`` part of a ``_search`` body for ``query``; relative times resolve at ``now``.

    ``exact_fields``: field -> the fields holding its whole value (its keyword sub-field, and
    the field itself where some indices map it as keyword), for fields mapped as text.
    """
    return _Translator(now, timestamp_field, exact_fields or {}).node(query.root)


class _Translator:
    def __init__(self, now: datetime, timestamp_field: str, exact_fields: Mapping[str, tuple[str, ...]]) -> None:
        self.now = now
        self.timestamp_field = timestamp_field
        self.exact_fields = exact_fields

    def exact(self, name: str | None, value: str | None = None) -> tuple[str, ...] | None:
        """The whole-value fields of ``name`` (None: use the field as it is)."""
        if name in (None, MESSAGE_FIELD, TIME_FIELD) or (value is not None and len(value) > KEYWORD_IGNORE_ABOVE):
            return None
        return self.exact_fields.get(name) or None

    def on_exact(self, fields: tuple[str, ...], clause: Callable[[str], Query]) -> Query:
        """``clause`` on the whole-value field: the keyword sub-field, and (``fields`` has two)
        the field itself where it has no sub-field, i.e. where it is keyword. The guard matters:
        on a text field a one-word value (``auth``) is also one of the words of "auth-proxy"."""
        sub = clause(fields[0])
        if len(fields) == 1:
            return sub
        itself = {"bool": {"filter": [clause(fields[1])], "must_not": [{"exists": {"field": fields[0]}}]}}
        return {"bool": {"should": [sub, itself], "minimum_should_match": 1}}

    def field(self, name: str | None) -> str:
        if name is None:
            return MESSAGE_FIELD
        return self.timestamp_field if name == TIME_FIELD else name

    def node(self, node: Node) -> Query:
        if isinstance(node, MatchAll):
            return {"match_all": {}}
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            if (exact := self.exact(node.field, node.text)) is not None:
                return self.on_exact(exact, lambda f: {"term": {f: node.text}})
            return {"match_phrase": {self.field(node.field): node.text}}
        if isinstance(node, Range):
            return self.range(node)
        if isinstance(node, Exists):
            return {"exists": {"field": self.field(node.field)}}
        if isinstance(node, And):
            return self.conjunction(node.items)
        if isinstance(node, Or):
            return {"bool": {"should": [self.node(i) for i in node.items], "minimum_should_match": 1}}
        if isinstance(node, Not):
            return {"bool": {"must_not": [self.node(node.item)]}}
        raise QueryError(f"{type(node).__name__} has no Elasticsearch translation", where="log query")

    def conjunction(self, items: tuple[Node, ...]) -> Query:
        # NOT items go to must_not of the same bool: one clause instead of a bool per NOT.
        positive = [self.node(i) for i in items if not isinstance(i, Not)]
        negative = [self.node(i.item) for i in items if isinstance(i, Not)]
        body: Query = {}
        if positive:
            body["filter"] = positive
        if negative:
            body["must_not"] = negative
        return {"bool": body}

    def term(self, node: Term) -> Query:
        field = self.field(node.field)
        exact = self.exact(node.field, node.value)
        if node.field == LEVEL_FIELD:
            # Level is a keyword (case-sensitive) field: ask for each common spelling. The
            # wildcard's case_insensitive flag would do for a pattern, but ES 7.0-7.9 reject it.
            spellings = list(
                dict.fromkeys([node.value, node.value.upper(), node.value.lower(), node.value.capitalize()])
            )
            fields = exact or (field,)
            if not node.wildcard:
                return self.on_exact(fields, lambda f: {"terms": {f: spellings}})

            def any_spelling(f: str) -> Query:
                clauses = [{"wildcard": {f: {"value": s}}} for s in spellings]
                return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}

            return self.on_exact(fields, any_spelling)
        if exact is not None:
            if node.wildcard:
                return self.on_exact(exact, lambda f: {"wildcard": {f: {"value": node.value}}})
            return self.on_exact(exact, lambda f: {"term": {f: node.value}})
        if node.wildcard and node.field in (None, MESSAGE_FIELD):
            # A bare wildcard (time*) searches the words of the message, as in Kibana. Those
            # words are indexed lower-cased by the standard analyser, and a wildcard is not
            # analysed: lower-case it here, so Time* finds "timeout" as on the other backends.
            return {"wildcard": {field: {"value": node.value.lower()}}}
        if node.wildcard:
            return {"wildcard": {field: {"value": node.value}}}
        if node.field in (None, MESSAGE_FIELD):
            # All the words of a term must be present (analysers may split "a-b").
            return {"match": {field: {"query": node.value, "operator": "and"}}}
        return {"match": {field: node.value}}

    def range(self, node: Range) -> Query:
        body: dict[str, Any] = {}
        convert: Callable[[str], object]
        if node.field == TIME_FIELD:
            convert = self.time
            body_format = {"format": "strict_date_optional_time"}
        elif is_numeric(node.low) and is_numeric(node.high):
            convert, body_format = _number, {}
        else:
            convert, body_format = str, {}
        if node.low is not None:
            body["gte" if node.include_low else "gt"] = convert(node.low)
        if node.high is not None:
            body["lte" if node.include_high else "lt"] = convert(node.high)
        body.update(body_format)
        if convert is str and (exact := self.exact(node.field)) is not None:
            # Strings compare whole values on the keyword, not the text's words.
            return self.on_exact(exact, lambda f: {"range": {f: dict(body)}})
        return {"range": {self.field(node.field): body}}

    def time(self, value: str) -> str:
        moment = resolve_time(value, self.now)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(value: str) -> int | float:
    # 500 stays 500 (not 500.0): integer fields reject fractional bounds on some versions, and
    # int() keeps ids beyond 2**53 exact where float() would round them.
    text = value.strip()
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
