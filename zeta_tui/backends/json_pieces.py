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

import gc
import threading
import time
from typing import Any

import orjson

#: pieces smaller than this are decoded in one call (~1-3 ms each)
PIECE_BYTES = 256 * 1024
#: answers smaller than this are decoded at once: splitting would cost more than it saves
SMALL_BYTES = 1024 * 1024

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = True


def decode_json(body: bytes | memoryview) -> Any:
    """``orjson.loads(body)``, in pieces when ``body`` is large (raises orjson.JSONDecodeError)."""
    if len(body) < SMALL_BYTES:
        return orjson.loads(body)
    _pause_gc()
    try:
        return _decode(memoryview(body))
    finally:
        _resume_gc()


def _decode(body: memoryview) -> Any:
    if len(body) < PIECE_BYTES:
        return orjson.loads(body)
    first = _first_byte(body)
    if first == ord("{"):
        return {key: _decode(memoryview(raw)) for key, raw in _split(body, _decoders()[0]).items()}
    if first == ord("["):
        return [_decode(memoryview(raw)) for raw in _split(body, _decoders()[1])]
    return orjson.loads(body)  # one huge string or number: nothing to split


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
        time.sleep(0)  # a scan of a large piece held the GIL for tens of ms: let a waiting thread run now
        return members
    except Exception:
        # msgspec's own error: orjson then says what is wrong and where, as for a small answer.
        orjson.loads(body)
        raise orjson.JSONDecodeError("the answer is not valid JSON", "", 0) from None


def _pause_gc() -> None:
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1


def _resume_gc() -> None:
    global _gc_pausers
    with _gc_lock:
        _gc_pausers -= 1
        if _gc_pausers == 0 and _gc_was_enabled:
            gc.enable()
