"""Every error a user can see.

A ZetaError says what went wrong (``title`` + ``message``), where (``where``: a file and
field path, or a backend URL without secrets) and what to do next (``hint``). Backends raise
only these; the CLI prints them and the screens draw them, so no traceback reaches the user.
"""

from __future__ import annotations


class ZetaError(Exception):
    """Base of all user-facing errors."""

    title = "Error"
    exit_code = 1
    #: seconds the backend asked zeta to wait before asking again (HTTP 429 Retry-After)
    retry_after: float | None = None

    def __init__(self, message: str, *, hint: str = "", where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def __str__(self) -> str:
        return self.message

    def render(self) -> str:
        """Plain text for a terminal: title, where, message, hint."""
        head = f"{self.title}: {self.where}" if self.where else self.title
        lines = [head, f"  {self.message}"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class ConfigError(ZetaError):
    """The configuration file or the command line is wrong."""

    title = "Configuration error"
    exit_code = 2


class BackendError(ZetaError):
    """A backend could not answer the question."""

    title = "Backend error"


class BackendUnavailable(BackendError):
    """Connection refused, DNS failure, TLS failure, or a 5xx/garbage answer."""

    title = "Backend unavailable"


class BackendAuthError(BackendError):
    """The backend answered 401/403."""

    title = "Not authorised"


class BackendTimeout(BackendError):
    """The backend did not answer within the configured timeout."""

    title = "Backend timed out"


class AnswerTooLarge(BackendError):
    """The backend's answer passed the byte cap (``max_response_bytes``); the read stopped there."""

    title = "Answer too large"


class NotConfigured(ZetaError):
    """The context has no section for the backend a pane needs: not a failure, nothing to retry."""

    title = "Not configured"
    exit_code = 2


class QueryError(BackendError):
    """The backend rejected the query; ``message`` is the backend's own words."""

    title = "Query error"

    def __init__(self, message: str, *, hint: str = "", where: str = "", error_type: str = "") -> None:
        super().__init__(message, hint=hint, where=where)
        self.error_type = error_type


class WriteRefused(ZetaError):
    """A write (a silence) was asked for in a read-only context."""

    title = "Refused: read-only context"
    exit_code = 2


class SilenceInvalid(ZetaError):
    """A silence that is missing something, caught before it is sent."""

    title = "Invalid silence"
    exit_code = 2


class ParamError(ZetaError):
    """A named query's parameter is missing, unknown, or not of its type (caught before anything runs)."""

    title = "Bad query parameter"
    exit_code = 2


class SchemaMismatch(QueryError):
    """A table lacks what zeta reads from it: ``message`` names the table and column, ``hint`` what to set or do."""

    title = "Table does not fit"


class QueryCancelled(QueryError):
    """The user cancelled a running query (KILL QUERY on a server or on the embedded store)."""

    title = "Query cancelled"


class SqlRefused(QueryError):
    """SQL the read-only console will not send: a write, several statements, INTO OUTFILE."""

    title = "Refused: the SQL console is read-only"
