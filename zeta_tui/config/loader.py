"""Read the TOML file, resolve ${ENV} references, validate, and explain every mistake.

Errors name the file, the field path (``contexts.prod.prometheus.url``), what is wrong and
how to fix it. Unknown keys get a "did you mean". A missing environment variable is named.
Relative file paths (ca_file, bearer_token_file, ...) are read from the config file's directory,
as kubeconfig does, so a config and its certificates can move together.
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
from pydantic.fields import FieldInfo

from zeta_tui.config.models import ContextConfig, PrometheusConfig, ZetaConfig
from zeta_tui.config.redact import SECRET_FIELDS, redact_url
from zeta_tui.errors import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
_PATH_FIELDS = ("bearer_token_file", "password_file", "ca_file", "client_cert", "client_key")


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict, unresolved; ConfigError (with the offending line) otherwise."""
    if not path.exists():
        raise ConfigError(
            "the file does not exist",
            where=str(path),
            hint="create it with `zeta config init`, or point --config / $ZETA_CONFIG at your file",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the file: {exc}", where=str(path), hint="check that it is a UTF-8 text file you may read"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"not valid TOML: {exc}"
        m = _TOML_LINE.search(str(exc))
        if m:
            lines = text.splitlines()
            number = int(m.group(1))
            if 0 < number <= len(lines):
                message += f"\n  line {number}: {lines[number - 1].strip()}"
        raise ConfigError(
            message, where=str(path), hint="fix the syntax at the line shown (strings need quotes, tables [brackets])"
        ) from None


def load_config(path: Path, *, missing_ok: bool = False) -> ZetaConfig:
    """Load and validate ``path``. A missing file is an empty config when ``missing_ok``."""
    if missing_ok and not path.exists():
        return ZetaConfig()
    return parse_config(read_toml(path), source=str(path), base_dir=path.parent)


def parse_config(raw: dict[str, Any], *, source: str, base_dir: Path | None = None) -> ZetaConfig:
    """Validate an already-parsed TOML document; ``source`` names it in errors."""
    resolved = _resolve_env(raw, (), source)
    try:
        config = ZetaConfig.model_validate(resolved)
    except ValidationError as exc:
        raise _explain(exc, source) from None
    return _check_files(config, source, base_dir)


def env_ref_paths(raw: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Field paths whose value is written with ${ENV} references, mapped to the text as written."""
    found: dict[tuple[str, ...], str] = {}
    if isinstance(raw, dict):
        for k, v in raw.items():
            found.update(env_ref_paths(v, (*path, str(k))))
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            found.update(env_ref_paths(v, (*path, str(i))))
    elif isinstance(raw, str) and _ENV_REF.search(raw):
        found[path] = raw
    return found


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
                    f"{'.'.join(path)}: environment variable {name} is not set",
                    where=source,
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
        field_path = ".".join(loc)
        prefix = f"{field_path}: " if field_path else ""
        if err["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
            msg = f"{field_path}: unknown key {loc[-1]!r}"
            if close:
                msg += f"; did you mean {close[0]!r}?"
            problems.append(msg)
            if known:
                hints.append(f"keys allowed in {'.'.join(loc[:-1]) or 'the top level'}: {', '.join(known)}")
        elif err["type"] == "missing":
            problems.append(f"{field_path}: required but missing")
            hints.append(f"add {loc[-1]} = ... to [{'.'.join(loc[:-1])}]")
        elif loc and loc[-1] == "[key]":
            # loc is (..., "contexts", <the bad name>, "[key]")
            problems.append(
                f"{'.'.join(loc[:-2])}: name {err.get('input')!r} is not allowed; use letters, digits, '_', '.' or '-'"
            )
        else:
            text = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            if isinstance(got, str):
                got = redact_url(got)  # a URL's user:password@ never reaches the terminal
            secret = bool(loc) and loc[-1] in SECRET_FIELDS
            shown = "" if isinstance(got, (dict, list)) or secret or repr(got) in text else f" (got {got!r})"
            problems.append(f"{prefix}{text}{shown}")
            field = _field_at(loc)
            if field is not None and field.description:
                hints.append(f"{loc[-1]}: {field.description}")
    hint = "; ".join(dict.fromkeys(hints)) or "see `zeta config init` for a commented example"
    return ConfigError("\n  ".join(problems), where=source, hint=hint)


def _model_at(loc: tuple[str, ...]) -> Any:
    """The model class found at ``loc`` (walking dicts of models by their keys), or None."""
    model: Any = ZetaConfig
    i = 0
    while i < len(loc):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(loc[i])
        if field is None:
            return None
        model = _unwrap(field.annotation)
        i += 1
        if typing.get_origin(model) is dict:
            model = _unwrap(typing.get_args(model)[1])
            i += 1  # skip the dict key (a context name)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _known_keys(loc: tuple[str, ...]) -> list[str]:
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else []


def _field_at(loc: tuple[str, ...]) -> FieldInfo | None:
    model = _model_at(loc[:-1]) if loc else None
    return model.model_fields.get(loc[-1]) if model is not None else None


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


def _check_files(config: ZetaConfig, source: str, base_dir: Path | None) -> ZetaConfig:
    """Every file a backend names exists; relative paths become absolute (from ``base_dir``)."""
    contexts = {}
    for ctx_name, ctx in config.contexts.items():
        sections = {}
        for section, backend in ctx.http_backends().items():
            updates = {}
            for field in _PATH_FIELDS:
                value = getattr(backend, field)
                if not value:
                    continue
                path = Path(value).expanduser()
                if not path.is_absolute() and base_dir is not None:
                    path = base_dir / path
                if not path.is_file():
                    raise ConfigError(
                        f"contexts.{ctx_name}.{section}.{field}: file {str(path)!r} does not exist",
                        where=source,
                        hint=(
                            "fix the path (relative paths are read from the config file's directory) "
                            "or remove the field"
                        ),
                    )
                updates[field] = str(path)
            sections[section] = backend.model_copy(update=updates) if updates else backend
        contexts[ctx_name] = ctx.model_copy(update=sections) if sections else ctx
    return config.model_copy(update={"contexts": contexts})


class LoadedContext:
    """The file that was read, why it was chosen, the whole config, and the chosen context."""

    def __init__(self, path: Path, source: str, config: ZetaConfig, name: str, context: ContextConfig) -> None:
        self.path = path
        self.source = source
        self.config = config
        self.name = name
        self.context = context

    def prometheus(self) -> PrometheusConfig:
        """The context's [prometheus] section, or the ConfigError that says what to add."""
        if self.context.prometheus is None:
            raise ConfigError(
                f"context {self.name!r} has no prometheus section",
                where=str(self.path),
                hint=f'add [contexts.{self.name}.prometheus] with url = "http://host:9090", or pass --context',
            )
        return self.context.prometheus


def load_context(config_arg: str | None, context_arg: str | None) -> LoadedContext:
    """--config/$ZETA_CONFIG/XDG -> validated config -> the chosen context (ConfigError otherwise)."""
    from zeta_tui.config.paths import resolve_config_file

    path, source = resolve_config_file(config_arg)
    config = load_config(path, missing_ok=False)
    try:
        name, context = config.context(context_arg)
    except ConfigError as exc:
        exc.where = exc.where or str(path)
        raise
    return LoadedContext(path, source, config, name, context)


__all__ = ["LoadedContext", "env_ref_paths", "load_config", "load_context", "parse_config", "read_toml"]
