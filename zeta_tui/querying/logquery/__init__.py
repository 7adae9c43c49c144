"""The one log query syntax (a Kibana/Lucene subset) and its translators.

``parse_log_query(text)`` gives a LogQuery whose AST (``ast.py``) is all the rest of Zeta sees;
``to_elasticsearch``, ``to_logql`` and ``to_clickhouse`` turn it into each backend's query.
Importing this package is cheap: the parser library (luqum) loads on the first parse.
"""

from __future__ import annotations

from .ast import And, Exists, LogQuery, MatchAll, Node, Not, Or, Phrase, Range, Term
from .clickhouse import escape_parameters, sql_select, to_clickhouse
from .elasticsearch import to_elasticsearch
from .logql import to_logql
from .parse import parse_log_query
from .saved import SavedSearch, load_saved_searches
from .timeexpr import resolve_time, time_window

__all__ = [
    "And",
    "Exists",
    "LogQuery",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Range",
    "SavedSearch",
    "Term",
    "escape_parameters",
    "load_saved_searches",
    "parse_log_query",
    "resolve_time",
    "sql_select",
    "time_window",
    "to_clickhouse",
    "to_elasticsearch",
    "to_logql",
]
