"""Where Zeta keeps things (XDG). Nothing is created at import time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "zeta"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Demo history (Prometheus TSDB, embedded ClickHouse store)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """Query history and other state worth keeping between runs."""
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Last answers kept to draw a screen at once on the next start (safe to delete)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    return config_dir() / "config.toml"


def resolve_config_file(cli_path: str | None) -> tuple[Path, str]:
    """The config file to read and why: --config, then $ZETA_CONFIG, then the XDG default."""
    if cli_path:
        return Path(cli_path).expanduser(), "--config"
    env = os.environ.get("ZETA_CONFIG")
    if env:
        return Path(env).expanduser(), "$ZETA_CONFIG"
    return default_config_file(), "XDG default"


def user_queries_dir() -> Path:
    """User overrides of the shipped query catalog, same layout as queries/."""
    return config_dir() / "queries"
