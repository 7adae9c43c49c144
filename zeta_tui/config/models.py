"""The configuration schema. Unknown keys are rejected; every field says what it is for."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from zeta_tui.models.timerange import PRESETS, parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpBackendConfig(_Strict):
    """How to reach one HTTP backend: URL, auth, TLS, proxy, timeout."""

    url: str = Field(description="Base URL, e.g. https://prometheus.internal:9090 (path prefixes allowed).")
    bearer_token: SecretStr | None = Field(None, description='Bearer token; use an env reference such as "${PROM_TOKEN}".')
    bearer_token_file: str | None = Field(None, description="File holding the bearer token (read on each connect).")
    username: str | None = Field(None, description="Basic-auth user name.")
    password: SecretStr | None = Field(None, description='Basic-auth password; use an env reference such as "${PROM_PASSWORD}".')
    password_file: str | None = Field(None, description="File holding the basic-auth password.")
    headers: dict[str, str] = Field(default_factory=dict, description='Extra headers, e.g. { "X-Scope-OrgID" = "zeta" }.')
    ca_file: str | None = Field(None, description="PEM bundle of CAs to trust for this backend.")
    client_cert: str | None = Field(None, description="PEM client certificate for mutual TLS.")
    client_key: str | None = Field(None, description="PEM key of client_cert (if not inside it).")
    insecure_skip_verify: bool = Field(False, description="Do not verify the server certificate. Off by default; never for production.")
    proxy: str | None = Field(None, description="Proxy URL for this backend; HTTPS_PROXY/HTTP_PROXY/NO_PROXY are honoured otherwise.")
    timeout_seconds: float = Field(10.0, gt=0, le=600, description="Give up on a request after this many seconds.")

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL; write it like https://host:9090")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _one_auth(self) -> "HttpBackendConfig":
        if self.bearer_token is not None and self.bearer_token_file:
            raise ValueError("set bearer_token or bearer_token_file, not both")
        if (self.password is not None or self.password_file) and not self.username:
            raise ValueError("password given without username; add username = \"...\"")
        if self.username and (self.bearer_token is not None or self.bearer_token_file):
            raise ValueError("set either basic auth (username/password) or a bearer token, not both")
        if self.client_key and not self.client_cert:
            raise ValueError("client_key given without client_cert")
        return self


class PrometheusConfig(HttpBackendConfig):
    """Prometheus HTTP API v1 (also Thanos, Mimir, VictoriaMetrics)."""


class AlertmanagerConfig(HttpBackendConfig):
    """Alertmanager API v2."""


class ContextConfig(_Strict):
    """One environment to look at, like a kubeconfig context."""

    production: bool = Field(False, description="Shows a production banner; read-only unless read_only = false is explicit.")
    read_only: bool | None = Field(None, description="Refuse write actions (e.g. silences). Defaults to the value of production.")
    refresh_seconds: float = Field(10.0, ge=1, le=3600, description="How often panes refresh.")
    namespace: str = Field("production", description="Kubernetes namespace of the services (cAdvisor and kube-state-metrics labels).")
    services: list[str] = Field(
        default_factory=lambda: ["backend-api", "ml-engine", "auth", "redis", "postgres"],
        description="Services to show: each is a Prometheus job and the container of the same name.",
    )
    time_range: str = Field("1h", description=f"Default time range: one of {', '.join(PRESETS)} or any duration like 90m.")
    prometheus: PrometheusConfig | None = Field(None, description="Metrics backend.")
    alertmanager: AlertmanagerConfig | None = Field(None, description="Alert routing backend.")

    @field_validator("time_range")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def is_read_only(self) -> bool:
        return self.production if self.read_only is None else self.read_only


ContextName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]


class ZetaConfig(_Strict):
    """The whole file."""

    default_context: str | None = Field(None, description="Context used when --context is not given.")
    theme: str = Field("zeta-dark", description="Theme name: zeta-dark, zeta-light, or one from themes/.")
    keymap: dict[str, str] = Field(default_factory=dict, description='Key overrides by binding id, e.g. { "screen.health" = "f1" }.')
    contexts: dict[ContextName, ContextConfig] = Field(default_factory=dict, description="Named contexts.")

    @model_validator(mode="after")
    def _default_exists(self) -> "ZetaConfig":
        if self.default_context is not None and self.default_context not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none"
            raise ValueError(f"default_context {self.default_context!r} is not a context (defined: {known})")
        return self

    def context(self, name: str | None) -> tuple[str, ContextConfig]:
        """The context to use, by name or the default; raises ConfigError naming the choices."""
        from zeta_tui.errors import ConfigError

        chosen = name or self.default_context or (next(iter(self.contexts)) if len(self.contexts) == 1 else None)
        if chosen is None:
            if not self.contexts:
                raise ConfigError("no contexts are defined", hint="run `zeta config init` for a starter file, or `zeta demo`")
            raise ConfigError(
                f"several contexts and no default_context: {', '.join(sorted(self.contexts))}",
                hint="pass --context NAME or set default_context",
            )
        if chosen not in self.contexts:
            import difflib

            close = difflib.get_close_matches(chosen, list(self.contexts), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known contexts: {', '.join(sorted(self.contexts)) or 'none'}"
            raise ConfigError(f"no context named {chosen!r}", hint=hint)
        return chosen, self.contexts[chosen]
