"""One place that turns an HttpBackendConfig into an httpx client and httpx failures into ZetaErrors."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson

from zeta_tui.config.models import HttpBackendConfig
from zeta_tui.config.redact import redact_url
from zeta_tui.errors import AnswerTooLarge, BackendAuthError, BackendTimeout, BackendUnavailable, ConfigError

__all__ = ["HttpBackend", "build_client", "redact_url"]

T = TypeVar("T")

#: Deadlines of the user actions in progress, by backend (see HttpBackend.action).
_DEADLINES: contextvars.ContextVar[dict[int, float] | None] = contextvars.ContextVar(
    "zeta_http_deadlines", default=None
)
#: Answers at least this large are decoded (and their models built) in a worker thread.
THREAD_BYTES = 256 * 1024
#: The longest Retry-After zeta honours; a server asking for more is asked again after this.
MAX_RETRY_AFTER = 600.0
#: Headers of the wire that no longer describe the body once zeta has read and decoded it.
_WIRE_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def _read_secret_file(path: str, field: str, url: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"cannot read {field} {path!r}: {reason}", where=redact_url(url), hint="fix the path or its permissions"
        ) from None


def _ssl_context(cfg: HttpBackendConfig) -> ssl.SSLContext:
    if cfg.url.startswith("http://") and not (cfg.ca_file or cfg.client_cert or cfg.insecure_skip_verify):
        # Plain HTTP needs no trust store, and loading the system's costs ~0.1 s of start-up.
        # This context trusts nothing, so a redirect to https fails closed, never unverified.
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx = ssl.create_default_context(cafile=str(Path(cfg.ca_file).expanduser()) if cfg.ca_file else None)
    if cfg.insecure_skip_verify:
        # Skip verification only; a client certificate is still presented below.
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cfg.client_cert:
        ctx.load_cert_chain(
            str(Path(cfg.client_cert).expanduser()),
            str(Path(cfg.client_key).expanduser()) if cfg.client_key else None,
        )
    return ctx


def build_client(cfg: HttpBackendConfig) -> httpx.AsyncClient:
    """An AsyncClient carrying the backend's auth, TLS, proxy, headers and timeout."""
    headers = {"User-Agent": "zeta-tui", **cfg.headers}
    auth: httpx.Auth | None = None
    if cfg.bearer_token is not None:
        headers["Authorization"] = f"Bearer {cfg.bearer_token.get_secret_value()}"
    elif cfg.bearer_token_file:
        headers["Authorization"] = f"Bearer {_read_secret_file(cfg.bearer_token_file, 'bearer_token_file', cfg.url)}"
    if cfg.username:
        password = cfg.password.get_secret_value() if cfg.password is not None else ""
        if cfg.password_file:
            password = _read_secret_file(cfg.password_file, "password_file", cfg.url)
        auth = httpx.BasicAuth(cfg.username, password)
    try:
        verify = _ssl_context(cfg)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load TLS files: {exc}", where=redact_url(cfg.url), hint="check ca_file, client_cert and client_key"
        ) from None
    return httpx.AsyncClient(
        base_url=cfg.url,
        headers=headers,
        auth=auth,
        verify=verify,
        proxy=cfg.proxy,
        trust_env=cfg.proxy is None,
        timeout=httpx.Timeout(cfg.timeout_seconds),
        follow_redirects=True,
    )


