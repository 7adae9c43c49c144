"""Alertmanager's routing tree, evaluated on an alert's labels: which receivers it goes to, and
whether one of them pages someone.

The tree is read from the configuration Alertmanager itself reports (/api/v2/status,
``config.original``, decoded from YAML by the caller), so it is the tree the server runs, not a
copy of a file. Evaluation follows Alertmanager's own rule (dispatch/route.go): a route matches
when all its matchers hold (the root matches everything); its children are tried in order, and
the first child that matches ends the search unless it says ``continue: true``; a route none of
whose children match is itself the match. A child without a receiver inherits its parent's.

Matchers come in the three spellings Alertmanager accepts: ``match`` (equality), ``match_re``
(regular expressions, anchored at both ends) and ``matchers`` (``severity="critical"``,
``team=~"a|b"``; several in one string separated by commas, optionally in braces). A missing
label is the empty string, as in Alertmanager. Time intervals (``mute_time_intervals``,
``active_time_intervals``) are not evaluated: they mute a route at certain times, they do not
change where it leads.

A *pager* receiver is one that wakes someone: it has a paging integration (PagerDuty, Opsgenie,
VictorOps / Splunk On-Call), or, for receivers that reach a pager through a webhook or a bridge,
its name says so (``pager``, ``pagerduty``, ``opsgenie``, ``victorops``, ``oncall``, ``on-call``).
The seed routes its criticals to ``pagerduty-oncall`` (a ``pagerduty_configs`` receiver); the
demo's ``pagerduty-critical`` is a webhook to a local sink, a pager by its name. A caller may
instead name the pager receivers with a regular expression (``zeta incidents --pager``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zeta_tui.models.alerts import Matcher, split_unquoted

#: Alertmanager's integrations that page a person (``<kind>_configs`` in a receiver)
PAGER_INTEGRATIONS = ("pagerduty", "opsgenie", "victorops")
#: receiver names that say they page, for receivers whose integration is a webhook or a bridge
PAGER_NAME = re.compile(r"pager|opsgenie|victorops|on-?call", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Route:
    """One node of the routing tree: its matchers, its receiver (inherited when unset), whether
    matching it lets the search go on to its next siblings, and its children."""

    receiver: str
    matchers: tuple[Matcher, ...] = ()
    continue_matching: bool = False
    routes: tuple[Route, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def matched(self, labels: Mapping[str, str], is_root: bool = False) -> list[Route]:
        """The routes an alert with ``labels`` ends at, in tree order (Alertmanager's Route.Match)."""
        if not is_root and not self.matches(labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.matched(labels)
            found += hits
            if hits and not child.continue_matching:
                break
        return found or [self]


@dataclass(frozen=True, slots=True)
class Receiver:
    """A receiver by name, with the kinds of integration it has (``pagerduty``, ``slack``, ...)."""

    name: str
    integrations: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingTree:
    """A routing tree and its receivers; ``pager`` (a regex over receiver names) overrides the
    default meaning of a pager receiver when given."""

    root: Route
    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    pager: str | None = None

    def receivers_for(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """The receivers an alert with ``labels`` is sent to, in tree order, each once."""
        return tuple(dict.fromkeys(route.receiver for route in self.root.matched(labels, is_root=True)))

    def is_pager(self, receiver: str) -> bool:
        """Whether a notification to ``receiver`` pages someone (see the module docstring)."""
        if self.pager is not None:
            return re.fullmatch(self.pager, receiver) is not None
        known = self.receivers.get(receiver)
        if known is not None and any(kind in PAGER_INTEGRATIONS for kind in known.integrations):
            return True
        return PAGER_NAME.search(receiver) is not None

    def pager_receivers(self) -> tuple[str, ...]:
        """The configured receivers that page, in the configuration's order."""
        return tuple(name for name in self.receivers if self.is_pager(name))


class RoutingError(ValueError):
    """The configuration's routing could not be read; the message names the route (``route.routes[1]``)."""


def routing_tree(config: Mapping[str, Any], pager: str | None = None) -> RoutingTree:
    """The routing tree of an Alertmanager configuration (its YAML, decoded). Raises RoutingError
    naming the route that cannot be read."""
    if not isinstance(config, Mapping):
        raise RoutingError("the configuration is not a mapping")
    root = config.get("route")
    if not isinstance(root, Mapping):
        raise RoutingError("the configuration has no route")
    receivers: dict[str, Receiver] = {}
    for i, item in enumerate(config.get("receivers") or ()):
        if not isinstance(item, Mapping) or not item.get("name"):
            raise RoutingError(f"receivers[{i}] has no name")
        kinds = tuple(
            str(key).removesuffix("_configs") for key, value in item.items() if str(key).endswith("_configs") and value
        )
        receivers[str(item["name"])] = Receiver(str(item["name"]), kinds)
    if pager is not None:
        try:
            re.compile(pager)
        except re.error as exc:
            raise RoutingError(f"the pager pattern {pager!r} is not a regular expression: {exc}") from None
    return RoutingTree(_route(root, "", "route"), receivers, pager)


def _route(node: Mapping[str, Any], inherited: str, where: str) -> Route:
    receiver = str(node.get("receiver") or inherited)
    if not receiver:
        raise RoutingError(f"{where} has no receiver")
    children = node.get("routes") or ()
    if not isinstance(children, Sequence) or isinstance(children, str):
        raise RoutingError(f"{where}.routes is not a list")
    routes = []
    for i, child in enumerate(children):
        if not isinstance(child, Mapping):
            raise RoutingError(f"{where}.routes[{i}] is not a route")
        routes.append(_route(child, receiver, f"{where}.routes[{i}]"))
    return Route(receiver, _matchers(node, where), bool(node.get("continue", False)), tuple(routes))


def _matchers(node: Mapping[str, Any], where: str) -> tuple[Matcher, ...]:
    found: list[Matcher] = []
    for key, regex in (("match", False), ("match_re", True)):
        table = node.get(key) or {}
        if not isinstance(table, Mapping):
            raise RoutingError(f"{where}.{key} is not a mapping of label names to values")
        found += [Matcher(str(name), _text(value), is_regex=regex) for name, value in table.items()]
    texts = node.get("matchers") or ()
    if isinstance(texts, str):
        texts = [texts]
    for text in texts:
        for part in split_matchers(str(text)):
            try:
                found.append(Matcher.parse(part))
            except ValueError as exc:
                raise RoutingError(f"{where}.matchers: {exc}") from None
    return tuple(found)


def _text(value: Any) -> str:
    """A YAML scalar as Alertmanager reads it (``code: 500`` is the string "500")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def split_matchers(text: str) -> list[str]:
    """``{a="b", c=~"d,e"}`` -> ``['a="b"', 'c=~"d,e"']``: commas outside double quotes separate
    matchers; surrounding braces are dropped."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return split_unquoted(text, lambda ch: ch == ",")
