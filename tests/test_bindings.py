"""Every key binding zeta defines has an id (the keymap remaps it) and a tooltip (help, the palette).

The rule is DESIGN.md's; this walks every Screen and Widget class in zeta_tui, modal pickers and
panes too, not only the registered modes (tests/test_registry.py checks those against the registry).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode

import zeta_tui


def _classes() -> list[type[DOMNode]]:
    found: dict[str, type[DOMNode]] = {}
    for info in pkgutil.walk_packages(zeta_tui.__path__, "zeta_tui."):
        if ".demo" in info.name or info.name.endswith("__main__"):
            continue  # the demo's processes and the entry point define no widgets
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == info.name:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(found.values())


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    classes = _classes()
    assert {"TenantPicker", "ProductScreen", "ZetaApp"} <= {c.__name__ for c in classes}
    missing = [
        f"{cls.__module__}.{cls.__qualname__}: {b.key} (id={b.id!r}, tooltip={b.tooltip!r})"
        for cls in classes
        for b in cls.__dict__.get("BINDINGS", [])
        if not isinstance(b, Binding) or not b.id or not b.tooltip
    ]
    assert missing == []
