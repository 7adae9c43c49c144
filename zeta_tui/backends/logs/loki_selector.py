"""Which streams Loki is asked for when the user set no ``selector``.

The default is ``{namespace="<context namespace>"}``, the label Promtail's Kubernetes config
writes. Streams shipped by Grafana Alloy or the OpenTelemetry collector (Loki's OTLP endpoint)
carry ``service_name`` and, for Kubernetes, ``k8s_namespace_name``, and often no ``namespace``:
there the default matches nothing and every search is silently empty. So, when the label is not
among Loki's label names (``/loki/api/v1/labels``), a selector that matches is chosen, in this
order:

1. ``{k8s_namespace_name="<namespace>"}``: the same namespace under its OpenTelemetry name,
   when that label has the value;
2. ``{<label>=~".+"}`` for the first of ``FALLBACK_LABELS`` Loki has (``service_name`` first:
   Loki's OTLP endpoint and Alloy always set it);
3. the same for the first other label name (alphabetically; ``__`` names are internal).

The choice is said (``SelectorChoice.note``: the Logs screen shows it, ``zeta logs`` prints it on
stderr) because it widens what is read: every stream with that label, not one namespace. When
``namespace`` exists but no stream has the context's value the selector is kept (widening it
would mix namespaces without being asked) and the note names the values there are. A selector
the user set is never replaced; this module is not consulted for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: the namespace label of the default selector
NAMESPACE_LABEL = "namespace"
#: the namespace's name on streams from Loki's OTLP endpoint (resource k8s.namespace.name)
OTEL_NAMESPACE_LABEL = "k8s_namespace_name"
#: labels most streams carry, in the order a fallback selector is built on them
FALLBACK_LABELS = (
    "service_name",
    "service",
    "app",
    "application",
    "job",
    "container",
    "k8s_container_name",
    "host",
    "filename",
)


@dataclass(frozen=True, slots=True)
class SelectorChoice:
    """The selector to use and, when it is not the default, why (for the user)."""

    selector: str
    note: str = ""


def default_selector(namespace: str) -> str:
    return f'{{{NAMESPACE_LABEL}="{_escape(namespace)}"}}'


def choose_selector(
    namespace: str,
    labels: Iterable[str],
    namespace_values: Iterable[str] | None = None,
    otel_namespace_values: Iterable[str] | None = None,
) -> SelectorChoice:
    """The selector for ``namespace`` given Loki's label names (``labels``).

    ``namespace_values``: the values of ``namespace`` (when Loki has the label and they were read);
    ``otel_namespace_values``: those of ``k8s_namespace_name`` (likewise). Without any label
    name (no stream in the window) the default stays, with a note saying so.
    """
    names = sorted({str(n) for n in labels if str(n) and not str(n).startswith("__")})
    default = default_selector(namespace)
    if not names:
        return SelectorChoice(default, f"Loki has no streams in this window; asking for {default}")
    if NAMESPACE_LABEL in names:
        values = sorted(set(namespace_values or ()))
        if namespace_values is not None and namespace not in values:
            return SelectorChoice(
                default,
                f"no stream has {NAMESPACE_LABEL}={namespace!r} (there: {_few(values)}); "
                "set namespace of the context, or selector in [contexts.NAME.logs]",
            )
        return SelectorChoice(default)
    if OTEL_NAMESPACE_LABEL in names and namespace in set(otel_namespace_values or ()):
        chosen = f'{{{OTEL_NAMESPACE_LABEL}="{_escape(namespace)}"}}'
        return SelectorChoice(chosen, f"selector {chosen}: the streams have no {NAMESPACE_LABEL} label")
    label = next((n for n in FALLBACK_LABELS if n in names), names[0])
    chosen = f'{{{label}=~".+"}}'
    return SelectorChoice(
        chosen,
        f"selector {chosen} (every stream with a {label}): the streams have no {NAMESPACE_LABEL} label "
        f"(labels: {_few(names)}); set selector in [contexts.NAME.logs] to narrow it",
    )


def _few(names: list[str], most: int = 6) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "") if names else "none"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
