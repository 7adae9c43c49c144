"""`zeta alerts [--severity S[,S…]] [--json]`: what is firing now, for people and for scripts.

Firing alerts come from Alertmanager (with the receivers they route to and whether a silence or
an inhibition mutes them); pending alerts (the condition holds, its ``for`` has not passed yet)
come from Prometheus's /api/v1/alerts when the context has a [prometheus] section. An alert
both know is shown once, Alertmanager's copy (Prometheus adds its external labels when it
sends, so a Prometheus alert is "known" when Alertmanager has one carrying all its labels). A
firing alert only Prometheus knows (not delivered, or no Alertmanager configured) is shown too.

Rows are sorted by severity (critical, error, warning, info, other), then by age, newest first.

Exit status, for on-call scripts:

- 0: no critical alert is firing unmuted among those shown, and every configured backend answered;
- 1: at least one critical alert is firing and is neither silenced nor inhibited (nor muted);
- 2: configuration error (no [alertmanager] and no [prometheus] section, a bad option);
- 3: a backend could not be read (its message on stderr) and no unmuted critical was seen in
  what could be read: the absence of criticals is then unknown, never reported as 0.

A context with only one of the two sections is a choice, not a failure, and keeps that contract:
without [prometheus] the firing alerts are all in Alertmanager (Prometheus sends them there), so
"no critical is firing" is still known and the status can be 0; without [alertmanager] a firing
critical counts as unmuted (what would silence it is not known), so the status errs towards 1.
What the list cannot show is said every time, on stderr (with the section to add) and in each
``--json`` line's ``unknown`` field: ``pending`` without Prometheus (or when it could not be
read), ``silences``, ``inhibitions`` and ``receivers`` without Alertmanager.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from zeta_tui.backends.alert_overview import AlertsFetched, fetch_alerts
from zeta_tui.errors import ConfigError, ZetaError
from zeta_tui.models.alert_overview import AlertRow
from zeta_tui.models.timerange import format_age

#: exit status when a backend could not be read and no unmuted critical was seen
EXIT_BACKEND_DOWN = 3
#: exit status when an unmuted critical alert is firing
EXIT_CRITICAL = 1


def _stamp(seconds: float) -> str:
    if not seconds:
        return ""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_document(row: AlertRow, now: float, unknown: Sequence[str] = ()) -> dict[str, Any]:
    """One alert as a JSON object (a JSON line of `zeta alerts --json`); ``unknown`` is what the
    list it belongs to cannot say (see the module docstring)."""
    return {
        "alertname": row.name,
        "severity": row.severity,
        "service": row.service,
        "endpoint": row.endpoint,
        "state": row.state,
        "source": row.source,
        "since": _stamp(row.since),
        "age_seconds": round(now - row.since, 3) if row.since else None,
        "detection_seconds": None if row.detection_seconds is None else round(row.detection_seconds, 3),
        "summary": row.summary,
        "receivers": list(row.receivers),
        "labels": dict(row.labels),
        "annotations": dict(row.annotations),
        "fingerprint": row.fingerprint,
        "silenced_by": list(row.silenced_by),
        "inhibited_by": list(row.inhibited_by),
        "muted_by": list(row.muted_by),
        "generator_url": row.generator_url,
        **dict(row.extra),
        "unknown": list(unknown),
    }


def unknown_notes(context: str, has_alertmanager: bool, has_prometheus: bool) -> list[str]:
    """What a context without one of the two sections cannot show, and what to add."""
    notes = []
    if not has_prometheus:
        notes.append(
            f"note: context {context!r} has no [prometheus] section: pending alerts (condition holding, `for` not yet "
            f'passed) are unknown; add [contexts.{context}.prometheus] with url = "http://host:9090" to list them'
        )
    if not has_alertmanager:
        notes.append(
            f"note: context {context!r} has no [alertmanager] section: silences, "
            "inhibitions and receivers are unknown, and a firing critical counts as unmuted; "
            f"add [contexts.{context}.alertmanager] with url = "
            '"http://host:9093"'
        )
    return notes


def alerts_table(rows: Sequence[AlertRow], now: float) -> str:
    from zeta_tui.headless.table import format_table

    body = [
        (
            row.severity or "-",
            row.name or "-",
            row.service or "-",
            format_age(now - row.since) if row.since else "?",
            row.summary or "-",
            ",".join(row.receivers) or "-",
            row.state,
        )
        for row in rows
    ]
    return format_table(("SEVERITY", "ALERT", "SERVICE", "SINCE", "SUMMARY", "RECEIVER", "STATE"), body, right=(3,))


def parse_severities(value: str | None) -> set[str]:
    """--severity critical or critical,warning: the severities to keep (lower-cased)."""
    if value is None:
        return set()
    wanted = {part.strip().lower() for part in value.split(",") if part.strip()}
    if not wanted:
        raise ConfigError(
            "--severity needs a value", hint="e.g. --severity critical, or several: --severity critical,warning"
        )
    return wanted


def exit_status(rows: Sequence[AlertRow], errors: Sequence[ZetaError]) -> int:
    if any(row.pages for row in rows):
        return EXIT_CRITICAL
    if errors:
        return EXIT_BACKEND_DOWN
    return 0


def run_alerts(args: argparse.Namespace) -> int:
    from zeta_tui.config.loader import load_context

    wanted = parse_severities(getattr(args, "severity", None))
    loaded = load_context(args.config, args.context)
    ctx = loaded.context
    if ctx.alertmanager is None and ctx.prometheus is None:
        raise ConfigError(
            f"context {loaded.name!r} has no [alertmanager] and no [prometheus] section",
            where=str(loaded.path),
            hint=f'add [contexts.{loaded.name}.alertmanager] with url = "http://host:9093" (and '
            f"[contexts.{loaded.name}.prometheus] "
            'with url = "http://host:9090" for pending alerts)',
        )
    am_client = prom_client = None
    if ctx.alertmanager is not None:
        from zeta_tui.backends.alertmanager import AlertmanagerClient

        am_client = AlertmanagerClient(ctx.alertmanager)
    if ctx.prometheus is not None:
        from zeta_tui.backends.prometheus import PrometheusClient

        prom_client = PrometheusClient(ctx.prometheus)

    async def main() -> AlertsFetched:
        try:
            return await fetch_alerts(am_client, prom_client)
        finally:
            for c in (am_client, prom_client):
                if c is not None:
                    await c.aclose()

    fetched = asyncio.run(main())
    errors = fetched.errors
    now = time.time()
    rows = [r for r in fetched.rows() if not wanted or r.severity in wanted]
    for w in fetched.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for note in unknown_notes(loaded.name, am_client is not None, prom_client is not None):
        print(note, file=sys.stderr)
    for error in errors:
        print(error.render(), file=sys.stderr)
    if errors:
        print(f"the list may be incomplete: {len(errors)} backend(s) could not be read", file=sys.stderr)
    try:
        if args.json:
            for row in rows:
                sys.stdout.write(orjson.dumps(alert_document(row, now, fetched.unknown)).decode() + "\n")
        elif rows:
            sys.stdout.write(alerts_table(rows, now) + "\n")
        elif not errors:
            which = f" of severity {','.join(sorted(wanted))}" if wanted else ""
            states = "firing (pending unknown)" if prom_client is None else "firing or pending"
            print(f"no alerts{which} {states} in context {loaded.name}", file=sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # `zeta alerts | head`: the exit status still tells
    return exit_status(rows, errors)