class HttpBackend:
    """Shared plumbing for JSON-over-HTTP backends: send, map failures, decode."""

    kind = "http"

    def __init__(self, cfg: HttpBackendConfig) -> None:
        self.config = cfg
        self.url = redact_url(cfg.url)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = build_client(self.config)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def where(self) -> str:
        """Names this backend in errors: kind and URL, without credentials."""
        return f"{self.kind} at {self.url}"

    @contextlib.asynccontextmanager
    async def action(self) -> AsyncIterator[None]:
        """One user action against this backend (a screen's question, a command): every request
        made inside it shares one deadline of timeout_seconds, so two requests in a row against a
        hung server cannot take twice as long. Nested actions keep the outer deadline."""
        current = _DEADLINES.get() or {}
        if id(self) in current:
            yield
            return
        token = _DEADLINES.set({**current, id(self): time.monotonic() + self.config.timeout_seconds})
        try:
            yield
        finally:
            _DEADLINES.reset(token)

    def _budget(self) -> float:
        """Seconds this request may take: timeout_seconds, or what is left of the action's."""
        deadline = (_DEADLINES.get() or {}).get(id(self))
        timeout = self.config.timeout_seconds
        return timeout if deadline is None else min(timeout, deadline - time.monotonic())

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request and read its answer; every failure becomes a ZetaError.

        The whole exchange, body included, is bounded by timeout_seconds (httpx's own timeouts are
        per phase, so a server dripping a byte a second would never time out), or by what is left
        of the action's deadline. The body is read as a stream and the read stops past
        max_response_bytes: an answer of hundreds of MB never reaches memory.
        """
        budget = self._budget()
        try:
            if budget <= 0:
                raise TimeoutError
            async with asyncio.timeout(budget):
                async with self.client.stream(method, path, **kwargs) as resp:
                    body = await self._read_capped(resp, method, path)
        except (httpx.TimeoutException, TimeoutError):
            raise BackendTimeout(
                f"no answer within {self.config.timeout_seconds:g}s ({method} {path})",
                where=self.where,
                hint="the server may be overloaded; raise timeout_seconds or narrow the time range",
            ) from None
        except httpx.TooManyRedirects as exc:
            raise BackendUnavailable(
                f"redirect loop: {redact_url(str(exc.request.url))} keeps redirecting ({method} {path})",
                where=self.where,
                hint="the URL points at a login page or a proxy that redirects forever; use the API's own URL",
            ) from None
        except (httpx.HTTPError, ssl.SSLError) as exc:
            # ssl.SSLError: a TLS alert after the handshake (a refused client certificate
            # under TLS 1.3) can reach us unwrapped by httpx.
            raise self._transport_error(exc) from None
        answer = httpx.Response(
            resp.status_code,
            headers=[(k, v) for k, v in resp.headers.multi_items() if k.lower() not in _WIRE_HEADERS],
            content=body,
            request=resp.request,
        )
        if answer.status_code == 429:
            raise self._too_many_requests(answer)
        return answer

    async def _read_capped(self, resp: httpx.Response, method: str, path: str) -> bytes:
        cap = self.config.max_response_bytes
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and not resp.headers.get("content-encoding"):
            raise self._too_large(method, path, int(declared), declared=True)
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise self._too_large(method, path, size)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, method: str, path: str, size: int, *, declared: bool = False) -> AnswerTooLarge:
        cap = self.config.max_response_bytes
        seen = f"it declared {_mib(size)}" if declared else f"more than {_mib(cap)} had come"
        return AnswerTooLarge(
            f"the answer to {method} {path} is over the {_mib(cap)} cap ({seen}); the read stopped there",
            where=self.where,
            hint=(
                "ask for less: a narrower time range, a lower limit, a more selective query; "
                "or raise max_response_bytes for this backend"
            ),
        )

    def _too_many_requests(self, resp: httpx.Response) -> BackendUnavailable:
        wait = _retry_after(resp.headers.get("retry-after", ""))
        error = BackendUnavailable(
            f"HTTP 429: {error_text(resp, 160)} (the server asks zeta to slow down{f' for {wait:g}s' if wait else ''})",
            where=self.where,
            hint=(
                "too many requests; zeta waits as the server asks before asking again "
                "(raise refresh_seconds if it keeps happening)"
            ),
        )
        error.retry_after = wait
        return error

    async def read(self, resp: httpx.Response, build: Callable[[Any], T]) -> T:
        """``build(json)`` of the answer's JSON; a large answer is decoded and built in a thread
        of its own (off_loop), in pieces (json_pieces), so the console keeps answering keys
        meanwhile and ``q`` need not wait for it. ``build`` must not touch the UI; what it
        raises comes back here."""
        body = resp.content
        if len(body) < THREAD_BYTES:
            return build(self.decode_json(resp))
        from zeta_tui.backends.json_pieces import decode_and_build
        from zeta_tui.backends.off_loop import run_off_loop

        def work() -> T:
            try:
                return decode_and_build(body, build)
            except orjson.JSONDecodeError:
                self.decode_json(resp)  # raises the error that says what came instead
                raise

        return await run_off_loop(work)

    async def read_json(self, resp: httpx.Response) -> Any:
        """The answer's JSON, decoded as :meth:`read` decodes it (for the small answers of
        discovery and health probes; an answer worth building models from uses ``read``)."""
        return await self.read(resp, _same)

    def _transport_error(self, exc: Exception) -> BackendUnavailable:
        """Say which of TLS, proxy, or the server itself failed, and what to change."""
        where = self.where
        text = _root_cause(exc) if not isinstance(exc, ssl.SSLError) else str(exc)
        if isinstance(exc, httpx.ProxyError):
            return BackendUnavailable(
                f"proxy error: {exc}", where=where, hint="check the proxy setting of this backend, or HTTPS_PROXY"
            )
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return BackendUnavailable(
                f"TLS verification failed: {text}",
                where=where,
                hint=(
                    "set ca_file to the CA that signed the server certificate "
                    "(insecure_skip_verify only for a throwaway test)"
                ),
            )
        if "BAD_CERTIFICATE" in text or "CERTIFICATE_REQUIRED" in text or "UNKNOWN_CA" in text:
            return BackendUnavailable(
                f"the server refused our TLS client certificate: {text}",
                where=where,
                hint=(
                    "the server wants a client certificate it trusts: set client_cert (and client_key) for this backend"
                ),
            )
        if "SSL" in text or "TLS" in text:
            return BackendUnavailable(
                f"TLS handshake failed: {text}",
                where=where,
                hint="does the server speak HTTPS? If it serves plain HTTP, use an http:// URL",
            )
        if isinstance(exc, httpx.ConnectError):
            proxy = self._proxy_in_use()
            if proxy:
                return BackendUnavailable(
                    f"cannot connect through the proxy {redact_url(proxy)}: {text}",
                    where=where,
                    hint="is the proxy running? Check the proxy setting of this backend, or HTTP(S)_PROXY / NO_PROXY",
                )
            return BackendUnavailable(
                f"cannot connect: {text or 'connection refused'}",
                where=where,
                hint="is the server running and the URL (host, port) right?",
            )
        detail = text or "the connection failed"
        hint = "the server closed the connection or sent something that is not HTTP; check the URL and the network"
        if self.config.url.startswith("http://"):
            # A TLS server sent plain HTTP may answer 400 or just reset the connection.
            hint = (
                "the server closed the connection; if it serves HTTPS, use an https:// URL; "
                "otherwise check the URL and the network"
            )
        elif self.config.url.startswith("https://") and not self.config.client_cert:
            # A server that refuses a missing client certificate often just hangs up (TLS 1.3).
            hint = (
                "the server closed the TLS connection; if it requires a client certificate, "
                "set client_cert and client_key"
            )
        return BackendUnavailable(f"{type(exc).__name__}: {detail}", where=where, hint=hint)

    def _proxy_in_use(self) -> str | None:
        """The proxy this backend's requests go through, if any (config first, then environment)."""
        if self.config.proxy:
            return self.config.proxy
        import urllib.request  # only on this error path; it is slow to import

        scheme = urllib.parse.urlsplit(self.config.url).scheme
        proxies = urllib.request.getproxies()
        proxy = proxies.get(scheme) or proxies.get("all")
        host = urllib.parse.urlsplit(self.config.url).hostname or ""
        if proxy and not urllib.request.proxy_bypass(host):
            return proxy
        return None

    def raise_for_auth(self, resp: httpx.Response) -> None:
        """401/403 -> BackendAuthError, saying whether credentials were sent at all."""
        if resp.status_code not in (401, 403):
            return
        cfg = self.config
        has_creds = cfg.bearer_token is not None or bool(cfg.bearer_token_file) or bool(cfg.username)
        if resp.status_code == 403:
            hint = "the credentials were accepted but lack permission; ask for read access to this API"
        elif has_creds:
            hint = "the credentials were rejected; check bearer_token / username / password for this context"
        else:
            hint = (
                "the server wants credentials: set bearer_token (or bearer_token_file) "
                "or username/password for this backend"
            )
        raise BackendAuthError(f"HTTP {resp.status_code}: {_short_body(resp)}", where=self.where, hint=hint)

    def decode_json(self, resp: httpx.Response) -> Any:
        """The JSON body, or BackendUnavailable quoting the start of whatever came instead."""
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            body = _short_body(resp)
            if resp.status_code == 404:
                hint = "the API is not at this URL; check the path prefix in url"
            elif "HTTPS" in body:
                hint = "the server speaks HTTPS; use an https:// URL"
            elif resp.status_code >= 500:
                hint = "the server or a proxy in front of it failed; retry later or check its logs"
            else:
                hint = "the URL may point at a proxy or a login page rather than the API"
            raise BackendUnavailable(
                f"HTTP {resp.status_code} with a body that is not JSON: {body}", where=self.where, hint=hint
            ) from None


