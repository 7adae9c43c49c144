"""`zeta config path | validate | show | init` and `zeta contexts`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeta_tui.config.loader import env_ref_paths, load_config, parse_config, read_toml
from zeta_tui.config.models import ZetaConfig
from zeta_tui.config.paths import resolve_config_file
from zeta_tui.config.redact import redact_url
from zeta_tui.config.render import render_toml
from zeta_tui.config.starter import write_starter
from zeta_tui.errors import ConfigError
from zeta_tui.headless.table import format_table

_RULES = {
    "--config": "--config was given",
    "$ZETA_CONFIG": "$ZETA_CONFIG is set",
    "XDG default": "no --config and no $ZETA_CONFIG, so the XDG default",
}


def run_config(args: argparse.Namespace) -> int:
    """Dispatch `zeta config ACTION`; returns the exit code."""
    path, rule = resolve_config_file(args.config)
    action = args.action
    if action == "path":
        return _path(path, rule)
    if action == "validate":
        return _validate(path, args.context)
    if action == "show":
        return _show(path)
    if action == "init":
        return _init(path, force=args.force)
    raise ConfigError(f"unknown config action {action!r}", hint="use one of: path, validate, show, init")


def _path(path: Path, rule: str) -> int:
    # The path alone on the first line, so scripts can use $(zeta config path | head -1).
    print(path)
    print(f"  chosen by: {rule} ({_RULES.get(rule, rule)})")
    if path.is_file():
        print("  exists: yes")
    else:
        print("  exists: no (create it with `zeta config init`)")
    return 0


def _validate(path: Path, context: str | None) -> int:
    config = load_config(path)
    if context is not None:
        try:
            config.context(context)
        except ConfigError as exc:
            exc.where = exc.where or str(path)
            raise
    for name, ctx in config.contexts.items():
        for section, backend in ctx.http_backends().items():
            if backend.insecure_skip_verify:
                print(
                    f"warning: contexts.{name}.{section}.insecure_skip_verify is true: "
                    "the server certificate is not checked",
                    file=sys.stderr,
                )
    n = len(config.contexts)
    print(f"OK: {n} context{'s' if n != 1 else ''} in {path}")
    return 0


def _show(path: Path) -> int:
    raw = read_toml(path)
    config = parse_config(raw, source=str(path), base_dir=path.parent)
    print(f"# effective configuration from {path}; secrets shown as ***, ${{ENV}} references unresolved")
    print(render_toml(config, env_ref_paths(raw)), end="")
    return 0


def _init(path: Path, *, force: bool) -> int:
    write_starter(path, force=force)
    print(f"wrote {path} (mode 600)")
    print("next: edit it, then run `zeta config validate` and `zeta check`")
    return 0


def _default_name(config: ZetaConfig) -> str | None:
    if config.default_context is not None:
        return config.default_context
    return next(iter(config.contexts)) if len(config.contexts) == 1 else None


def run_contexts(args: argparse.Namespace) -> int:
    """`zeta contexts`: one row per context; * marks the one used without --context."""
    path, _ = resolve_config_file(args.config)
    config = load_config(path)
    if not config.contexts:
        print(f"no contexts in {path}; add a [contexts.NAME] section (see `zeta config init`)")
        return 0
    default = _default_name(config)
    rows = []
    for name, ctx in config.contexts.items():
        backends = ctx.http_backends()
        rows.append(
            [
                "*" if name == default else "",
                name,
                "yes" if ctx.production else "no",
                "yes" if ctx.is_read_only else "no",
                redact_url(backends["prometheus"].url) if "prometheus" in backends else "-",
                redact_url(backends["alertmanager"].url) if "alertmanager" in backends else "-",
            ]
        )
    print(format_table(["", "NAME", "PRODUCTION", "READ-ONLY", "PROMETHEUS", "ALERTMANAGER"], rows))
    if default is None:
        print(f"no default_context: pass --context NAME, or set default_context in {path}", file=sys.stderr)
    return 0
