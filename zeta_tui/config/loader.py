"""Read the TOML file, resolve ${ENV} references, validate, and explain every mistake.

Errors name the file, the field path (``contexts.prod.prometheus.url``), what is wrong and
how to fix it. Unknown keys get a "did you mean". A missing environment variable is named.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from zeta_tui.config.models import ContextConfig, ZetaConfig
from zeta_tui.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_config(path: Path, *, missing_ok: bool = False) -> ZetaConfig:
    """Load and validate ``path``. A missing file is an empty config when ``missing_ok``."""
    if not path.exists():
        if missing_ok:
            return ZetaConfig()
        raise ConfigError(
            "the file does not exist",
            where=str(path),
            hint="create it with `zeta config init`, or point --config / $ZETA_CONFIG at your file",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(path), hint="fix the syntax at the line shown") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", where=str(path), hint="check its permissions") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], *, source: str) -> ZetaConfig:
    resolved = _resolve_env(raw, (), source)
    try:
        config = ZetaConfig.model_validate(resolved)
    except ValidationError as exc:
        raise _explain(exc, source) from None
    _check_files(config, source)
    return config


def _resolve_env(node: Any, path: tuple[str, ...], source: str) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_env(v, (*path, str(k)), source) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_env(v, (*path, str(i)), source) for i, v in enumerate(node)]
    if isinstance(node, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"environment variable {name} is not set",
                    where=f"{source}: {'.'.join(path)}",
                    hint=f"export {name}=... before running zeta, or use a *_file field instead",
                )
            return os.environ[name]

        return _ENV_REF.sub(sub, node)
    return node


def _explain(exc: ValidationError, source: str) -> ConfigError:
    problems = []
    hints = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        field_path = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
            msg = f"{field_path}: unknown key {loc[-1]!r}"
            if close:
                msg += f"; did you mean {close[0]!r}?"
            problems.append(msg)
            if known:
                hints.append(f"keys allowed there: {', '.join(known)}")
        elif err["type"] == "missing":
            problems.append(f"{field_path}: required but missing")
            hints.append(f"add {loc[-1]} = ... to that section")
        else:
            text = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            shown = "" if isinstance(got, (dict, list)) or _is_secret(loc) or repr(got) in text else f" (got {got!r})"
            problems.append(f"{field_path}: {text}{shown}")
    hint = "; ".join(dict.fromkeys(hints)) or "see `zeta config init` for a commented example"
    return ConfigError("\n  ".join(problems), where=source, hint=hint)


def _is_secret(loc: tuple[str, ...]) -> bool:
    return bool(loc) and loc[-1] in {"bearer_token", "password"}


def _known_keys(loc: tuple[str, ...]) -> list[str]:
    """Field names of the model found at ``loc``, walking dicts of models by their keys."""
    model: Any = ZetaConfig
    i = 0
    while i < len(loc):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(loc[i])
        if field is None:
            return []
        model = _unwrap(field.annotation)
        i += 1
        if typing.get_origin(model) is dict:
            model = _unwrap(typing.get_args(model)[1])
            i += 1  # skip the dict key (a context name)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X] / Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            annotation = args[0]
        elif args and type(None) in args and origin is not dict:
            annotation = next(a for a in args if a is not type(None))
        else:
            return annotation


def _check_files(config: ZetaConfig, source: str) -> None:
    for ctx_name, ctx in config.contexts.items():
        for section in ("prometheus", "alertmanager"):
            backend = getattr(ctx, section)
            if backend is None:
                continue
            for field in ("bearer_token_file", "password_file", "ca_file", "client_cert", "client_key"):
                value = getattr(backend, field)
                if value and not Path(value).expanduser().is_file():
                    raise ConfigError(
                        f"contexts.{ctx_name}.{section}.{field}: file {value!r} does not exist",
                        where=source,
                        hint="fix the path or remove the field",
                    )


class LoadedContext:
    """The file that was read, the whole config, and the chosen context."""

    def __init__(self, path: Path, source: str, config: ZetaConfig, name: str, context: "ContextConfig") -> None:
        self.path = path
        self.source = source
        self.config = config
        self.name = name
        self.context = context


def load_context(config_arg: str | None, context_arg: str | None) -> LoadedContext:
    """--config/$ZETA_CONFIG/XDG -> validated config -> the chosen context (ConfigError otherwise)."""
    from zeta_tui.config.paths import resolve_config_file

    path, source = resolve_config_file(config_arg)
    config = load_config(path, missing_ok=False)
    name, context = config.context(context_arg)
    return LoadedContext(path, source, config, name, context)
