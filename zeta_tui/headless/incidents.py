"""`zeta incidents [--since 7d] [--json] [--at T] [--pager REGEX]`: every incident of the window and
the platform's MTTD, MTTR and missed criticals against the seed's success criteria.

An incident is a critical alert that fired, with the other criticals of its service that fired
with it and the alerts of that service around it (models/incidents.py has the definitions;
docs/incidents.md says them for users). The history is Prometheus's ALERTS and
ALERTS_FOR_STATE; the receivers and the silences are Alertmanager's (backends/incident_history.py).

Output: the summary (one line per criterion), then a table of the incidents, the latest to begin first, times
in UTC. With ``--json``, one JSON object per line: the summary first (``"kind": "summary"``), then
one per incident (``"kind": "incident"``).

Exit status, for scripts, as `zeta alerts` has it:

- 0: every criterion is met (MTTD < 5 min, MTTR < 1 h, no missed critical); a window without
  incidents meets them;
- 1: a criterion is broken;
- 2: configuration error (no [prometheus] section, a bad --since, --at or --pager);
- 3: a backend could not be read, or a criterion could not be judged (no [alertmanager] section:
  receivers and silences unknown), and nothing seen breaks a criterion: unknown is never 0.

The seed's fourth criterion, log search under 5 s, is the log backend's speed: `zeta incidents`
does not measure it and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from zeta_tui.errors import ConfigError, ZetaError
from zeta_tui.models.incidents import AlertEpisode, CriticalAlert, Incident, IncidentSummary
from zeta_tui.models.timerange import format_age, format_duration, parse_duration

#: a broken criterion
EXIT_BROKEN = 1
#: a backend could not be read, or a criterion could not be judged
EXIT_UNKNOWN = 3
DEFAULT_SINCE = "7d"
LOG_SEARCH_NOTE = (
    "log search < 5s: not measured here (it is the log backend's speed; `zeta logs` shows how long a search takes)"
)


def stamp(seconds: float | None) -> str | None:
    """Unix seconds as RFC 3339 UTC with milliseconds (None stays None)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clock(seconds: float) -> str:
    """A table's time: month, day and time of day, UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%m-%d %H:%M:%S")


def later(seconds: float, began: float) -> str:
    """A time after ``began``: its time of day, with its date when that is another day."""
    day, then = (datetime.fromtimestamp(t, UTC) for t in (began, seconds))
    return then.strftime("%H:%M:%S" if then.date() == day.date() else "%m-%d %H:%M:%S")


def parse_since(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}", hint="e.g. --since 7d, --since 24h") from None
    if seconds <= 0:
        raise ConfigError(f"--since {text!r} is not a positive duration", hint="e.g. --since 7d")
    return seconds


def check_pager(pattern: str | None) -> str | None:
    if pattern is None:
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"--pager {pattern!r} is not a regular expression: {exc}", hint="e.g. --pager 'pagerduty-.*|sre-phone'"
        ) from None
    return pattern


# --- documents --------------------------------------------------------------------------------


def summary_document(summary: IncidentSummary, unknown: Sequence[str], pagers: Sequence[str]) -> dict[str, Any]:
    return {
        "kind": "summary",
        "since": stamp(summary.since),
        "until": stamp(summary.until),
        "window_seconds": round(summary.until - summary.since, 3),
        "incidents": summary.incidents,
        "open": summary.open,
        "mttd_seconds": _round(summary.mttd),
        "mttr_seconds": _round(summary.mttr),
        "missed": summary.missed,
        "criteria": [
            {"name": c.name, "target": c.target, "measured": c.measured, "met": c.met, "note": c.note}
            for c in summary.criteria
        ],
        "log_search": LOG_SEARCH_NOTE,
        "pager_receivers": list(pagers),
        "unknown": list(unknown),
    }


def incident_document(incident: Incident) -> dict[str, Any]:
    return {
        "kind": "incident",
        "service": incident.service,
        "began": stamp(incident.began),
        "detected": stamp(incident.detected),
        "resolved": stamp(incident.resolved),
        "open": incident.is_open,
        "mttd_seconds": _round(incident.mttd),
        "mttr_seconds": _round(incident.mttr),
        "missed": [c.episode.name for c in incident.missed],
        "criticals": [_critical_document(c) for c in incident.criticals],
        "related": [_episode_document(e) for e in incident.related],
    }


def _critical_document(c: CriticalAlert) -> dict[str, Any]:
    return {
        **_episode_document(c.episode),
        "receivers": None if c.receivers is None else list(c.receivers),
        "pager_receivers": None if c.pager_receivers is None else list(c.pager_receivers),
        "silenced_by": None if c.silenced_by is None else list(c.silenced_by),
        "missed": c.missed,
        "missed_because": c.missed_because,
    }


def _episode_document(e: AlertEpisode) -> dict[str, Any]:
    return {
        "alertname": e.name,
        "severity": e.severity,
        "labels": dict(e.labels),
        "condition_began": stamp(e.began),
        "fired": stamp(e.fired),
        "resolved": stamp(e.resolved),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --- text -------------------------------------------------------------------------------------


def summary_text(summary: IncidentSummary, now: float, pagers: Sequence[str], unknown: Sequence[str]) -> str:
    from zeta_tui.headless.table import format_table

    window = format_duration(summary.until - summary.since)
    opened = f", {summary.open} still open" if summary.open else ""
    head = (
        f"Incidents in the last {window} ({clock(summary.since)} .. {clock(summary.until)} UTC): "
        f"{summary.incidents}{opened}"
    )
    rows = [(c.name, c.measured, c.target, c.verdict, c.note) for c in summary.criteria]
    lines = [head, format_table(("CRITERION", "MEASURED", "TARGET", "VERDICT", "NOTE"), rows), LOG_SEARCH_NOTE]
    if pagers:
        lines.append(f"pager receivers: {', '.join(pagers)}")
    elif not unknown:
        lines.append("pager receivers: none in Alertmanager's configuration (every critical is missed)")
    return "\n".join(lines)


def incidents_table(incidents: Sequence[Incident], now: float) -> str:
    from zeta_tui.headless.table import format_table

    rows = []
    for i in incidents:
        receivers = [r for c in i.criticals for r in (c.receivers or ())]
        missed = [f"{c.episode.name}: {c.missed_because}" for c in i.criticals if c.missed_because]
        rows.append(
            (
                clock(i.began),
                i.service or "-",
                "+".join(dict.fromkeys(c.episode.name for c in i.criticals)),
                later(i.detected, i.began),
                format_age(i.mttd),
                "open" if i.resolved is None else later(i.resolved, i.began),
                f"open {format_age(now - i.detected)}" if i.mttr is None else format_age(i.mttr),
                ",".join(dict.fromkeys(receivers)) or ("?" if any(c.receivers is None for c in i.criticals) else "-"),
                "; ".join(missed) or "-",
                ",".join(dict.fromkeys(f"{e.name}({e.severity or '-'})" for e in i.related)) or "-",
            )
        )
    headers = (
        "BEGAN (UTC)",
        "SERVICE",
        "CRITICAL",
        "FIRED",
        "MTTD",
        "RESOLVED",
        "MTTR",
        "RECEIVERS",
        "MISSED",
        "RELATED",
    )
    return format_table(headers, rows, right=(4, 6))


def exit_status(summary: IncidentSummary, errors: Sequence[ZetaError]) -> int:
    if summary.broken:
        return EXIT_BROKEN
    if errors or summary.unknown:
        return EXIT_UNKNOWN
    return 0


# --- the command ------------------------------------------------------------------------------


def run_incidents(args: argparse.Namespace) -> int:
    from zeta_tui.backends.incident_history import incident_report, read_history
    from zeta_tui.config.loader import load_context
    from zeta_tui.models.incidents import alert_service

    since_seconds = parse_since(getattr(args, "since", None) or DEFAULT_SINCE)
    pager = check_pager(getattr(args, "pager", None))
    loaded = load_context(args.config, args.context)
    ctx = loaded.context
    prom_cfg = loaded.prometheus()  # ConfigError (exit 2) naming the section to add
    now = args.at if getattr(args, "at", None) is not None else time.time()
    service_label = ctx.labels.service
    from zeta_tui.backends.prometheus import PrometheusClient

    prom = PrometheusClient(prom_cfg)
    am = None
    if ctx.alertmanager is not None:
        from zeta_tui.backends.alertmanager import AlertmanagerClient

        am = AlertmanagerClient(ctx.alertmanager)

    async def main() -> Any:
        try:
            return await read_history(
                prom,
                am,
                now - since_seconds,
                now,
                service_of=lambda labels: alert_service(labels, service_label),
                pager=pager,
            )
        finally:
            for client in (prom, am):
                if client is not None:
                    await client.aclose()

    try:
        history = asyncio.run(main())
    except ZetaError as exc:
        print(exc.render(), file=sys.stderr)
        print("no incident can be listed: the alert history (Prometheus's ALERTS) could not be read", file=sys.stderr)
        return EXIT_UNKNOWN
    report = incident_report(history, service_label)
    for warning in history.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if am is None:
        print(
            f"note: context {loaded.name!r} has no [alertmanager] section: receivers and silences are unknown, so "
            f"missed criticals cannot be told; add [contexts.{loaded.name}.alertmanager] with url = "
            '"http://host:9093"',
            file=sys.stderr,
        )
    for error in history.errors:
        print(error.render(), file=sys.stderr)
    if history.errors:
        print("receivers and silences are unknown: Alertmanager could not be read", file=sys.stderr)
    try:
        if args.json:
            lines = [summary_document(report.summary, report.unknown, report.pager_receivers)]
            lines += [incident_document(i) for i in report.incidents]
            sys.stdout.write("".join(orjson.dumps(line).decode() + "\n" for line in lines))
        else:
            sys.stdout.write(summary_text(report.summary, now, report.pager_receivers, report.unknown) + "\n")
            if report.incidents:
                sys.stdout.write("\n" + incidents_table(report.incidents, now) + "\n")
            else:
                print(f"no critical alert fired in the last {format_duration(since_seconds)}", file=sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # `zeta incidents | head`: the exit status still tells
    return exit_status(report.summary, history.errors)
