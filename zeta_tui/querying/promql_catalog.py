"""Named PromQL queries from queries/promql/*.promql, with $parameters.

A file looks like::

    # Request rate per endpoint (req/s).
    # params: services, window
    sum by (job, endpoint) (rate(http_requests_total{job=~"$services"}[$window]))

The first comment is the description, ``# params:`` declares the parameters, the rest is the
expression. ``{{name}}`` includes another query of the catalog, rendered with the same values
(in parentheses); the including file declares the parameters of what it includes. A file of the
same name under the user's config dir (queries/promql/) overrides the shipped one. The catalog
is checked at start-up: undeclared or unknown parameters, unknown or circular includes and
syntax errors are reported by query name and file.

The label and metric names of the user's conventions are parameters too (``$service_label``,
``$requests_metric``, ...): see models/conventions.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import promql_parser

from zeta_tui.errors import ConfigError

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_INCLUDE = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")

#: Parameters the screens supply, with a value used to check each query's syntax.
KNOWN_PARAMS: dict[str, str] = {
    "namespace": "production|",
    "services": "backend-api|ml-engine",
    "service": "backend-api",
    "endpoint": "/api/v1/recommendations",
    "endpoints": ".*",
    "window": "5m",
    "range": "1h",
    "quantile": "0.95",
    "service_label": "job",
    "endpoint_label": "endpoint",
    "status_label": "status",
    "requests_metric": "http_requests_total",
    "latency_buckets": "http_request_duration_seconds_bucket",
    "latency_scale": "1",
    "fast_le": "0\\.1",
    "tenant": "tenant_007",
    "tenants": "tenant_007|acme\\.eu",
}


@dataclass(frozen=True, slots=True)
class PromQuery:
    """One named query: where it came from, what it is for, its parameters and template."""

    name: str
    description: str
    params: tuple[str, ...]
    template: str
    path: Path

    def includes(self) -> list[str]:
        return _INCLUDE.findall(self.template)

    def render(self, values: dict[str, str], expand: Callable[[str], str] | None = None) -> str:
        """The expression with ``values`` in place; ``expand(name)`` renders an included query."""
        missing = [p for p in self.params if p not in values]
        if missing:
            raise ConfigError(
                f"query {self.name!r} needs parameter(s) {', '.join(missing)}",
                where=str(self.path),
                hint="this is a bug in the screen calling it, or the file declares a parameter no screen supplies",
            )
        text = _PARAM.sub(lambda m: _escape(values[m.group(1)]), self.template)
        if expand is not None:
            text = _INCLUDE.sub(lambda m: f"({expand(m.group(1))})", text)
        return text


def regex_escape(text: str) -> str:
    """Escape RE2 metacharacters (endpoints contain dots) for a =~ matcher."""
    return "".join("\\" + c if c in r".^$*+?()[]{}|\\" else c for c in text)


def alternation(values: list[str]) -> str:
    """``a|b|c`` matching exactly those values; ``.*`` for an empty list."""
    return "|".join(regex_escape(v) for v in values) or ".*"


def _escape(value: str) -> str:
    # Values land inside "..." label matchers or as bare durations/numbers; escaping quotes
    # and backslashes keeps a service or endpoint name from breaking out of its string.
    return value.replace("\\", "\\\\").replace('"', '\\"')


def parse_query_file(path: Path) -> PromQuery:
    lines = path.read_text(encoding="utf-8").splitlines()
    description = ""
    params: tuple[str, ...] = ()
    body: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#") and not body:
            text = stripped.lstrip("#").strip()
            if text.lower().startswith("params:"):
                params = tuple(p.strip() for p in text.split(":", 1)[1].split(",") if p.strip())
            elif not description:
                description = text
        elif stripped or body:
            body.append(line)
    return PromQuery(path.stem, description, params, "\n".join(body).strip(), path)


class PromCatalog:
    """All named queries, shipped ones overridden by the user's."""

    def __init__(self, queries: dict[str, PromQuery]) -> None:
        self._queries = queries

    @classmethod
    def load(cls, shipped: Path, user: Path | None = None) -> PromCatalog:
        queries: dict[str, PromQuery] = {}
        for folder in (shipped, user):
            if folder is not None and folder.is_dir():
                for path in sorted(folder.glob("*.promql")):
                    queries[path.stem] = parse_query_file(path)
        return cls(queries)

    def __contains__(self, name: str) -> bool:
        return name in self._queries

    def __iter__(self) -> Iterator[PromQuery]:
        return iter(self._queries.values())

    def get(self, name: str) -> PromQuery:
        try:
            return self._queries[name]
        except KeyError:
            raise ConfigError(
                f"no PromQL query named {name!r} in the catalog", hint="reinstall zeta or restore queries/promql/"
            ) from None

    def render(self, name: str, **values: str) -> str:
        return self._render(name, values, ())

    def _render(self, name: str, values: dict[str, str], within: tuple[str, ...]) -> str:
        if name in within:
            raise ConfigError(
                f"PromQL query {within[0]!r} includes itself through {' -> '.join((*within, name))}",
                hint="remove the circular {{...}} include",
            )
        return self.get(name).render(values, lambda inner: self._render(inner, values, (*within, name)))

    def problems(self) -> list[str]:
        """Every defect, one line each, naming the query and its file."""
        out = []
        for q in self._queries.values():
            where = f"{q.name} ({q.path})"
            if not q.template:
                out.append(f"{where}: empty expression")
                continue
            used = set(_PARAM.findall(q.template))
            for p in sorted(used - set(q.params)):
                out.append(f"{where}: uses ${p} but does not declare it in '# params:'")
            for p in q.params:
                if p not in KNOWN_PARAMS:
                    out.append(f"{where}: unknown parameter {p!r}; known: {', '.join(KNOWN_PARAMS)}")
            for inner in q.includes():
                if inner not in self._queries:
                    out.append(f"{where}: includes {{{{{inner}}}}}, which is not in the catalog")
                else:
                    for p in sorted(set(self._queries[inner].params) - set(q.params)):
                        out.append(f"{where}: includes {{{{{inner}}}}}, which needs ${p}; declare it in '# params:'")
            if any(o.startswith(where) for o in out):
                continue
            sample = {p: KNOWN_PARAMS.get(p, "x") for p in used | set(q.params)}
            try:
                promql_parser.parse(self._render(q.name, sample, ()))
            except ConfigError as exc:
                out.append(f"{where}: {exc.message}")
            except (ValueError, TypeError) as exc:
                out.append(f"{where}: bad PromQL: {exc}")
        return out

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(
                "the PromQL catalog has errors:\n  " + "\n  ".join(problems), hint="fix or delete the named files"
            )


def string_literal(value: str) -> str:
    """``value`` as a PromQL double-quoted string (a label matcher's value)."""
    return f'"{_escape(value)}"'
