"""The commented starter file that `zeta config init` writes."""

from __future__ import annotations

import os
from pathlib import Path

from zeta_tui.errors import ConfigError

STARTER_TOML = """\
# Zeta configuration. Check it with `zeta config validate`; list contexts with `zeta contexts`.
# Which file is read: --config PATH, else $ZETA_CONFIG, else this XDG default.
# Secrets: write "${ENV_VAR}" references or *_file paths; never paste a token here.
# Relative file paths are read from this file's directory.

# Context used when --context is not given.
default_context = "local"

# theme = "zeta-dark"                       # or "zeta-light"
# keymap = { "screen.health" = "f1" }       # key overrides by binding id

# A Prometheus on this machine, e.g. `zeta demo --no-tui` or a local install.
[contexts.local]
refresh_seconds = 10                        # how often panes refresh
# namespace = "production"                  # Kubernetes namespace of the services
# services = ["backend-api", "auth"]        # a filter and an order; default: every service Prometheus has
# time_range = "1h"                         # 15m, 1h, 6h, 24h, 7d or any duration

# The labels and metric names are detected from what Prometheus has; set them to override.
# [contexts.local.labels]
# service = "job"                           # or "service", "app", "service_name", ...
# endpoint = "handler"                      # or "endpoint", "route", "http_route", "path", ...
# status = "code"                           # or "status", "status_code", "http_response_status_code"
# [contexts.local.metrics]
# requests = "http_requests_total"          # default: this, else the latency histogram's _count
# latency = "http_request_duration_seconds" # without _bucket; OpenTelemetry: http_server_request_duration_seconds
# latency_unit = "seconds"                  # or "milliseconds"; default: from the name's suffix

[contexts.local.prometheus]
url = "http://127.0.0.1:9090"
timeout_seconds = 10

# [contexts.local.alertmanager]
# url = "http://127.0.0.1:9093"

# A production context: every field, commented out. Uncomment and edit.
# [contexts.prod]
# production = true                         # banner; read-only unless read_only = false
# read_only = true                          # refuse write actions such as silences
# refresh_seconds = 10
# namespace = "production"
#
# [contexts.prod.prometheus]
# url = "https://prometheus.internal:9090"  # a path prefix is allowed (Thanos, Mimir, gateways)
# bearer_token = "${PROM_TOKEN}"            # an env reference; or:
# bearer_token_file = "/run/secrets/prom-token"
# username = "zeta"                         # basic auth instead of a token
# password = "${PROM_PASSWORD}"             # or password_file = "/run/secrets/prom-password"
# headers = { "X-Scope-OrgID" = "zeta" }    # extra headers (Mimir/Cortex/Loki tenant)
# ca_file = "/etc/ssl/internal-ca.pem"      # CA bundle that signed the server certificate
# client_cert = "/etc/zeta/client.pem"      # mutual TLS
# client_key = "/etc/zeta/client-key.pem"
# insecure_skip_verify = false              # never true for production
# proxy = "http://proxy.internal:3128"      # else HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply
# timeout_seconds = 10
# max_response_bytes = 67108864             # stop reading an answer past 64 MiB (the default) and say so
#
# [contexts.prod.alertmanager]
# url = "https://alertmanager.internal:9093"
# bearer_token = "${AM_TOKEN}"
# ca_file = "/etc/ssl/internal-ca.pem"
#
# [contexts.prod.logs]                       # one log source per context
# kind = "elasticsearch"                     # or opensearch, loki, clickhouse
# url = "https://elasticsearch.internal:9200"
# index = "logs-*"                           # elasticsearch / opensearch
# timestamp_field = "@timestamp"
# username = "zeta"
# password = "${ES_PASSWORD}"
# selector = '{namespace="production"}'    # loki (default: the context's namespace)
# table = "otel_logs"                        # clickhouse (OpenTelemetry logs schema)
# database = "default"
# ## path = "/var/lib/zeta/store"            # clickhouse embedded (chdb) store, instead of url
# pii_fields = ["user_id", "context.ip_address"]  # masked until revealed
# buffer_records = 100000                    # kept in memory while following
#
# [contexts.prod.traces]                     # one trace source per context
# kind = "jaeger"                            # or tempo, clickhouse
# url = "https://jaeger-query.internal:16686"
# api = "auto"                               # jaeger: v3 (OTLP JSON) when the server has it, else v1
# ui_url = "https://jaeger.internal/trace/{trace_id}"  # shown next to a trace
# ## table = "otel_traces"                   # clickhouse (OpenTelemetry traces schema)
# ## database = "default"
# ## path = "/var/lib/zeta/store"            # clickhouse embedded (chdb) store, instead of url
#
# [contexts.prod.clickhouse]                 # tenant usage and cost analytics, `zeta sql`
# url = "https://clickhouse.internal:8443"   # HTTP(S) interface; or an embedded store:
# ## path = "/var/lib/zeta/store"            # embedded (chdb) store, instead of url
# database = "default"                       # holds api_usage, cost_data, tenants (`zeta clickhouse init`)
# ## columns = { latency_ms = "response_time_ms" }  # api_usage columns named otherwise than the seed's
# username = "zeta_readonly"
# password = "${CLICKHOUSE_PASSWORD}"        # or password_file = "/run/secrets/clickhouse-password"
# ca_file = "/etc/ssl/internal-ca.pem"
# timeout_seconds = 30                       # each query's max_execution_time
# max_rows = 10000                           # most rows a query returns (the console says when it cut)
"""


def write_starter(path: Path, *, force: bool = False) -> None:
    """Write STARTER_TOML to ``path`` (mode 600, parents created); refuse to overwrite unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(
            "the file already exists; not overwriting it",
            where=str(path),
            hint="pass --force to replace it, or edit it",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 600 from the start, so a token pasted in later is never world-readable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(STARTER_TOML)
        os.chmod(path, 0o600)  # an existing file (--force) keeps its old mode otherwise
    except OSError as exc:
        raise ConfigError(
            f"cannot write the file: {exc.strerror}",
            where=str(path),
            hint="choose another path with --config, or fix the permissions",
        ) from None
