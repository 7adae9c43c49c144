"""The effective configuration as TOML, with every secret redacted (for `zeta config show`).

Secret fields print as "***"; a value written as an ${ENV} reference prints as the reference,
never as what it resolved to; credentials inside URLs are dropped; header values that look like
credentials print as "***". The output is valid TOML and validates again once the env is set.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

from zeta_tui.config.models import ContextConfig, ZetaConfig
from zeta_tui.config.redact import REDACTED, SECRET_FIELDS, is_sensitive_header, redact_url

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_URL_FIELDS = frozenset({"url", "proxy"})

EnvRefs = Mapping[tuple[str, ...], str]


def render_toml(config: ZetaConfig, env_refs: EnvRefs | None = None) -> str:
    """The whole config as TOML text; see the module docstring for what is hidden."""
    lines: list[str] = []
    _table(config, (), env_refs or {}, lines)
    return "\n".join(lines).strip() + "\n"


def _table(model: BaseModel, path: tuple[str, ...], env_refs: EnvRefs, lines: list[str]) -> None:
    """Scalars of ``model`` under its [header], then its sub-tables."""
    children: list[tuple[tuple[str, ...], BaseModel]] = []
    body: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        field_path = (*path, name)
        if value is None:
            if name == "read_only" and isinstance(model, ContextConfig):
                body.append(f"read_only = {_scalar(model.is_read_only)}  # not set: follows production")
            continue
        if isinstance(value, BaseModel):
            children.append((field_path, value))
        elif isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
            children.extend(((*field_path, str(k)), v) for k, v in value.items())
        else:
            body.append(f"{_key(name)} = {_value(name, value, field_path, env_refs)}")
    if path and (body or not children):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    lines.extend(body)
    for child_path, child in children:
        _table(child, child_path, env_refs, lines)


def _value(name: str, value: Any, path: tuple[str, ...], env_refs: EnvRefs) -> str:
    if name in SECRET_FIELDS or isinstance(value, SecretStr):
        ref = env_refs.get(path)
        return _scalar(REDACTED) + (f"  # from {ref}" if ref else "")
    if path in env_refs:
        return _scalar(env_refs[path])
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            sub = (*path, str(k))
            if is_sensitive_header(str(k)):
                shown = REDACTED
            else:
                shown = env_refs.get(sub, v)
            items.append(f"{_key(str(k))} = {_scalar(shown)}")
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(env_refs.get((*path, str(i)), v)) for i, v in enumerate(value)) + "]"
    if name in _URL_FIELDS and isinstance(value, str):
        return _scalar(redact_url(value))
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX included), except
    # that TOML also forbids a raw DEL character.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _scalar(name)
