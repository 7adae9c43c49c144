"""argv -> config -> backends -> ZetaApp, or a headless subcommand.

Heavy modules (Textual, the demo world) are imported only by the subcommand that needs them,
so `zeta check` and `zeta promql` start fast on a bastion host.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from zeta_tui import __version__
from zeta_tui.errors import ZetaError


def build_parser() -> argparse.ArgumentParser:
    # The same options before and after the subcommand. The subcommands' copies default to
    # SUPPRESS so that `zeta --config X check` keeps X (argparse would reset it to None);
    # two parent parsers, because parents share their action objects and so their defaults.
    def common_options(default: object) -> argparse.ArgumentParser:
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument("--config", metavar="PATH", default=default, help="config file (default: $ZETA_CONFIG, then ~/.config/zeta/config.toml)")
        options.add_argument("--context", metavar="NAME", default=default, help="context to use (default: default_context)")
        return options

    common = common_options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="zeta", description="Terminal ops console for observability.", parents=[common_options(None)])
    parser.add_argument("--version", action="version", version=f"zeta {__version__}")
    parser.add_argument("--screen", choices=["health", "api", "logs", "traces"], default="health", help="screen to open first (default: health)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", parents=[common], help="run the console on the embedded Team Zeta world")
    demo.add_argument("--fresh", action="store_true", help="discard the kept demo history and backfill anew")
    demo.add_argument("--no-tui", action="store_true", help="start the demo stack and print its URLs; Ctrl+C stops it")

    check = sub.add_parser("check", parents=[common], help="probe every backend of the context")
    check.add_argument("--json", action="store_true", help="print JSON")

    promql = sub.add_parser("promql", parents=[common], help="run a PromQL expression")
    promql.add_argument("expr", help="the PromQL expression")
    promql.add_argument("--range", dest="range_", metavar="DURATION", help="range query over the last DURATION (e.g. 1h)")
    promql.add_argument("--step", metavar="DURATION", help="range step (default: about 60 points)")
    promql.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="evaluation time (default: now)")
    promql.add_argument("--samples", action="store_true", help="with --range: print every sample as time/value rows instead of a summary")
    promql.add_argument("--json", action="store_true", help="print JSON")

    logs = sub.add_parser("logs", parents=[common], help="print matching log records, oldest first")
    logs.add_argument("query", nargs="?", default="", help='Kibana-style query, e.g. \'level:ERROR AND tenant_id:"tenant_001"\' (default: everything)')
    logs.add_argument("--since", metavar="DURATION", help="records of the last DURATION (default 1h)")
    logs.add_argument("--from", dest="from_", metavar="TIME", help="start (ISO 8601, UTC unless an offset is given, or unix seconds)")
    logs.add_argument("--to", metavar="TIME", help="end (default: now)")
    logs.add_argument("--limit", type=int, default=500, help="at most N records (the newest N), default 500")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new records until Ctrl+C")
    logs.add_argument("--json", action="store_true", help="JSON lines (for jq)")
    logs.add_argument("--reveal-pii", action="store_true", help="do not mask user ids and IP addresses")

    trace = sub.add_parser("trace", parents=[common], help="print one trace as a text waterfall")
    trace.add_argument("trace_id", help="the trace id (hex, any case, or base64)")
    trace.add_argument("--json", action="store_true", help="the trace as JSON: spans in tree order, critical path")

    traces = sub.add_parser("traces", parents=[common], help="search traces, newest first")
    traces.add_argument("--service", help="service name (Jaeger needs one)")
    traces.add_argument("--operation", help="operation (span) name")
    traces.add_argument("--tag", action="append", metavar="KEY=VALUE", help="attribute that must match; repeat for more")
    traces.add_argument("--min-duration", metavar="DURATION", help="e.g. 500ms")
    traces.add_argument("--max-duration", metavar="DURATION", help="e.g. 2s")
    traces.add_argument("--errors", action="store_true", help="only traces with an error span")
    traces.add_argument("--since", metavar="DURATION", help="traces of the last DURATION (default 1h)")
    traces.add_argument("--from", dest="from_", metavar="TIME", help="start (ISO 8601, UTC unless an offset is given, or unix seconds)")
    traces.add_argument("--to", metavar="TIME", help="end (default: now)")
    traces.add_argument("--limit", type=int, default=20, help="at most N traces, default 20")
    traces.add_argument("--json", action="store_true", help="JSON lines (for jq)")

    config = sub.add_parser("config", parents=[common], help="show, check or create the config file")
    config.add_argument("action", choices=["path", "validate", "show", "init"])
    config.add_argument("--force", action="store_true", help="with init: overwrite an existing file")

    sub.add_parser("contexts", parents=[common], help="list the contexts")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ZetaError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "demo":
        from zeta_tui.demo.stack import run_demo

        return run_demo(args)
    if command == "check":
        from zeta_tui.headless.check import run_check

        return run_check(args)
    if command == "promql":
        from zeta_tui.headless.promql import run_promql

        return run_promql(args)
    if command == "logs":
        from zeta_tui.headless.logs import run_logs

        return run_logs(args)
    if command == "trace":
        from zeta_tui.headless.traces import run_trace

        return run_trace(args)
    if command == "traces":
        from zeta_tui.headless.traces import run_traces

        return run_traces(args)
    if command == "config":
        from zeta_tui.headless.config_cmd import run_config

        return run_config(args)
    if command == "contexts":
        from zeta_tui.headless.config_cmd import run_contexts

        return run_contexts(args)
    from zeta_tui.launch import run_console

    code = run_console(args)
    if sys.stdout.isatty():
        # The console has restored the terminal and closed its clients; what is left is the
        # interpreter tearing down Textual's module graph (~0.2 s an engineer waits through).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
