"""A `zeta demo --no-tui` child process for the tests, with its output read as it comes, and
the /proc helpers that check it leaves no child behind."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


class Demo:
    """A `zeta demo --no-tui` child process with its output read line by line."""

    def __init__(self, xdg: Path, path: str | None = None) -> None:
        env = {**os.environ, "XDG_DATA_HOME": str(xdg), "PYTHONPATH": str(REPO)}
        if path is not None:
            env["PATH"] = path
        self.began = time.monotonic()
        self.began_at = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zeta_tui.cli", "demo", "--no-tui"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._stdout: list[str] = []  # everything printed, also what lines has handed out
        self._stderr: list[str] = []  # read as it comes: the demo says on stderr when its data land
        threading.Thread(target=self._pump, daemon=True).start()
        self._stderr_pump = threading.Thread(target=self._pump_stderr, daemon=True)
        self._stderr_pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._stdout.append(line)
            self.lines.put(line)

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def wait_stderr(self, text: str, timeout: float) -> bool:
        """Whether ``text`` appears on the demo's stderr within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self._stderr)):
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        return any(text in line for line in list(self._stderr))

    def wait_stdout(self, text: str, timeout: float) -> str:
        """All the demo has printed, once a line holds ``text`` (the test fails if none does in time)."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in list(self._stdout)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop_hard()
                pytest.fail(f"zeta demo never printed {text!r} within {timeout}s; stderr: {self.read_stderr()}")
            time.sleep(0.2)
        return "".join(self._stdout)

    def prometheus_url(self, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.strip().startswith("prometheus:"):
                return line.split(":", 1)[1].strip()
        self.stop_hard()
        pytest.fail(f"no Prometheus URL within {timeout}s; stderr: {self.read_stderr()}")

    def read_stderr(self) -> str:
        if self.proc.poll() is not None:
            self._stderr_pump.join(5)
        return "".join(self._stderr)

    def children(self) -> dict[int, str]:
        return children_of(self.proc.pid)

    def stop_hard(self) -> None:
        kids = self.children()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in kids:  # only processes this demo started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def children_of(parent: int) -> dict[int, str]:
    """Live child pids of ``parent`` with their command lines (from /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and fields[0] != "Z":
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
