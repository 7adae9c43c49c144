"""One place that turns an HttpBackendConfig into an httpx client and httpx failures into ZetaErrors."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
import orjson

from zeta_tui.config.models import HttpBackendConfig
from zeta_tui.errors import BackendAuthError, BackendTimeout, BackendUnavailable, ConfigError


def redact_url(url: str) -> str:
    """The URL without user:password@ (safe for screens, logs and errors)."""
    u = httpx.URL(url)
    if u.userinfo:
        u = u.copy_with(username=None, password=None)
    return str(u)


def _read_secret_file(path: str, field: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {field} {path!r}: {exc.strerror}", hint="fix the path or its permissions") from None


def _ssl_context(cfg: HttpBackendConfig) -> ssl.SSLContext | bool:
    if cfg.insecure_skip_verify:
        return False
    ctx = ssl.create_default_context(cafile=str(Path(cfg.ca_file).expanduser()) if cfg.ca_file else None)
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
        headers["Authorization"] = f"Bearer {_read_secret_file(cfg.bearer_token_file, 'bearer_token_file')}"
    if cfg.username:
        password = cfg.password.get_secret_value() if cfg.password is not None else ""
        if cfg.password_file:
            password = _read_secret_file(cfg.password_file, "password_file")
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

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        where = f"{self.kind} at {self.url}"
        try:
            return await self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise BackendTimeout(
                f"no answer within {self.config.timeout_seconds:g}s ({method} {path})",
                where=where,
                hint="the server may be overloaded; raise timeout_seconds or narrow the time range",
            ) from None
        except httpx.ProxyError as exc:
            raise BackendUnavailable(f"proxy error: {exc}", where=where, hint="check the proxy setting or HTTPS_PROXY") from None
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
                raise BackendUnavailable(
                    f"TLS verification failed: {text}",
                    where=where,
                    hint="set ca_file to the CA that signed the server certificate",
                ) from None
            raise BackendUnavailable(f"cannot connect: {text or 'connection refused'}", where=where, hint="is the server running and the URL right?") from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{type(exc).__name__}: {exc}", where=where, hint="check the URL and the network") from None

    def raise_for_auth(self, resp: httpx.Response) -> None:
        if resp.status_code in (401, 403):
            raise BackendAuthError(
                f"HTTP {resp.status_code}: {_short_body(resp)}",
                where=f"{self.kind} at {self.url}",
                hint="check bearer_token / username / password for this context",
            )

    def decode_json(self, resp: httpx.Response) -> Any:
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise BackendUnavailable(
                f"HTTP {resp.status_code} with a body that is not JSON: {_short_body(resp)}",
                where=f"{self.kind} at {self.url}",
                hint="the URL may point at a proxy or a login page rather than the API",
            ) from None


def _short_body(resp: httpx.Response, limit: int = 200) -> str:
    text = resp.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"
