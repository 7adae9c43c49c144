"""One place that turns an HttpBackendConfig into an httpx client and httpx failures into ZetaErrors."""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import orjson

from zeta_tui.config.models import HttpBackendConfig
from zeta_tui.config.redact import redact_url
from zeta_tui.errors import BackendAuthError, BackendTimeout, BackendUnavailable, ConfigError

__all__ = ["HttpBackend", "build_client", "redact_url"]


def _read_secret_file(path: str, field: str, url: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {field} {path!r}: {reason}", where=redact_url(url), hint="fix the path or its permissions") from None


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
        raise ConfigError(f"cannot load TLS files: {exc}", where=redact_url(cfg.url), hint="check ca_file, client_cert and client_key") from None
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

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; every failure becomes a ZetaError. The whole exchange, body
        included, is bounded by timeout_seconds (httpx's own timeouts are per phase)."""
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                return await self.client.request(method, path, **kwargs)
        except (httpx.TimeoutException, TimeoutError):
            raise BackendTimeout(
                f"no answer within {self.config.timeout_seconds:g}s ({method} {path})",
                where=self.where,
                hint="the server may be overloaded; raise timeout_seconds or narrow the time range",
            ) from None
        except (httpx.HTTPError, ssl.SSLError) as exc:
            # ssl.SSLError: a TLS alert after the handshake (a refused client certificate
            # under TLS 1.3) can reach us unwrapped by httpx.
            raise self._transport_error(exc) from None

    def _transport_error(self, exc: Exception) -> BackendUnavailable:
        """Say which of TLS, proxy, or the server itself failed, and what to change."""
        where = self.where
        text = _root_cause(exc) if not isinstance(exc, ssl.SSLError) else str(exc)
        if isinstance(exc, httpx.ProxyError):
            return BackendUnavailable(f"proxy error: {exc}", where=where, hint="check the proxy setting of this backend, or HTTPS_PROXY")
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return BackendUnavailable(
                f"TLS verification failed: {text}",
                where=where,
                hint="set ca_file to the CA that signed the server certificate (insecure_skip_verify only for a throwaway test)",
            )
        if "BAD_CERTIFICATE" in text or "CERTIFICATE_REQUIRED" in text or "UNKNOWN_CA" in text:
            return BackendUnavailable(
                f"the server refused our TLS client certificate: {text}",
                where=where,
                hint="the server wants a client certificate it trusts: set client_cert (and client_key) for this backend",
            )
        if "SSL" in text or "TLS" in text:
            return BackendUnavailable(
                f"TLS handshake failed: {text}", where=where, hint="does the server speak HTTPS? If it serves plain HTTP, use an http:// URL"
            )
        if isinstance(exc, httpx.ConnectError):
            proxy = self._proxy_in_use()
            if proxy:
                return BackendUnavailable(
                    f"cannot connect through the proxy {redact_url(proxy)}: {text}",
                    where=where,
                    hint="is the proxy running? Check the proxy setting of this backend, or HTTP(S)_PROXY / NO_PROXY",
                )
            return BackendUnavailable(f"cannot connect: {text or 'connection refused'}", where=where, hint="is the server running and the URL (host, port) right?")
        detail = text or "the connection failed"
        hint = "the server closed the connection or sent something that is not HTTP; check the URL and the network"
        if self.config.url.startswith("http://"):
            # A TLS server sent plain HTTP may answer 400 or just reset the connection.
            hint = "the server closed the connection; if it serves HTTPS, use an https:// URL; otherwise check the URL and the network"
        elif self.config.url.startswith("https://") and not self.config.client_cert:
            # A server that refuses a missing client certificate often just hangs up (TLS 1.3).
            hint = "the server closed the TLS connection; if it requires a client certificate, set client_cert and client_key"
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
            hint = "the server wants credentials: set bearer_token (or bearer_token_file) or username/password for this backend"
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
            raise BackendUnavailable(f"HTTP {resp.status_code} with a body that is not JSON: {body}", where=self.where, hint=hint) from None


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


def _short_body(resp: httpx.Response, limit: int = 200) -> str:
    text = resp.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"


def error_text(resp: httpx.Response, limit: int = 1000) -> str:
    """A server's error in its own words: the body's text, or a JSON body's ``message``/``error``
    (Loki, Tempo and Jaeger answer either), cut to ``limit`` characters; else the status."""
    text = resp.text.strip()
    if text.startswith("{"):
        try:
            import orjson

            data = orjson.loads(text)
            text = str(data.get("message") or data.get("error") or text)
        except (ValueError, AttributeError):
            pass
    return text[:limit] or f"HTTP {resp.status_code}"
