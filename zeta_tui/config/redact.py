"""What must never reach a screen, a log or an error: secret fields, credentials in URLs, auth headers."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"

#: Config fields that hold a secret value (never printed, not even in a validation error).
SECRET_FIELDS = frozenset({"bearer_token", "password"})

_SENSITIVE_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "password")


def redact_url(url: str) -> str:
    """The URL with any user:password@ removed (safe for screens, logs and errors)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def is_sensitive_header(name: str) -> bool:
    """Headers whose value is a credential (Authorization, X-Api-Key, Cookie, ...)."""
    lowered = name.lower()
    return any(word in lowered for word in _SENSITIVE_HEADER_WORDS)
