"""The configuration schema. Unknown keys are rejected; every field says what it is for."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from zeta_tui.config.redact import redact_url
from zeta_tui.models.timerange import PRESETS, parse_duration

_RELATIVE = " A relative path is read from the config file's directory."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpBackendConfig(_Strict):
    """How to reach one HTTP backend: URL, auth, TLS, proxy, timeout."""

    url: str = Field(description="Base URL, e.g. https://prometheus.internal:9090 (path prefixes allowed).")
    bearer_token: SecretStr | None = Field(
        None, description='Bearer token; use an env reference such as "${PROM_TOKEN}".'
    )
    bearer_token_file: str | None = Field(
        None, description="File holding the bearer token (read on each connect)." + _RELATIVE
    )
    username: str | None = Field(None, description="Basic-auth user name.")
    password: SecretStr | None = Field(
        None, description='Basic-auth password; use an env reference such as "${PROM_PASSWORD}".'
    )
    password_file: str | None = Field(None, description="File holding the basic-auth password." + _RELATIVE)
    headers: dict[str, str] = Field(
        default_factory=dict, description='Extra headers, e.g. { "X-Scope-OrgID" = "zeta" }.'
    )
    ca_file: str | None = Field(None, description="PEM bundle of CAs to trust for this backend." + _RELATIVE)
    client_cert: str | None = Field(None, description="PEM client certificate for mutual TLS." + _RELATIVE)
    client_key: str | None = Field(None, description="PEM key of client_cert (if not inside it)." + _RELATIVE)
    insecure_skip_verify: bool = Field(
        False, description="Do not verify the server certificate. Off by default; never for production."
    )
    proxy: str | None = Field(
        None, description="Proxy URL for this backend; HTTPS_PROXY/HTTP_PROXY/NO_PROXY are honoured otherwise."
    )
    timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Give up on a request (or on a screen's whole question to this backend) after this many seconds.",
    )
    max_response_bytes: int = Field(
        64 * 1024 * 1024,
        ge=64 * 1024,
        le=4 * 1024**3,
        description=(
            "Stop reading an answer past this many bytes (64 MiB by default) and say so, "
            "instead of filling the machine's memory."
        ),
    )

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, v: str | None) -> str | None:
        if v is None:  # only where a subclass makes url optional (an embedded store)
            return v
        _check_url(v, "https://host:9090")
        return v.rstrip("/")

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, v: str | None) -> str | None:
        if v is not None:
            _check_url(v, "http://proxy.internal:3128", schemes=("http", "https", "socks5", "socks5h"))
        return v

    @model_validator(mode="after")
    def _one_auth(self) -> HttpBackendConfig:
        if self.bearer_token is not None and self.bearer_token_file:
            raise ValueError("set bearer_token or bearer_token_file, not both")
        if (self.password is not None or self.password_file) and not self.username:
            raise ValueError('password given without username; add username = "..."')
        if self.username and (self.bearer_token is not None or self.bearer_token_file):
            raise ValueError("set either basic auth (username/password) or a bearer token, not both")
        if self.client_key and not self.client_cert:
            raise ValueError("client_key given without client_cert")
        return self


class PrometheusConfig(HttpBackendConfig):
    """Prometheus HTTP API v1 (also Thanos, Mimir, VictoriaMetrics)."""


class AlertmanagerConfig(HttpBackendConfig):
    """Alertmanager API v2."""


LogKind = Literal["elasticsearch", "opensearch", "loki", "clickhouse"]

# geoip.ip: Logstash's geoip filter copies the address it looked up into its target (the seed's
# pipeline runs one on the client address before removing it).
DEFAULT_PII_FIELDS = ["user_id", "context.ip_address", "ip", "ip_address", "client_ip", "geoip.ip"]


class LogsConfig(HttpBackendConfig):
    """Where the context's logs live: Elasticsearch/OpenSearch, Loki, or ClickHouse."""

    kind: LogKind = Field(description="elasticsearch, opensearch, loki or clickhouse.")
    # An embedded store (path) has no URL; an adapter over HTTP is built only when url is set.
    url: str | None = Field(  # type: ignore[assignment]
        None, description="Base URL of the server (not for an embedded ClickHouse store: use path)."
    )
    index: str = Field("logs-*", description="Elasticsearch/OpenSearch index pattern.")
    timestamp_field: str = Field("@timestamp", description="Elasticsearch/OpenSearch field holding the record time.")
    selector: str | None = Field(
        None, description='Loki stream selector, e.g. {namespace="production"} (default: the context namespace).'
    )
    table: str = Field("otel_logs", description="ClickHouse table in the OpenTelemetry logs schema.")
    database: str = Field("default", description="ClickHouse database.")
    path: str | None = Field(
        None, description="Embedded ClickHouse (chdb) store directory, instead of url." + _RELATIVE
    )
    pii_fields: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PII_FIELDS),
        description="Fields masked on screen and in `zeta logs` until revealed.",
    )
    buffer_records: int = Field(
        100_000,
        ge=1_000,
        le=5_000_000,
        description="Records kept in memory while following (a ring buffer; the oldest go first).",
    )

    @model_validator(mode="after")
    def _where(self) -> LogsConfig:
        if self.kind == "clickhouse":
            if (self.url is None) == (self.path is None):
                raise ValueError(
                    "a clickhouse log source needs url (a server) or path (an embedded store), one of them"
                )
        elif self.url is None:
            raise ValueError(f"a {self.kind} log source needs url")
        elif self.path is not None:
            raise ValueError(f"path is only for an embedded clickhouse store, not {self.kind}")
        return self


