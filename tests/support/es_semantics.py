"""Elasticsearch's matching rules, small enough to read, for the query DSL clauses zeta sends.

No Elasticsearch server can run on these machines, so a test that asks "would this query find
these documents?" needs the rules written down. They are written here from the Elasticsearch
reference, independently of zeta's translator:

- Dynamic mapping (no index template, as Logstash's ``logs-<service>-YYYY.MM.dd`` indices
  get): a JSON string is ``date`` when date detection recognises it (ISO 8601 dates), otherwise
  ``text`` with a ``keyword`` sub-field (``ignore_above: 256``); integers ``long``, fractions
  ``float``, true/false ``boolean``; objects become dotted fields.
- Elasticsearch 8's built-in ``logs-*-*`` data-stream template: strings are ``keyword``
  (``message`` is ``match_only_text``), no date detection.
- ``text`` is analysed by the standard analyser: lower-cased words (letters, digits and ``_``,
  joined by ``.`` or ``'`` inside a word, as in ``192.168.1.1`` or ``v1.2``); ``keyword`` is
  the whole value, case-sensitive.
- ``match``: text -> any (``operator: and``: all) of the query's words; keyword, numbers -> the
  whole value. ``match_phrase``: text -> the words in order, next to each other. ``term`` /
  ``terms``: the value as it is, never analysed (on text: one indexed word). ``wildcard``: the
  pattern against the keyword's whole value, or against each word of a text. ``range``:
  numbers, dates and keywords compare; ``exists``: a value is indexed. A multi-valued field
  matches when one value does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

IGNORE_ABOVE = 256
_WORD = re.compile(r"\w+(?:[.']\w+)*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def flat(doc: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def field_type(name: str, value: Any, style: str) -> str | None:
    """The type a first value gives a field (``style``: "dynamic" or "logs-data-stream")."""
    sample = next((v for v in value if v is not None), None) if isinstance(value, list) else value
    if sample is None:
        return None
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "long"
    if isinstance(sample, float):
        return "float"
    if isinstance(sample, str):
        if style == "logs-data-stream":
            return "match_only_text" if name == "message" else ("date" if name == "@timestamp" else "keyword")
        return "date" if _DATE.match(sample) else "text"
    return None


class Index:
    """One index: its documents' mapping, built as the first document of each field sets it."""

    def __init__(self, name: str, style: str = "dynamic") -> None:
        self.name, self.style = name, style
        self.types: dict[str, str] = {}

    def add(self, source: dict) -> None:
        for name, value in flat(source).items():
            kind = field_type(name, value, self.style)
            if kind is not None:
                self.types.setdefault(name, kind)

    def caps(self) -> dict[str, str]:
        """field -> type as _field_caps lists them, with the keyword sub-fields of text fields."""
        out = dict(self.types)
        for name, kind in self.types.items():
            if kind == "text" and self.style == "dynamic":
                out[f"{name}.keyword"] = "keyword"
        return out


def field_caps(indices: Iterable[Index], asked: str) -> dict:
    """A ``_field_caps`` answer over ``indices`` for the comma-separated ``asked`` names."""
    wanted = [a for a in asked.split(",") if a]
    fields: dict[str, dict] = {}
    names = []
    for index in indices:
        names.append(index.name)
        for name, kind in index.caps().items():
            if any(fnmatchcase(name, w) for w in wanted):
                fields.setdefault(name, {}).setdefault(
                    kind, {"type": kind, "metadata_field": False, "searchable": True, "aggregatable": kind != "text"}
                )
    return {"indices": names, "fields": fields}


