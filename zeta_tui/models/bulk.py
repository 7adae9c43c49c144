"""Building hundreds of thousands of small objects at once (a 50,000-span trace and its tree)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large answer is decoded into models or a big tree is
    built: the collector would walk the millions of new (acyclic) objects over and over, doubling
    the time. The objects are freed by reference counting as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
