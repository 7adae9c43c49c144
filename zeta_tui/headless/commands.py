"""The arguments and help of the subcommands declared outside cli.py, with none of what runs them.

`zeta` with no subcommand builds every parser before its first frame, so this module imports
nothing but argparse: the modules that run a command are imported only when it runs.
"""

from __future__ import annotations

import argparse
from typing import Any

#: `zeta sql --format` choices
FORMATS = ("table", "csv", "json")


def add_services(sub: Any, common: argparse.ArgumentParser) -> None:
    services = sub.add_parser(
        "services",
        parents=[common],
        help="the services Prometheus has and which signals each has",
        description=(
            "Every service of the context's Prometheus (the jobs in its namespace, from up and the HTTP metrics; "
            "the context's services list filters and orders them), with the signals each has: up, HTTP requests, "
            "latency histogram, container CPU/memory, restarts. The label conventions in use go to stderr. "
            "Exit status: 0, 1 when no service is found or Prometheus cannot be read, 2 on a configuration error."
        ),
    )
    services.add_argument("--json", action="store_true", help="print JSON")
    services.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="look as of this time (default: now)")


def add_sql(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta sql` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "sql",
        parents=[common],
        help="run read-only SQL or a named query on ClickHouse",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run read-only SQL, or a named query of the catalog (--name), on the context's [clickhouse] section."
        ),
        epilog="exit status:\n  0  done (a cut answer is still 0; stderr says it was cut at max_rows)\n"
        "  1  ClickHouse refused the query (its message), the SQL writes (refused: read-only), the answer is over\n"
        "     max_response_bytes, or the server is unreachable or too slow\n"
        "  2  configuration error, or a missing / unknown / mistyped parameter",
    )
    p.add_argument(
        "sql", nargs="?", help="the SQL (one read-only statement: SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS)"
    )
    p.add_argument(
        "--name", "-n", metavar="QUERY", help="run this named query of queries/clickhouse/catalog (see --list)"
    )
    p.add_argument(
        "--param", "-p", action="append", default=[], metavar="KEY=VALUE", help="a parameter; repeat for more"
    )
    p.add_argument(
        "--format", "-f", choices=FORMATS, default="table", help="table (default), csv, or json (one object a line)"
    )
    p.add_argument(
        "--max-rows", type=int, metavar="N", help="stop after N rows (at most clickhouse.max_rows, the default)"
    )
    p.add_argument("--list", action="store_true", help="list the named queries and their parameters")


def add_clickhouse(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta clickhouse schema|init` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "clickhouse",
        parents=[common],
        help="print or create the analytics schema (api_usage, cost, tenants, zeta's rollup)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="init creates what is missing and never changes a table that exists; it is refused in read-only "
        "contexts\n"
        "and confirmed first (y/N on a terminal; --yes skips the question; with no terminal and no --yes it is "
        "refused).\n"
        "exit status: 0 done, 1 refused (read-only), declined, a missing column, or ClickHouse refused / unreachable,\n"
        "2 config error or not confirmed",
    )
    actions = p.add_subparsers(dest="clickhouse_action", metavar="ACTION", required=True)
    schema = actions.add_parser(
        "schema", parents=[common], help="print schema.sql, rollup.sql and events.sql for the context's database"
    )
    schema.add_argument(
        "--database", metavar="NAME", help="the database to write into the statements (default: clickhouse.database)"
    )
    init = actions.add_parser(
        "init", parents=[common], help="create what is missing and zeta's rollup, and backfill it"
    )
    init.add_argument("--yes", "-y", action="store_true", help="do not ask before creating")
    init.add_argument(
        "--settle",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long rows stamped before the view's cutoff may take to arrive (default 30): the newest "
        "months are backfilled that long after it",
    )


def add_incidents(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta incidents` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "incidents",
        parents=[common],
        help="every incident with its MTTD and MTTR, against the seed's criteria (exit 1 if one is broken)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Every critical alert that fired in the window, with the alerts of its service around it, from\n"
            "Prometheus's ALERTS history; its receivers and whether it was missed (no pager route, or silenced\n"
            "when it fired) from Alertmanager. Above the list, the mean times to detect and to resolve and the\n"
            "missed criticals against the seed's criteria: MTTD < 5 min, MTTR < 1 h, 0 missed.\n"
            "Definitions: docs/incidents.md."
        ),
        epilog="exit status:\n  0  every criterion met (a window without incidents meets them)\n"
        "  1  a criterion is broken\n"
        "  2  configuration error (no [prometheus] section, a bad option)\n"
        "  3  a backend could not be read, or a criterion could not be judged (no [alertmanager]: missed unknown)",
    )
    p.add_argument("--since", metavar="DURATION", default="7d", help="the window, back from now (default 7d)")
    p.add_argument("--json", action="store_true", help="JSON lines: the summary, then one per incident")
    p.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="the window's end (default: now)")
    p.add_argument(
        "--pager",
        metavar="REGEX",
        help="the receivers that page, by name (default: PagerDuty, Opsgenie and VictorOps receivers, and names "
        "saying pager or on-call)",
    )


def add_ml(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta ml` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "ml",
        parents=[common],
        help="training jobs, model quality, cache and ANN latency, recommendations served (exit 1 if failing)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The ML Engine's figures from the context's Prometheus: each tenant's latest training job (failed "
            "first), NDCG@10 per tenant against its 7-day median (worst first; a drop over 10 % is marked, as "
            "ModelQualityDrop), the embedding cache hit ratio and ANN search latency p50/p95/p99 over the range, "
            "and recommendations served per tenant (top first)."
        ),
        epilog="exit status:\n  0  no tenant's training is failing and no tenant's quality dropped\n"
        "  1  a tenant's latest training job failed, or its NDCG@10 is over 10 % below its 7-day median\n"
        "  2  configuration error\n"
        "  3  Prometheus could not be read (its URL and message on stderr)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="look as of this time (default: now)")
    p.add_argument("--range", default="1h", metavar="DURATION", help="the range the rates are over (default: 1h)")


