"""`zeta services [--json] [--at T]`: every service the context's Prometheus has, and its signals.

One line per service: which of up, HTTP requests, the latency histogram, container CPU and
memory and restarts it has, and how many pods and containers belong to it. Above the table the
label conventions in use (configured or detected) and the notes of discovery, on stderr, so the
table stays a table for scripts. Exit 0; 1 when no service is found or Prometheus cannot be
read; 2 on a config error (a label that the metrics do not carry, say).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson

from zeta_tui.headless.table import format_table
from zeta_tui.models.discovery import ServiceInventory, Signal


def run_services(args: argparse.Namespace) -> int:
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.loader import load_context

    loaded = load_context(args.config, args.context)
    cfg = loaded.prometheus()
    inventory = asyncio.run(_discover(PrometheusClient(cfg), loaded.context, loaded.name, args.at))
    if args.json:
        sys.stdout.write(orjson.dumps(to_json(inventory), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(f"conventions: {inventory.conventions.describe()}", file=sys.stderr)
        for note in inventory.notes:
            print(f"note: {note}", file=sys.stderr)
        if inventory.services:
            print(
                format_table(
                    ["SERVICE", *(s.short.upper() for s in Signal), "PODS", "CONTAINERS", "MISSING"],
                    _rows(inventory),
                    right=(7,),
                )
            )
    found = [s for s in inventory.services if s.found]
    if not found:
        print("no services found", file=sys.stderr)
        return 1
    return 0


async def _discover(client: Any, context: Any, name: str, at: float | None) -> ServiceInventory:
    from zeta_tui.backends.discovery import discover

    try:
        return await discover(client, context, name, at=at)
    finally:
        await client.aclose()


def _rows(inventory: ServiceInventory) -> list[list[str]]:
    return [
        [
            s.name,
            *("yes" if sig in s.signals else "-" for sig in Signal),
            str(len(s.pods)),
            ",".join(s.containers) or "-",
            s.missing_text() or "-",
        ]
        for s in inventory.services
    ]


def to_json(inventory: ServiceInventory) -> dict[str, Any]:
    conv = inventory.conventions
    return {
        "conventions": {
            "service": conv.service,
            "endpoint": conv.endpoint,
            "status": conv.status,
            "requests": conv.requests,
            "latency": conv.latency,
            "latency_unit": conv.latency_unit,
        },
        "namespace_pattern": inventory.namespace_pattern,
        "notes": list(inventory.notes),
        "services": [
            {
                "name": s.name,
                "found": s.found,
                "signals": {sig.value: sig in s.signals for sig in Signal},
                "pods": list(s.pods),
                "containers": list(s.containers),
                "missing": [sig.value for sig in s.missing()],
            }
            for s in inventory.services
        ],
    }