TraceKind = Literal["jaeger", "tempo", "clickhouse"]


class TracesConfig(HttpBackendConfig):
    """Where the context's traces live: Jaeger, Tempo, or ClickHouse (otel_traces)."""

    kind: TraceKind = Field(description="jaeger, tempo or clickhouse.")
    # An embedded store (path) has no URL; an adapter over HTTP is built only when url is set.
    url: str | None = Field(  # type: ignore[assignment]
        None, description="Base URL of the query API (not for an embedded ClickHouse store: use path)."
    )
    api: Literal["auto", "v1", "v3"] = Field(
        "auto", description="Jaeger query API: v3 (OTLP JSON) when the server has it, else v1."
    )
    table: str = Field("otel_traces", description="ClickHouse table in the OpenTelemetry traces schema.")
    database: str = Field("default", description="ClickHouse database.")
    path: str | None = Field(
        None, description="Embedded ClickHouse (chdb) store directory, instead of url." + _RELATIVE
    )
    ui_url: str | None = Field(
        None,
        description="Link shown for a trace in a web UI, with {trace_id}, e.g. https://jaeger.internal/trace/{trace_id}.",
    )

    @field_validator("ui_url")
    @classmethod
    def _ui_url(cls, v: str | None) -> str | None:
        if v is not None:
            if "{trace_id}" not in v:
                raise ValueError(
                    "ui_url needs {trace_id} where the trace id goes, e.g. https://jaeger.internal/trace/{trace_id}"
                )
            parts = urlsplit(v.replace("{trace_id}", "x"))  # a query is fine here (Grafana Explore links have one)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"{redact_url(v)!r} is not an http/https URL; write it like https://jaeger.internal/trace/{{trace_id}}"
                )
        return v

    @model_validator(mode="after")
    def _where(self) -> TracesConfig:
        if self.kind == "clickhouse":
            if (self.url is None) == (self.path is None):
                raise ValueError(
                    "a clickhouse trace source needs url (a server) or path (an embedded store), one of them"
                )
        elif self.url is None:
            raise ValueError(f"a {self.kind} trace source needs url")
        elif self.path is not None:
            raise ValueError(f"path is only for an embedded clickhouse store, not {self.kind}")
        return self


#: api_usage's columns zeta reads, by the seed's names, and what each holds (``clickhouse.columns`` keys).
USAGE_COLUMNS = {
    "timestamp": "when the request was served (DateTime)",
    "date": "the request's day (Date; the seed's DEFAULT toDate(timestamp))",
    "tenant_id": "the tenant that made the request",
    "endpoint": "the route, e.g. /api/v1/recommendations",
    "method": "the HTTP method",
    "status_code": "the HTTP status code",
    "latency_ms": "the request's latency in milliseconds",
    "request_size_bytes": "the request body's size in bytes",
    "response_size_bytes": "the response body's size in bytes",
}


