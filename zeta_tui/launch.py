"""Build the console from a config and a context name, run it, clean up."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from zeta_tui.errors import ConfigError


def build_session(config: Any, context_name: str | None, unavailable: dict | None = None):
    """A ConsoleSession for ``context_name`` (ConfigError if the catalog or context is bad)."""
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir
    from zeta_tui.session import ConsoleSession

    name, context = config.context(context_name)
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    prometheus = PrometheusClient(context.prometheus) if context.prometheus is not None else None
    directory = None
    if prometheus is not None:
        from zeta_tui.backends.discovery import ServiceDirectory

        _ = prometheus.client  # build the HTTP client here (a thread at start-up), not on the first fetch
        directory = ServiceDirectory(prometheus, context, name)
    logs = None
    if context.logs is not None:
        from zeta_tui.backends.logs.factory import log_source_for

        logs = log_source_for(context.logs, namespace=context.namespace)
    traces = None
    if context.traces is not None:
        from zeta_tui.backends.traces.factory import trace_source_for

        traces = trace_source_for(context.traces)
    alertmanager = None
    if context.alertmanager is not None:
        from zeta_tui.backends.alertmanager import AlertmanagerClient

        alertmanager = AlertmanagerClient(context.alertmanager)
    clickhouse = None
    if context.clickhouse is not None:
        from zeta_tui.backends.analytics import AnalyticsSource

        clickhouse = AnalyticsSource(context.clickhouse)
    return ConsoleSession(
        name,
        context,
        prometheus,
        catalog,
        theme=config.theme,
        keymap=dict(config.keymap),
        unavailable=dict(unavailable or {}),
        logs=logs,
        traces=traces,
        alertmanager=alertmanager,
        clickhouse=clickhouse,
        directory=directory,
    )


def build_app(config: Any, context_name: str | None, *, unavailable: dict | None = None, **app_kwargs: Any):
    """A ZetaApp with its session built now (tests, the demo)."""
    from zeta_tui.app import ZetaApp

    return ZetaApp(build_session(config, context_name, unavailable), **app_kwargs)


def _run(app: Any) -> int:
    app.run()
    if app.startup_error is not None:
        print(app.startup_error.render(), file=sys.stderr)
        return app.startup_error.exit_code
    return int(app.return_code or 0)


def run_tui(config: Any, context_name: str | None, unavailable: dict | None = None) -> int:
    """Run the console on an already loaded config until the user quits."""
    return _run(build_app(config, context_name, unavailable=unavailable))


def run_console(args: argparse.Namespace) -> int:
    """`zeta` with no subcommand: the first frame first, the config read behind it."""
    from zeta_tui.app import ZetaApp

    def setup():
        from zeta_tui.config.loader import load_context

        try:
            loaded = load_context(args.config, args.context)
        except ConfigError as exc:
            if "does not exist" in exc.message and not args.config:
                exc.hint = (
                    "run `zeta demo` to try zeta on a built-in world, or `zeta config init` to write a starter config"
                )
            raise
        return build_session(loaded.config, loaded.name)

    return _run(ZetaApp(setup, starting="reading the config…", first_screen=getattr(args, "screen", "health")))
