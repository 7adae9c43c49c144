"""Run a program in a pseudo-terminal of a fixed size and watch what it draws.

A reader thread drains the pty as fast as the program writes (so it never blocks on a full
buffer) and stamps every chunk with its arrival time. ``wait_for`` finds the chunk in which
a piece of text first became visible, with escape sequences removed, and returns that chunk's
arrival time — not the time the waiter happened to look.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
import time
from dataclasses import dataclass

# CSI, OSC, DCS/APC/PM/SOS strings, charset designations and two-byte escapes.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1b[P_^X][^\x1b]*\x1b\\"
    rb"|\x1b[()*+][0-9A-Za-z]"
    rb"|\x1b[@-Z\\-_=>78]"
)
# Text drawn on one line can be split by a few escape sequences; 4 KiB of raw output before
# a chunk is plenty to find a marker that straddles the chunk boundary.
_OVERLAP = 4096


def visible_text(raw: bytes) -> str:
    """``raw`` terminal output with escape sequences removed (cursor moves, colours, modes)."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Chunk:
    t: float  # time.perf_counter() when read
    end: int  # offset just past this chunk in the whole output


class PtyProcess:
    """``argv`` started on the slave side of a new pty of ``columns`` x ``lines``."""

    def __init__(
        self, argv: list[str], *, env: dict[str, str], cwd: str | None = None, columns: int = 120, lines: int = 40
    ) -> None:
        self.argv = argv
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = {**env, "COLUMNS": str(columns), "LINES": str(lines)}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,  # setsid(), then the pty becomes the controlling terminal
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
            close_fds=True,
        )
        os.close(slave)  # only the child holds it now: EOF on the master when the child is gone
        self.master = master
        self.exited_at: float | None = None
        self._raw = bytearray()
        self._chunks: list[Chunk] = []
        self._cond = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._drain, name="pty-reader", daemon=True)
        self._reader.start()
        self._waiter = threading.Thread(target=self._wait_exit, name="pty-exit", daemon=True)
        self._waiter.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    # --- output ----------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the slave side is closed
                data = b""
            t = time.perf_counter()
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._raw += data
                self._chunks.append(Chunk(t, len(self._raw)))
                self._cond.notify_all()

    def _wait_exit(self) -> None:
        self.process.wait()
        t = time.perf_counter()
        with self._cond:
            self.exited_at = t
            self._cond.notify_all()

    @property
    def offset(self) -> int:
        """Bytes written so far; pass it as ``since`` to look only at what comes next."""
        with self._cond:
            return len(self._raw)

    def bytes_between(self, t0: float, t1: float) -> int:
        """Bytes that arrived in chunks read at t0 <= t < t1."""
        with self._cond:
            total, previous_end = 0, 0
            for chunk in self._chunks:
                if t0 <= chunk.t < t1:
                    total += chunk.end - previous_end
                previous_end = chunk.end
            return total

    def text(self, since: int = 0) -> str:
        with self._cond:
            return visible_text(bytes(self._raw[since:]))

    def wait_for(self, pattern: str | bytes | re.Pattern, *, since: int = 0, timeout: float = 30.0) -> float:
        """Arrival time of the chunk that first made ``pattern`` visible in the output after ``since``.

        A str pattern is searched in the visible text; a bytes pattern in the raw output
        (for escape sequences such as leaving the alternate screen).
        """
        regex = re.compile(pattern) if isinstance(pattern, (str, bytes)) else pattern
        raw = isinstance(regex.pattern, bytes)
        deadline = time.perf_counter() + timeout
        index = 0
        with self._cond:
            while True:
                while index < len(self._chunks):
                    chunk = self._chunks[index]
                    start = self._chunks[index - 1].end if index else 0
                    if chunk.end > since:
                        window = bytes(self._raw[max(since, start - _OVERLAP) : chunk.end])
                        if regex.search(window if raw else visible_text(window)):
                            return chunk.t
                    index += 1
                if self._eof and index >= len(self._chunks):
                    raise RuntimeError(
                        f"{self.argv[0]} exited before showing {regex.pattern!r}; it showed:\n{self.tail_text()}"
                    )
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{regex.pattern!r} did not appear within {timeout:g}s; the screen showed:\n{self.tail_text()}"
                    )
                self._cond.wait(remaining)

    def tail_text(self, chars: int = 2000) -> str:
        return visible_text(bytes(self._raw[-20000:]))[-chars:]

    # --- input and exit --------------------------------------------------------------------

    def send(self, keys: str) -> float:
        """Type ``keys``; returns the time they were written."""
        os.write(self.master, keys.encode())
        return time.perf_counter()

    def wait_exit(self, timeout: float = 10.0) -> float:
        """Time the process exited (reaped)."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while self.exited_at is None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError(f"{self.argv} did not exit within {timeout:g}s")
                self._cond.wait(remaining)
            return self.exited_at

    def cpu_seconds(self) -> float:
        """utime + stime of the process (all its threads) from /proc/<pid>/stat."""
        with open(f"/proc/{self.pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        # After "pid (comm)": state is field 3, utime field 14, stime field 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        """Stop the process if it still runs, and release the pty."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._waiter.join(5)
        self._reader.join(5)
        try:
            os.close(self.master)
        except OSError:
            pass

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def proc_status(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS of ``pid`` in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024
    return out
