"""argv -> config -> backends -> ZetaApp, or a headless subcommand.

Heavy modules (Textual, the demo world) are imported only by the subcommand that needs them,
so `zeta check` and `zeta promql` start fast on a bastion host.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from zeta_tui import __version__
from zeta_tui.errors import ZetaError
from zeta_tui.headless import commands
from zeta_tui.modes import MODES


def build_parser() -> argparse.ArgumentParser:
    # The same options before and after the subcommand. The subcommands' copies default to
    # SUPPRESS so that `zeta --config X check` keeps X (argparse would reset it to None);
    # two parent parsers, because parents share their action objects and so their defaults.
    def common_options(default: object) -> argparse.ArgumentParser:
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument(
            "--config",
            metavar="PATH",
            default=default,
            help="config file (default: $ZETA_CONFIG, then ~/.config/zeta/config.toml)",
        )
        options.add_argument(
            "--context", metavar="NAME", default=default, help="context to use (default: default_context)"
        )
        return options

    common = common_options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="zeta", description="Terminal ops console for observability.", parents=[common_options(None)]
    )
    parser.add_argument("--version", action="version", version=f"zeta {__version__}")
    parser.add_argument("--screen", choices=MODES, default="health", help="screen to open first (default: health)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", parents=[common], help="run the console on the embedded Team Zeta world")
    demo.add_argument("--fresh", action="store_true", help="discard the kept demo history and backfill anew")
    demo.add_argument("--no-tui", action="store_true", help="start the demo stack and print its URLs; Ctrl+C stops it")

    check = sub.add_parser("check", parents=[common], help="probe every backend of the context")
    check.add_argument("--json", action="store_true", help="print JSON")

    promql = sub.add_parser("promql", parents=[common], help="run a PromQL expression")
    promql.add_argument("expr", help="the PromQL expression")
    promql.add_argument(
        "--range", dest="range_", metavar="DURATION", help="range query over the last DURATION (e.g. 1h)"
    )
    promql.add_argument("--step", metavar="DURATION", help="range step (default: about 60 points)")
    promql.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="evaluation time (default: now)")
    promql.add_argument(
        "--samples",
        action="store_true",
        help="with --range: print every sample as time/value rows instead of a summary",
    )
    promql.add_argument("--json", action="store_true", help="print JSON")

    logs = sub.add_parser("logs", parents=[common], help="print matching log records, oldest first")
    logs.add_argument(
        "query",
        nargs="?",
        default="",
        help="Kibana-style query, e.g. 'level:ERROR AND tenant_id:\"tenant_001\"' (default: everything)",
    )
    logs.add_argument("--since", metavar="DURATION", help="records of the last DURATION (default 1h)")
    logs.add_argument(
        "--from", dest="from_", metavar="TIME", help="start (ISO 8601, UTC unless an offset is given, or unix seconds)"
    )
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
    traces.add_argument(
        "--tag", action="append", metavar="KEY=VALUE", help="attribute that must match; repeat for more"
    )
    traces.add_argument("--min-duration", metavar="DURATION", help="e.g. 500ms")
    traces.add_argument("--max-duration", metavar="DURATION", help="e.g. 2s")
    traces.add_argument("--errors", action="store_true", help="only traces with an error span")
    traces.add_argument("--since", metavar="DURATION", help="traces of the last DURATION (default 1h)")
    traces.add_argument(
        "--from", dest="from_", metavar="TIME", help="start (ISO 8601, UTC unless an offset is given, or unix seconds)"
    )
    traces.add_argument("--to", metavar="TIME", help="end (default: now)")
    traces.add_argument("--limit", type=int, default=20, help="at most N traces, default 20")
    traces.add_argument("--json", action="store_true", help="JSON lines (for jq)")

    alerts = sub.add_parser(
        "alerts",
        parents=[common],
        help="firing and pending alerts, most severe first; exit 1 if a critical is firing",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Firing alerts from Alertmanager and pending ones from Prometheus, sorted by severity, then newest first."
        ),
        epilog="exit status:\n  0  no unsilenced critical alert is firing (among those shown), every backend answered\n"
        "  1  a critical alert is firing that no silence or inhibition mutes\n"
        "  2  configuration error (no [alertmanager] or [prometheus] section, a bad option)\n"
        "  3  a backend could not be read (message on stderr) and no firing critical was seen: unknown, not "
        "'no criticals'",
    )
    alerts.add_argument(
        "--severity", metavar="S[,S...]", help="only these severities, e.g. critical or critical,warning"
    )
    alerts.add_argument("--json", action="store_true", help="JSON lines (for jq)")

    silence = sub.add_parser(
        "silence",
        parents=[common],
        help="add, list or expire Alertmanager silences",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="writes are refused in read-only contexts and confirmed first (y/N on a terminal; --yes skips the "
        "question;\n"
        "with no terminal and no --yes they are refused).\n"
        "exit status: 0 done, 1 declined or Alertmanager refused / unreachable, 2 config error, invalid silence,\n"
        "read-only context, or not confirmed",
    )
    silence_sub = silence.add_subparsers(dest="silence_action", metavar="ACTION", required=True)
    silence_add = silence_sub.add_parser("add", parents=[common], help="create a silence; prints its id")
    silence_add.add_argument(
        "matchers",
        nargs="+",
        metavar="MATCHER",
        help="label matchers, e.g. alertname=HighErrorRate 'service=\"ml-engine\"' 'instance=~\"db.*\"'",
    )
    silence_add.add_argument("--duration", required=True, metavar="DURATION", help="how long, e.g. 2h (at most 30d)")
    silence_add.add_argument("--comment", required=True, help="why (the incident or ticket)")
    silence_add.add_argument("--author", help="who (default: $USER, said before the question)")
    silence_add.add_argument("--yes", "-y", action="store_true", help="do not ask before creating")
    silence_list = silence_sub.add_parser(
        "list", parents=[common], help="active and pending silences, then those expired in the last day"
    )
    silence_list.add_argument("--json", action="store_true", help="JSON lines (for jq)")
    silence_expire = silence_sub.add_parser("expire", parents=[common], help="end a silence now")
    silence_expire.add_argument("silence_id", metavar="ID", help="the silence id (zeta silence list shows them)")
    silence_expire.add_argument("--yes", "-y", action="store_true", help="do not ask before expiring")

    config = sub.add_parser("config", parents=[common], help="show, check or create the config file")
    config.add_argument("action", choices=["path", "validate", "show", "init"])
    config.add_argument("--force", action="store_true", help="with init: overwrite an existing file")

    slo = sub.add_parser(
        "slo",
        parents=[common],
        help="error budgets and burn rates per service (exit 1 if any budget is spent)",
        description=(
            "Each service against the objectives: availability 99.9 % (non-5xx share), "
            "latency 99 % under 100 ms (p95 shown too) and error rate 0.1 %; "
            "error budget remaining over 30 days and burn rates over 5m, 30m, 1h and 6h. "
            "When Prometheus holds less than 30 days, the figures are over the data it has "
            "(the output says how much). Exit status: 0, 1 if any objective's budget is spent, "
            "2 on a configuration error."
        ),
    )
    slo.add_argument("--json", action="store_true", help="print JSON")
    slo.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="evaluation time (default: now)")
    slo.add_argument(
        "--services",
        metavar="A,B",
        help="comma-separated services (default: the context's services, else every one with HTTP metrics)",
    )

    commands.add_services(sub, common)
    commands.add_ml(sub, common)
    commands.add_business(sub, common)
    commands.add_tenant(sub, common)
    commands.add_product(sub, common)
    commands.add_sql(sub, common)
    commands.add_clickhouse(sub, common)
    commands.add_incidents(sub, common)
    commands.add_deploy(sub, common)

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
        from zeta_tui.demo.command import run_demo

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
    if command == "alerts":
        from zeta_tui.headless.alerts import run_alerts

        return run_alerts(args)
    if command == "incidents":
        from zeta_tui.headless.incidents import run_incidents

        return run_incidents(args)
    if command == "silence":
        from zeta_tui.headless.silence import run_silence

        return run_silence(args)
    if command == "slo":
        from zeta_tui.headless.slo import run_slo

        return run_slo(args)
    if command == "services":
        from zeta_tui.headless.services import run_services

        return run_services(args)
    if command == "ml":
        from zeta_tui.headless.ml import run_ml

        return run_ml(args)
    if command == "business":
        from zeta_tui.headless.business import run_business

        return run_business(args)
    if command == "tenant":
        from zeta_tui.headless.tenant import run_tenant

        return run_tenant(args)
    if command == "product":
        from zeta_tui.headless.product import run_product

        return run_product(args)
    if command == "sql":
        from zeta_tui.headless.sql import run_sql

        return run_sql(args)
    if command == "clickhouse":
        from zeta_tui.headless.clickhouse_cmd import run_clickhouse

        return run_clickhouse(args)
    if command == "deploy":
        from zeta_tui.headless.deploy import run_deploy

        return run_deploy(args)
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
