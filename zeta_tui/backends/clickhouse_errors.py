"""ClickHouse's exceptions in zeta's words: one mapping for the server (HTTP) and the embedded store (chdb).

ClickHouse says what went wrong in one sentence, ``Code: 60. DB::Exception: Table default.x does
not exist. (UNKNOWN_TABLE) (version 24.8...)``, in an HTTP error body, after the rows of an
answer that failed mid-way, or in a chdb exception. zeta quotes that sentence, cut short on one
line, and picks the error class and hint from its code.
"""

from __future__ import annotations

import re
from typing import Any

from zeta_tui.errors import AnswerTooLarge, BackendAuthError, BackendTimeout, QueryCancelled, QueryError, ZetaError

#: The start of ClickHouse's exception sentence (``Code: 60. DB::Exception:``; servers before 20.x
#: wrote ``Code: 60, e.displayText() = DB::Exception:``).
_SENTENCE = re.compile(r"Code: (\d+)[.,] (?:e\.displayText\(\) = )?DB::Exception")
#: Longest server sentence quoted in a message (a query's text can follow ClickHouse's words).
SENTENCE_CHARS = 300
#: ClickHouse's codes for a login it refused: UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD,
#: AUTHENTICATION_FAILED; and ACCESS_DENIED, a user without the grant.
_LOGIN_CODES = frozenset({192, 193, 194, 516})
_ACCESS_DENIED = 497
_TIMEOUT_CODES = frozenset({159, 209, 210})  # TIMEOUT_EXCEEDED, SOCKET_TIMEOUT, NETWORK_ERROR
_TOO_MANY_ROWS_OR_BYTES = 396


def exception_sentence(text: str) -> tuple[int | None, str]:
    """ClickHouse's code and its sentence in ``text``, on one line and cut short; (None, "") when absent."""
    m = _SENTENCE.search(text)
    if not m:
        return None, ""
    line = " ".join(text[m.start() :].split("\n", 1)[0].split())
    return int(m.group(1)), line[:SENTENCE_CHARS] + ("…" if len(line) > SENTENCE_CHARS else "")


def credentials_sent(cfg: Any) -> bool:
    """Whether zeta sends a user (basic auth from the section or the URL) or a bearer token."""
    url = getattr(cfg, "url", None) or ""
    userinfo = "@" in url.split("://", 1)[-1].split("/", 1)[0]
    return bool(cfg.username or cfg.bearer_token is not None or cfg.bearer_token_file or userinfo)


def login_hint(cfg: Any, section: str) -> str:
    """What to fix when ClickHouse refuses the login, saying whether zeta sent credentials at all."""
    if credentials_sent(cfg):
        return (
            f"the server refused the credentials zeta sent: check {section}.username / password "
            f"(or {section}.bearer_token), and the user's grants"
        )
    return (
        f"zeta sent no credentials, so ClickHouse tried its `default` user: set {section}.username / password "
        f'(a password from an env reference such as "${{CLICKHOUSE_PASSWORD}}")'
    )


def clickhouse_error(code: int | None, sentence: str, *, where: str, section: str, cfg: Any) -> ZetaError:
    """The ZetaError for ClickHouse's exception ``code`` (its ``sentence`` quoted)."""
    s = section
    if code in _LOGIN_CODES:
        return BackendAuthError(sentence, where=where, hint=login_hint(cfg, s))
    if code == _ACCESS_DENIED:
        return BackendAuthError(
            sentence,
            where=where,
            hint=f"the user lacks a grant: check {s}.username / password, and ask for SELECT on the tables zeta reads",
        )
    if code == 394:
        return QueryCancelled("the query was cancelled", where=where)
    if code in _TIMEOUT_CODES:
        return BackendTimeout(
            sentence, where=where, hint=f"narrow the time range or the query, or raise {s}.timeout_seconds"
        )
    if code == _TOO_MANY_ROWS_OR_BYTES:
        return AnswerTooLarge(f"{sentence} (ClickHouse's own cap on the answer)", where=where, hint=ask_for_less(s))
    if code == 164:
        if "setting in readonly mode" in sentence:
            return QueryError(
                sentence,
                where=where,
                hint="the user's profile is readonly = 1, which also forbids the time and size limits zeta sends "
                "with each query: give zeta's user readonly = 2 (reads only, settings allowed)",
            )
        return QueryError(
            sentence, where=where, hint="ClickHouse refused it: every query of the console runs with readonly = 1"
        )
    if code in (60, 81):
        table = getattr(cfg, "table", None)
        if table is not None:
            return QueryError(
                sentence,
                where=where,
                hint=f"is {s}.database/{s}.table right ({cfg.database}.{table})? "
                "An embedded store gets its table from `zeta demo`",
            )
        return QueryError(
            sentence,
            where=where,
            hint=f"is {s}.database right ({cfg.database})? "
            "`zeta clickhouse init` creates the tables; an embedded store gets them from `zeta demo`",
        )
    return QueryError(sentence, where=where)


def ask_for_less(section: str) -> str:
    """The hint of an answer over a cap: how to ask for less."""
    return (
        f"ask for less: a narrower time range, a LIMIT, fewer columns or an aggregate, a more selective query; "
        f"or raise {section}.max_response_bytes"
    )
