"""Build the console from a config and a context name, run it, clean up."""

from __future__ import annotations

import argparse

from zeta_tui.config.models import ZetaConfig
from zeta_tui.errors import ConfigError


def build_app(config: ZetaConfig, context_name: str, **app_kwargs):
    """A ready ZetaApp for ``context_name`` (ConfigError if the catalog or context is bad)."""
    from zeta_tui.app import ZetaApp
    from zeta_tui.backends.prometheus import PrometheusClient
    from zeta_tui.config.paths import user_queries_dir
    from zeta_tui.querying.promql_catalog import PromCatalog
    from zeta_tui.resources import shipped_dir

    name, context = config.context(context_name)
    catalog = PromCatalog.load(shipped_dir("queries") / "promql", user_queries_dir() / "promql")
    catalog.validate()
    prometheus = PrometheusClient(context.prometheus) if context.prometheus is not None else None
    return ZetaApp(
        context_name=name,
        context=context,
        prometheus=prometheus,
        catalog=catalog,
        theme=config.theme,
        keymap=dict(config.keymap),
        **app_kwargs,
    )


def run_tui(config: ZetaConfig, context_name: str | None) -> int:
    """Run the console until the user quits; returns the exit status."""
    app = build_app(config, context_name)
    result = app.run()
    if app.return_code not in (None, 0):
        return app.return_code
    return int(result or 0)


def run_console(args: argparse.Namespace) -> int:
    """`zeta` with no subcommand."""
    from zeta_tui.config.loader import load_context

    try:
        loaded = load_context(args.config, args.context)
    except ConfigError as exc:
        if "does not exist" in exc.message and not args.config:
            exc.hint = "run `zeta demo` to try zeta on a built-in world, or `zeta config init` to write a starter config"
        raise
    return run_tui(loaded.config, loaded.name)
