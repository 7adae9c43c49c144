"""What the index mapping says of a query's fields: which ones hold text, and where their whole
value is (the keyword sub-field), from ``GET /<index>/_field_caps``.

Logstash (and any shipper writing to an index without a template) gets Elasticsearch's default
dynamic mapping: every JSON string becomes ``text`` with a ``keyword`` sub-field (``service`` +
``service.keyword``). An exact value (a service, a tenant, a trace id), a wildcard or a string
range must be asked of the keyword, or it matches words: ``service:"auth"`` would find
"auth-proxy". Elasticsearch 8's built-in ``logs-*-*`` template maps strings as ``keyword``
already; an index pattern can mix both. The translator (querying/logquery/elasticsearch.py)
takes the answer as ``exact_fields``.

``_field_caps`` exists in Elasticsearch 5.4+ and every OpenSearch; only the query's own fields
(and their sub-fields) are asked for, once per field per source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zeta_tui.querying.logquery.ast import MESSAGE_FIELD, TIME_FIELD, Exists, LogQuery, Phrase, Range, Term, walk

#: field types whose values are analysed into words
TEXT_TYPES = frozenset({"text", "match_only_text"})
#: sub-field names a keyword copy of a text field usually has, in order of preference
#: (``raw``: the Logstash index template of the 2.x-5.x days)
KEYWORD_SUBFIELDS = ("keyword", "raw")


def query_fields(query: LogQuery) -> set[str]:
    """The fields ``query`` compares values of (not the message, not the time)."""
    names = set()
    for node in walk(query.root):
        if isinstance(node, (Term, Phrase, Range, Exists)) and node.field not in (None, MESSAGE_FIELD, TIME_FIELD):
            names.add(node.field)
    return names


def caps_request_fields(names: Iterable[str]) -> str:
    """The ``fields`` parameter for ``names``: each field and its possible keyword sub-fields."""
    return ",".join(
        f"{name}{suffix}" for name in sorted(names) for suffix in ("", *(f".{s}" for s in KEYWORD_SUBFIELDS))
    )


def exact_fields_from_caps(names: Iterable[str], caps: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """field -> the fields holding its whole value, for each of ``names`` that some index maps
    as text; a field no index maps as text is absent (it is used as it is).

    ``caps`` is a ``_field_caps`` answer: ``{"fields": {name: {type: {...}, ...}}}``, one entry
    per type the indices give the field.
    """
    fields = caps.get("fields") if isinstance(caps, Mapping) else None
    if not isinstance(fields, Mapping):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for name in names:
        types = set(fields.get(name) or ())
        if not types & TEXT_TYPES:
            continue
        sub = next((f"{name}.{s}" for s in KEYWORD_SUBFIELDS if "keyword" in (fields.get(f"{name}.{s}") or ())), None)
        if sub is None:
            continue  # text only: nothing holds the whole value; phrases are the best there is
        # Indices that map the field as keyword itself have no sub-field: ask the field there too.
        out[name] = (sub, name) if "keyword" in types else (sub,)
    return out
