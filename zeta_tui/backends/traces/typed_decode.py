"""The typed decoding the two fast trace parsers share (OTLP JSON and Jaeger's JSON).

msgspec decodes an answer straight into structs; these helpers say when that decode gives what
orjson would (so the dict path's answer stays the reference), and build the models quickly.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

__all__ = ["dict_of", "fast_input", "list_of", "plain_json", "slots_constructor"]

_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1


def fast_input(raw: Any) -> bytes | None:
    """``raw`` as bytes for a msgspec decode whose success implies orjson's, else None.

    msgspec skips the fields a struct does not name without checking their UTF-8, which orjson
    rejects anywhere: text that is not all ASCII is checked here (ASCII is one quick scan)."""
    if type(raw) is str:
        try:
            return raw.encode()
        except UnicodeEncodeError:  # lone surrogates: orjson refuses them
            return None
    if type(raw) is not bytes:
        return None
    if not raw.isascii():
        try:
            raw.decode()
        except UnicodeDecodeError:
            return None
    return raw


def plain_json(value: Any, depth: int = 0) -> bool:
    """A value msgspec decoded as ``Any`` is what orjson gives for the same text: no integer
    outside orjson's 64-bit range (it makes those floats) and no nesting near its limit."""
    t = type(value)
    if t is int:
        in_range: bool = _I64_MIN <= value <= _U64_MAX
        return in_range
    if t is list:
        return depth < 500 and all(plain_json(v, depth + 1) for v in value)
    if t is dict:
        return depth < 500 and all(plain_json(v, depth + 1) for v in value.values())
    return True


def slots_constructor(cls: type) -> Any:
    """A function equal to ``cls(*fields)`` (all fields, positionally) for a frozen, slotted
    dataclass, twice as fast: it stores each slot directly, where the dataclass's ``__init__``
    goes through ``object.__setattr__`` once a field. ``cls`` itself for any class it cannot
    promise that for (a field not in ``__init__``, a ``__post_init__``, no slots)."""
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    if not all(f.init for f in fields) or hasattr(cls, "__post_init__") or list(getattr(cls, "__slots__", ())) != names:
        return cls
    namespace = {"new": object.__new__, "cls": cls} | {f"set_{n}": getattr(cls, n).__set__ for n in names}
    body = "".join(f"    set_{n}(self, {n})\n" for n in names)
    exec(f"def make({', '.join(names)}):\n    self = new(cls)\n{body}    return self\n", namespace)
    return namespace["make"]


def list_of(item: Any) -> Any:
    """``list[item]`` of a struct made at run time (a type checker reads ``list[variable]`` as a
    type, and a variable is not one)."""
    return types.GenericAlias(list, (item,))


def dict_of(key: Any, value: Any) -> Any:
    """``dict[key, value]`` of a struct made at run time (see list_of)."""
    return types.GenericAlias(dict, (key, value))