def add_business(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta business` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "business",
        parents=[common],
        help="active tenants, API calls by plan, MRR/ARR and their trend, new and churned tenants, top tenants",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The Business screen's figures. From Prometheus: API calls by plan (the seed's\n"
            "sum by (plan) (rate(api_calls_total[1h]))) over the range and each plan's share now. From ClickHouse\n"
            "(the UTC day of --at): active tenants over 24 h, 7 d and 30 d against the period before, MRR and ARR\n"
            "by plan, the 90-day MRR trend, new and churned tenants, the top tenants by usage. A context with one\n"
            "of the two gets that half. Definitions: docs/business.md."
        ),
        epilog="exit status:\n  0  every configured backend was read\n"
        "  2  configuration error (neither [prometheus] nor [clickhouse], a bad option)\n"
        "  3  a configured backend could not be read (its URL and message on stderr; the other half is printed)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="look as of this time (default: now)")
    p.add_argument("--range", default="6h", metavar="DURATION", help="the calls chart's range (default: 6h)")


def add_tenant(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta tenant ID` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "tenant",
        parents=[common],
        help="one tenant: usage, quota, cost, SLA; model quality, training, data freshness, alerts (exit 1 if failing)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The Tenant screen's figures. From ClickHouse: the tenant's endpoints over --days whole UTC days, quota,\n"
            "cost against MRR, SLA. From Prometheus: NDCG@10 against its 7-day median (a drop over 10 % marked, as\n"
            "ModelQualityDrop), the latest training job, data freshness (STALE over 1 h, as TenantDataStale),\n"
            "recommendations served over --range, open alerts with its tenant_id (Alertmanager's, or Prometheus's\n"
            "firing ALERTS without one). A half whose backend is absent or down says so. Definitions: docs/tenant.md."
        ),
        epilog="exit status:\n  0  all well\n"
        "  1  the latest training job failed, NDCG@10 is over 10 % below its median, the data is stale, or an alert "
        "fires\n"
        "  2  configuration error (also: neither backend configured, or neither knows the tenant)\n"
        "  3  a configured backend could not be read (its URL and message on stderr)",
    )
    p.add_argument("tenant_id", metavar="ID", help="the tenant id (the tenant_id label, e.g. tenant_007)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--days", type=int, default=7, metavar="N", help="the usage window in whole UTC days (default 7)")
    p.add_argument("--at", metavar="UNIX_SECONDS", type=float, help="look as of this time (default: now)")
    p.add_argument("--range", default="1h", metavar="DURATION", help="the range the rates are over (default: 1h)")


def add_product(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta product funnel|retention|ab` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "product",
        parents=[common],
        help="product analytics of a tenant: the funnel, weekly retention, CTR by model version and the A/B verdict",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The Product screen's figures, from ClickHouse's events table. funnel: users reaching served ->\n"
            "clicked -> added to cart -> purchased within 24 h, each step's conversion and median time; retention:\n"
            "weekly cohorts by first session and the share back each week after (8 cohorts); ab: CTR of each model\n"
            "version and the A/B test of the two most recent ones, in plain words. Without --tenant, the tenant with\n"
            "the most served recommendations in the window. Definitions: docs/product-analytics.md."
        ),
        epilog="exit status:\n  0  read\n  2  configuration error (no [clickhouse] section, a bad option)\n"
        "  3  ClickHouse could not be read (its message on stderr)",
    )
    p.add_argument("what", choices=("funnel", "retention", "ab"), help="which figures")
    p.add_argument("--tenant", metavar="ID", help="the tenant (default: the most served in the window)")
    p.add_argument("--days", type=int, default=14, metavar="N", help="the window in UTC days (default 14)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="the window's last UTC day (default: today)")
    p.add_argument("--json", action="store_true", help="print JSON")


def add_deploy(sub: Any, common: argparse.ArgumentParser) -> None:
    """`zeta deploy render DIR` on the subcommand parsers of cli.py."""
    p = sub.add_parser(
        "deploy",
        parents=[common],
        help="write the Kubernetes files (rules, routing, prometheus.yml, discovery RBAC) kustomize builds from",
        description=(
            "render DIR writes prometheus.yml, discovery-rbac.yaml, the shipped alerts.yaml and the shipped "
            "alertmanager.yaml into DIR (deploy/k8s/base/generated in the repository). See docs/deploy.md. "
            "Exit status: 0, 1 when DIR cannot be written, 2 when --namespace is not a namespace name."
        ),
    )
    actions = p.add_subparsers(dest="deploy_action", metavar="ACTION", required=True)
    render = actions.add_parser("render", parents=[common], help="write the generated files into DIR")
    render.add_argument("dir", metavar="DIR", help="the folder to write into (created if missing)")
    render.add_argument(
        "--namespace",
        default="production",
        metavar="NAME",
        help="the platform's namespace, whose annotated pods Prometheus scrapes (default: production)",
    )
