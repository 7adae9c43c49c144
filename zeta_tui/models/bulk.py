"""Building hundreds of thousands of small objects at once (a 50,000-span trace and its tree)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

_T = TypeVar("_T")

_lock = threading.Lock()
_pausers = 0
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large answer is decoded into models or a big tree is
    built: the collector would walk the millions of new (acyclic) objects over and over, doubling
    the time. The objects are freed by reference counting as usual.

    Safe to nest and to enter from several threads at once (the collector is global): it is
    enabled again when the last one leaves. On the way out the objects made meanwhile are
    moved to the oldest generation as they are (``gc.freeze()`` then ``gc.unfreeze()``, two
    list splices) rather than walked: re-enabled with millions of young objects, the collector
    would walk them all in its next young collection, in one step that holds the GIL (0.4 s for
    a 58 MB trace's JSON, measured), on whichever thread allocates next: the UI's. Cycles made
    meanwhile are then found at the next full collection, which runs as often as before.
    """
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0:
                gc.freeze()
                gc.unfreeze()
                if _was_enabled:
                    gc.enable()


def let_go(items: list[_T]) -> None:
    """Empty ``items`` a slice at a time. Dropped at once, 100,000 models free their objects in one
    cascade that holds the GIL for 0.1 s (a thread doing it freezes the console as long); a
    slice at a time, the interpreter can switch threads between two slices."""
    while items:
        del items[-256:]
