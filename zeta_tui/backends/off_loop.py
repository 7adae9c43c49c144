"""Run blocking decode-and-build work in a thread of its own that never holds up an exit.

``asyncio.to_thread`` uses the loop's default executor, and ``asyncio.run`` (which Textual's
``App.run`` is) joins that executor's threads before it returns: a 2 s parse still running when
the user presses ``q`` kept the console on screen for those 2 s, and the interpreter's own
exit joins executor threads again. Here each job gets a daemon thread: the awaiting task can be
cancelled at once, the result of a cancelled job is dropped, and the process exits without
waiting for it.

While a job runs, the interpreter's switch interval is 1 ms instead of 5 ms. The event loop
gives up the GIL at every select() and every write to the terminal; with a worker busy
decoding it then waits a whole switch interval to get it back, many times per key and per
frame (and per step of quitting: ``q`` took 1.5 s during a Loki parse at 5 ms).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: the switch interval while a job runs (seconds)
BUSY_SWITCH_INTERVAL = 0.001
_lock = threading.Lock()
_running = 0
_interval = sys.getswitchinterval()


def _job_started() -> None:
    global _running, _interval
    with _lock:
        if _running == 0:
            _interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_interval, BUSY_SWITCH_INTERVAL))
        _running += 1


def _job_ended() -> None:
    global _running
    with _lock:
        _running -= 1
        if _running == 0:
            sys.setswitchinterval(_interval)


async def run_off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a daemon thread; its result (or exception) comes back to the loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():  # the awaiting task was cancelled meanwhile
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def work() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            outcome: tuple[bool, Any] = (False, exc)
        else:
            outcome = (True, result)
        finally:
            _job_ended()
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is closed: nobody waits for this any more
            pass
        del outcome

    _job_started()
    threading.Thread(target=work, name=f"zeta-decode-{getattr(fn, '__name__', 'job')}", daemon=True).start()
    return await future