def _same(value: T) -> T:
    return value


def _root_cause(exc: BaseException) -> str:
    """The most specific text in the exception chain: httpx says "All connection attempts
    failed" where the OSError underneath says "Connection refused"."""
    text = str(exc)
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return str(seen)
        if isinstance(seen, OSError) and seen.strerror:
            # asyncio words a refusal "Connect call failed"; the errno says what happened.
            return os.strerror(seen.errno) if isinstance(seen.errno, int) and seen.errno > 0 else seen.strerror
        seen = seen.__cause__ or seen.__context__
    return text


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"


def _retry_after(value: str) -> float | None:
    """Retry-After as seconds (a number, or an HTTP date), at most MAX_RETRY_AFTER; None when absent."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, min(parsedate_to_datetime(value).timestamp() - time.time(), MAX_RETRY_AFTER))
    except (TypeError, ValueError):
        return None


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _short_body(resp: httpx.Response, limit: int = 200) -> str:
    """The body in one short line; an HTML page (a proxy's or a server's error page) by its title."""
    text = resp.text.strip()
    if text[:200].lstrip().lower().startswith(
        ("<!doctype html", "<html", "<head", "<body")
    ) or "text/html" in resp.headers.get("content-type", ""):
        title = _TITLE.search(text[:20_000])
        words = " ".join(_TAGS.sub(" ", title.group(1) if title else text[:2000]).split())
        return f"an HTML page: {words[:120]}" if words else "an HTML page"
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"


def error_text(resp: httpx.Response, limit: int = 1000) -> str:
    """A server's error in its own words: the body's text, or a JSON body's ``message``/``error``
    (Loki, Tempo and Jaeger answer either), cut to ``limit`` characters; an HTML page by its
    title (a proxy's error page); else the status."""
    text = resp.text.strip()
    if text[:200].lstrip().lower().startswith(("<!doctype html", "<html")):
        return _short_body(resp, limit)
    if text.startswith("{"):
        try:
            import orjson

            data = orjson.loads(text)
            text = str(data.get("message") or data.get("error") or text)
        except (ValueError, AttributeError):
            pass
    return text[:limit] or f"HTTP {resp.status_code}"