class Matcher:
    """Does a query DSL clause match a document of ``index``?"""

    def __init__(self, index: Index, source: dict) -> None:
        self.index, self.values = index, flat(source)

    def _field(self, name: str) -> tuple[str | None, list[Any]]:
        kind = self.index.caps().get(name)
        base = (
            name.removesuffix(".keyword")
            if name.endswith(".keyword") and kind == "keyword" and name not in self.index.types
            else name
        )
        raw = self.values.get(base)
        vals = [v for v in (raw if isinstance(raw, list) else [raw]) if v is not None]
        if base != name:  # a keyword sub-field holds the short values only
            vals = [v for v in vals if len(str(v)) <= IGNORE_ABOVE]
        return kind, vals

    def matches(self, clause: dict) -> bool:
        ((kind, body),) = clause.items()
        return getattr(self, f"q_{kind}")(body)

    def q_match_all(self, body) -> bool:
        return True

    def q_bool(self, body) -> bool:
        musts = [*body.get("filter", []), *body.get("must", [])]
        if not all(self.matches(c) for c in musts):
            return False
        if any(self.matches(c) for c in body.get("must_not", [])):
            return False
        should = body.get("should", [])
        need = body.get("minimum_should_match", 0 if musts else 1) if should else 0
        return sum(self.matches(c) for c in should) >= need

    def _one(self, body) -> tuple[str, Any]:
        ((name, spec),) = body.items()
        return name, spec

    def _equal(self, kind: str | None, value: Any, wanted: Any) -> bool:
        if kind in ("long", "float"):
            try:
                return float(value) == float(wanted)
            except (TypeError, ValueError):
                return False
        if kind == "boolean":
            return str(value).lower() == str(wanted).lower()
        return str(value) == str(wanted)

    def q_match(self, body) -> bool:
        name, spec = self._one(body)
        query, operator = (spec["query"], spec.get("operator", "or")) if isinstance(spec, dict) else (spec, "or")
        kind, vals = self._field(name)
        if kind in ("text", "match_only_text"):
            asked = words(str(query))
            test = all if operator == "and" else any
            return any(test(w in words(str(v)) for w in asked) for v in vals) if asked else False
        return any(self._equal(kind, v, query) for v in vals)

    def q_match_phrase(self, body) -> bool:
        name, text = self._one(body)
        kind, vals = self._field(name)
        if kind in ("text", "match_only_text"):
            asked = words(str(text))
            for v in vals:
                have = words(str(v))
                if any(have[i : i + len(asked)] == asked for i in range(len(have) - len(asked) + 1)):
                    return True
            return False
        return any(self._equal(kind, v, text) for v in vals)

    def q_term(self, body) -> bool:
        name, spec = self._one(body)
        value = spec["value"] if isinstance(spec, dict) else spec
        kind, vals = self._field(name)
        if kind in ("text", "match_only_text"):
            return any(str(value) in words(str(v)) for v in vals)
        return any(self._equal(kind, v, value) for v in vals)

    def q_terms(self, body) -> bool:
        name, values = self._one(body)
        return any(self.q_term({name: v}) for v in values)

    def q_wildcard(self, body) -> bool:
        name, spec = self._one(body)
        pattern = spec["value"] if isinstance(spec, dict) else spec
        kind, vals = self._field(name)
        if kind in ("text", "match_only_text"):
            return any(fnmatchcase(w, pattern) for v in vals for w in words(str(v)))
        return any(fnmatchcase(str(v), pattern) for v in vals)

    def q_range(self, body) -> bool:
        name, spec = self._one(body)
        kind, vals = self._field(name)

        def key(v):
            if kind in ("long", "float"):
                return float(v)
            if kind == "date":
                return datetime.fromisoformat(str(v).replace("Z", "+00:00"))
            return str(v)

        def ok(v) -> bool:
            try:
                x = key(v)
                return all(
                    op not in spec or cmp(x, key(spec[op]))
                    for op, cmp in (
                        ("gte", lambda a, b: a >= b),
                        ("gt", lambda a, b: a > b),
                        ("lte", lambda a, b: a <= b),
                        ("lt", lambda a, b: a < b),
                    )
                )
            except (TypeError, ValueError):
                return False

        return any(ok(v) for v in vals)

    def q_exists(self, body) -> bool:
        return bool(self._field(body["field"])[1])
