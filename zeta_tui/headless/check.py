"""`zeta check`: probe every backend of a context at once and say which answer.

Exit 0 when all are up, 1 when any is down, 2 when the config is wrong (the file, or a
backend's TLS/secret files that exist but cannot be used: the table still shows the rest).
Each probe is bounded by its backend's timeout_seconds, so a server that accepts connections
and never answers is reported DOWN within that time rather than hanging the command.

A backend is UP only when its answer is valid (each adapter's ``check`` reads the version from
the answer its API gives, and an answer that is malformed, another API's, or an error is DOWN,
even where a readiness endpoint says 200), came within timeout_seconds (an answer that arrives
later is DOWN too) and stayed under max_response_bytes (the read stops at the cap).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

import orjson

from zeta_tui.backends.clients import client_for
from zeta_tui.config.loader import load_context
from zeta_tui.config.models import HttpBackendConfig
from zeta_tui.config.redact import redact_url
from zeta_tui.errors import BackendTimeout, ConfigError, ZetaError
from zeta_tui.headless.table import format_table


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe found: up with a version and latency, or down with the error."""

    backend: str
    url: str
    up: bool
    latency_ms: float
    version: str = ""
    error: ZetaError | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "url": self.url,
            "status": "UP" if self.up else "DOWN",
            "latency_ms": round(self.latency_ms, 1),
            "version": self.version or None,
            "error": None
            if self.error is None
            else {
                "title": self.error.title,
                "message": self.error.message,
                "hint": self.error.hint,
                "where": self.error.where,
            },
        }


async def probe(section: str, cfg: HttpBackendConfig) -> ProbeResult:
    """Ask one backend for its version, within its timeout; never raises."""
    # An embedded store has a path instead of a URL.
    url = redact_url(cfg.url) if cfg.url else f"embedded:{getattr(cfg, 'path', '')}"
    t0 = time.perf_counter()
    client = None
    try:
        client = client_for(section, cfg)
        t0 = time.perf_counter()  # latency of the exchange, not of importing the adapter
        # The adapter bounds each request; this bounds the whole probe (which may take two).
        async with asyncio.timeout(cfg.timeout_seconds):
            info, seconds = await client.check()
        took = time.perf_counter() - t0
        if took > cfg.timeout_seconds:
            # The answer came, but late: work that held the event loop (decoding a huge answer
            # did, before the byte cap) keeps the timeout from firing. Late is not UP.
            raise BackendTimeout(
                f"answered after {took:.1f}s, past the {cfg.timeout_seconds:g}s timeout",
                where=f"{section} at {url}",
                hint="the server or the answer is too slow for timeout_seconds; raise it if the server is just slow",
            )
        return ProbeResult(section, url, True, seconds * 1000, info.version)
    except TimeoutError:
        error: ZetaError = BackendTimeout(
            f"no answer within {cfg.timeout_seconds:g}s",
            where=f"{section} at {url}",
            hint=(
                "the server may be overloaded or a firewall drops the traffic; raise timeout_seconds if it is just slow"
            ),
        )
    except ZetaError as exc:
        error = exc
    finally:
        if client is not None:
            await client.aclose()
    return ProbeResult(section, url, False, (time.perf_counter() - t0) * 1000, error=error)


async def probe_all(backends: dict[str, HttpBackendConfig]) -> list[ProbeResult]:
    """Probe every backend concurrently; results in the order given."""
    return list(await asyncio.gather(*(probe(section, cfg) for section, cfg in backends.items())))


def _error_text(error: ZetaError | None) -> str:
    if error is None:
        return "-"
    text = f"{error.title}: {' '.join(error.message.split())}"
    return f"{text} (hint: {error.hint})" if error.hint else text


def format_results(results: list[ProbeResult]) -> str:
    """The human table: backend, URL, status, latency, version, error."""
    rows = [
        [r.backend, r.url, "UP" if r.up else "DOWN", f"{r.latency_ms:.0f} ms", r.version or "-", _error_text(r.error)]
        for r in results
    ]
    return format_table(["BACKEND", "URL", "STATUS", "LATENCY", "VERSION", "ERROR"], rows, right=(3,))


def run_check(args: argparse.Namespace) -> int:
    """`zeta check [--json]`: 0 all up, 1 any down, 2 config error."""
    loaded = load_context(args.config, args.context)
    backends = loaded.context.backends()
    if not backends:
        raise ConfigError(
            f"context {loaded.name!r} configures no backends",
            where=str(loaded.path),
            hint=f'add a [contexts.{loaded.name}.prometheus] section with url = "http://host:9090"',
        )
    results = asyncio.run(probe_all(backends))
    if args.json:
        payload = [{"context": loaded.name, **r.as_json()} for r in results]
        print(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    else:
        production = " (production)" if loaded.context.production else ""
        print(f"context {loaded.name}{production} from {loaded.path}")
        print(format_results(results))
    if any(isinstance(r.error, ConfigError) for r in results):
        return ConfigError.exit_code  # e.g. a client certificate that is not PEM: fix the file
    return 0 if all(r.up for r in results) else 1