class ClickHouseConfig(HttpBackendConfig):
    """Tenant usage and cost analytics: a ClickHouse server (url, over HTTP/HTTPS) or an embedded chdb store (path)."""

    # An embedded store (path) has no URL; an adapter over HTTP is built only when url is set.
    url: str | None = Field(  # type: ignore[assignment]
        None, description="HTTP(S) URL of the ClickHouse server, e.g. https://clickhouse.internal:8443 (not with path)."
    )
    database: str = Field(
        "default", description="Database holding api_usage, cost_data and tenants (and zeta's rollup beside them)."
    )
    path: str | None = Field(
        None,
        description="Embedded ClickHouse (chdb) store directory, instead of url; `zeta demo` writes one." + _RELATIVE,
    )
    max_rows: int = Field(
        10_000,
        ge=1,
        le=10_000_000,
        description="Most rows any query returns (the SQL console and `zeta sql` stop there and say so).",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description='api_usage columns named otherwise than in the seed\'s DDL: { latency_ms = "response_time_ms" }. '
        "Keys: " + ", ".join(USAGE_COLUMNS) + ".",
    )

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict[str, str]) -> dict[str, str]:
        for key, column in v.items():
            if key not in USAGE_COLUMNS:
                close = difflib.get_close_matches(key, list(USAGE_COLUMNS), n=1)
                maybe = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"columns.{key}: api_usage has no column zeta reads by that name{maybe}; "
                    f"the keys are the seed's names: {', '.join(USAGE_COLUMNS)}"
                )
            if not column.strip():
                raise ValueError(f"columns.{key} is empty; give the name of the column that holds {USAGE_COLUMNS[key]}")
        return v

    @model_validator(mode="after")
    def _where(self) -> ClickHouseConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("a clickhouse section needs url (a server) or path (an embedded store), one of them")
        return self


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _prometheus_name(value: str | None, pattern: re.Pattern[str], what: str, example: str) -> str | None:
    if value is not None and not pattern.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Prometheus {what} (letters, digits and _{', :' if ':' in pattern.pattern else ''}; "
            f"not starting with a digit), e.g. {example}"
        )
    return value


class LabelsConfig(_Strict):
    """Which Prometheus labels name a service, an endpoint and a status code in this context.

    Unset labels are detected from what the metrics carry (see docs/conventions.md); a label
    set here is used as written, and one the metrics lack is reported with the labels they have.
    """

    service: str | None = Field(
        None,
        description=(
            'Label naming the service on up and the HTTP metrics: "job" (the default), "service", "app", '
            '"service_name", ...'
        ),
    )
    endpoint: str | None = Field(
        None,
        description=(
            'Label naming the endpoint on the HTTP metrics: "endpoint", "handler", "route", "http_route", "path", '
            "... (detected when unset)."
        ),
    )
    status: str | None = Field(
        None,
        description=(
            'Label holding the HTTP status code: "status", "code", "status_code", "http_response_status_code", ... '
            "(detected when unset)."
        ),
    )

    @field_validator("service", "endpoint", "status")
    @classmethod
    def _label_name(cls, v: str | None) -> str | None:
        return _prometheus_name(v, _LABEL_NAME, "label name", '"http_route"')


class MetricsConfig(_Strict):
    """Names of the HTTP metrics in this context (detected when unset)."""

    requests: str | None = Field(
        None,
        description=(
            'Request counter, e.g. "http_requests_total"; when unset, the first that exists of a few common names, '
            "else the latency histogram's _count."
        ),
    )
    latency: str | None = Field(
        None,
        description=(
            'Latency histogram without _bucket, e.g. "http_request_duration_seconds" or OpenTelemetry\'s '
            '"http_server_request_duration_seconds" (detected when unset).'
        ),
    )
    latency_unit: Literal["seconds", "milliseconds"] | None = Field(
        None,
        description=(
            "Unit of the latency histogram's buckets; by default read from the name's suffix (_seconds, "
            "_milliseconds, _ms)."
        ),
    )

    @field_validator("requests", "latency")
    @classmethod
    def _metric_name(cls, v: str | None) -> str | None:
        return _prometheus_name(v, _METRIC_NAME, "metric name", '"http_server_request_duration_seconds"')


