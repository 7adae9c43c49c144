"""Decode a large JSON answer in small pieces, so the thread doing it lets others run.

orjson decodes a 40 MB Prometheus matrix in one C call of 0.3-1.4 s that holds the GIL the
whole time: run in a worker thread, it still freezes the console for as long. Here the answer
is first split, without decoding its values, into its top-level members (msgspec reads them as
``Raw`` byte slices, ~30 ms for 40 MB); a member that is still large is split again the same
way, and only pieces under ``PIECE_BYTES`` are decoded, each in a few milliseconds. Between two
pieces the interpreter may switch threads, so a key press waits milliseconds, not seconds.

The result equals ``orjson.loads(body)`` (tested on generated JSON). The cyclic garbage
collector is paused while the pieces are decoded: millions of new containers would otherwise
set off full collections that walk all of them (a 0.2 s pause for one piece was seen).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from zeta_tui.models.bulk import gc_paused

T = TypeVar("T")

#: pieces smaller than this are decoded in one call (~1-3 ms each)
PIECE_BYTES = 256 * 1024
#: answers smaller than this are decoded at once: splitting would cost more than it saves
SMALL_BYTES = 1024 * 1024
#: the pause after scanning a piece of at least SMALL_BYTES (seconds)
SCAN_REST_SECONDS = 0.005


def decode_json(body: bytes | memoryview) -> Any:
    """``orjson.loads(body)``, in pieces when ``body`` is large (raises orjson.JSONDecodeError)."""
    if len(body) < SMALL_BYTES:
        return orjson.loads(body)
    with gc_paused():
        return _decode(memoryview(body), None)


def decode_and_build(body: bytes | memoryview, build: Callable[[Any], T]) -> T:
    """``build(decode_json(body))``, then the decoded JSON dropped a slice at a time.

    Dropped at once, the JSON of a 50 MB answer frees its millions of objects in one cascade
    that holds the GIL for 0.1-0.2 s (measured); here the containers made from the pieces are
    emptied a few members at a time instead, so the thread lets others run meanwhile. A
    container that ``build`` kept (the answer itself, returned as it is) is left whole.
    """
    if len(body) < SMALL_BYTES:
        return build(orjson.loads(body))
    spine: list[Any] = []
    with gc_paused():
        data = _decode(memoryview(body), spine)
        try:
            result = build(data)
        finally:
            del data
            _release(spine)
    return result


def _release(spine: list[Any]) -> None:
    """Empty the containers ``_decode`` made, root first, each only when nothing else holds it
    (its members then are the pieces orjson decoded, each freed in a few milliseconds)."""
    while spine:
        node = spine.pop()
        # held by `node` and getrefcount's argument alone: neither build's result nor a parent
        # that was kept refers to it
        if sys.getrefcount(node) > 2:
            continue
        if type(node) is list:
            while node:
                del node[-8:]
        else:
            while node:
                node.popitem()
        del node


def _decode(body: memoryview, spine: list[Any] | None) -> Any:
    if len(body) < PIECE_BYTES:
        return orjson.loads(body)
    first = _first_byte(body)
    if first == ord("{"):
        node: Any = {key: _decode(memoryview(raw), spine) for key, raw in _split(body, _decoders()[0]).items()}
    elif first == ord("["):
        node = [_decode(memoryview(raw), spine) for raw in _split(body, _decoders()[1])]
    else:
        return orjson.loads(body)  # one huge string or number: nothing to split
    if spine is not None:
        spine.append(node)  # after its members: popped from the end, a parent comes first
    return node


def _first_byte(body: memoryview) -> int:
    for b in body[:4096]:
        if b not in b" \t\r\n":
            return b
    return 0


_DECODERS: tuple[Any, Any] | None = None


def _decoders() -> tuple[Any, Any]:
    """msgspec decoders of an object's and an array's members as undecoded byte slices."""
    global _DECODERS
    if _DECODERS is None:
        import msgspec  # imported at the first large answer, not at start-up

        _DECODERS = (msgspec.json.Decoder(dict[str, msgspec.Raw]), msgspec.json.Decoder(list[msgspec.Raw]))
    return _DECODERS


def _split(body: memoryview, decoder: Any) -> Any:
    try:
        members = decoder.decode(body)
        if len(body) >= SMALL_BYTES:
            # The scan held the GIL for up to ~1 ms a MB. A key needs the event loop to take the
            # GIL several times; rest a few ms so it can, before the next scan of a nested member.
            time.sleep(SCAN_REST_SECONDS)
        return members
    except Exception:
        # msgspec's own error: orjson then says what is wrong and where, as for a small answer.
        orjson.loads(body)
        raise orjson.JSONDecodeError("the answer is not valid JSON", "", 0) from None
