"""Load themes/*.toml into Textual Themes (palettes only; the stylesheet uses $variables)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

from zeta_tui.errors import ConfigError

_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "success",
    "warning",
    "error",
    "boost",
)


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Theme(
            name=data["name"],
            dark=bool(data.get("dark", True)),
            variables=dict(data.get("variables", {})),
            **{k: data[k] for k in _FIELDS if k in data},
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"cannot load theme: {exc}", where=str(path), hint="a theme needs at least name and primary"
        ) from None


def load_themes(*folders: Path) -> list[Theme]:
    """Every *.toml theme in the folders; later folders override earlier ones by name."""
    themes: dict[str, Theme] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                theme = load_theme(path)
                themes[theme.name] = theme
    return list(themes.values())