class ContextConfig(_Strict):
    """One environment to look at, like a kubeconfig context."""

    production: bool = Field(
        False, description="Shows a production banner; read-only unless read_only = false is explicit."
    )
    read_only: bool | None = Field(
        None, description="Refuse write actions (e.g. silences). Defaults to the value of production."
    )
    refresh_seconds: float = Field(10.0, ge=1, le=3600, description="How often panes refresh.")
    namespace: str = Field(
        "production",
        description=(
            "Kubernetes namespace of the services; where Prometheus has no series in it, "
            "every namespace is shown and the screens say so."
        ),
    )
    services: list[str] = Field(
        default_factory=list,
        description=(
            "Services to show, in this order (a filter). Empty: every service Prometheus has "
            "(discovered from up and the HTTP metrics)."
        ),
    )
    labels: LabelsConfig = Field(
        default_factory=LabelsConfig, description="Label conventions of the metrics (service, endpoint, status)."
    )
    metrics: MetricsConfig = Field(
        default_factory=MetricsConfig, description="Names of the HTTP request counter and latency histogram."
    )
    time_range: str = Field(
        "1h", description=f"Default time range: one of {', '.join(PRESETS)} or any duration like 90m."
    )
    prometheus: PrometheusConfig | None = Field(None, description="Metrics backend.")
    alertmanager: AlertmanagerConfig | None = Field(None, description="Alert routing backend.")
    logs: LogsConfig | None = Field(None, description="Log source.")
    traces: TracesConfig | None = Field(None, description="Trace source.")
    clickhouse: ClickHouseConfig | None = Field(
        None, description="Tenant usage and cost analytics (api_usage, cost_data, tenants)."
    )

    @field_validator("time_range")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def is_read_only(self) -> bool:
        """Write actions are refused: read_only if set, else the value of production."""
        return self.production if self.read_only is None else self.read_only

    def backends(self) -> dict[str, HttpBackendConfig]:
        """Every configured backend section, a server's or an embedded store's, in file order."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), HttpBackendConfig)
        }

    def http_backends(self) -> dict[str, HttpBackendConfig]:
        """The configured HTTP backend sections by name (prometheus, alertmanager, ...), in file order."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), HttpBackendConfig) and value.url is not None
        }


ContextName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]


class ZetaConfig(_Strict):
    """The whole file."""

    default_context: str | None = Field(None, description="Context used when --context is not given.")
    theme: str = Field("zeta-dark", description="Theme name: zeta-dark, zeta-light, or one from themes/.")
    keymap: dict[str, str] = Field(
        default_factory=dict, description='Key overrides by binding id, e.g. { "screen.health" = "f1" }.'
    )
    contexts: dict[ContextName, ContextConfig] = Field(default_factory=dict, description="Named contexts.")

    @model_validator(mode="after")
    def _default_exists(self) -> ZetaConfig:
        # The loader prints this message without a field path, so it names the field itself.
        if self.default_context is not None and self.default_context not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none"
            close = difflib.get_close_matches(self.default_context, list(self.contexts), n=1)
            maybe = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"default_context: {self.default_context!r} is not a defined context (defined: {known}){maybe}"
            )
        return self

    def context(self, name: str | None) -> tuple[str, ContextConfig]:
        """The context to use, by name or the default; raises ConfigError naming the choices."""
        from zeta_tui.errors import ConfigError

        chosen = name or self.default_context or (next(iter(self.contexts)) if len(self.contexts) == 1 else None)
        if chosen is None:
            if not self.contexts:
                raise ConfigError(
                    "no contexts are defined", hint="run `zeta config init` for a starter file, or `zeta demo`"
                )
            raise ConfigError(
                f"several contexts and no default_context: {', '.join(sorted(self.contexts))}",
                hint="pass --context NAME or set default_context",
            )
        if chosen not in self.contexts:
            close = difflib.get_close_matches(chosen, list(self.contexts), n=1)
            maybe = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"no context named {chosen!r}{maybe}",
                hint=(
                    f"pass --context with one of: {', '.join(sorted(self.contexts)) or 'none'} "
                    "(`zeta contexts` lists them)"
                ),
            )
        return chosen, self.contexts[chosen]


def _check_url(value: str, example: str, schemes: tuple[str, ...] = ("http", "https")) -> None:
    shown = redact_url(value)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        raise ValueError(f"{shown!r} is not a valid URL ({exc}); write it like {example}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"{shown!r} is not an {'/'.join(schemes)} URL; write it like {example}")
    if not parts.hostname:
        raise ValueError(f"{shown!r} has no host name; write it like {example}")
    if parts.query or parts.fragment:
        raise ValueError(f"{shown!r} has a query or fragment; give only scheme, host, port and path prefix")
    del port
