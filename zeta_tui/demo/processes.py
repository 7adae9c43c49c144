"""Child servers (Prometheus, Alertmanager) on loopback: find, start, wait, stop.

Used by `zeta demo` and by the tests, so both run the same real binaries the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from zeta_tui.errors import BackendUnavailable, ConfigError

INSTALL_HINT = {
    "prometheus": (
        "install it: `sudo apt-get install prometheus` (Debian/Ubuntu), "
        "or put the `prometheus` binary from prometheus.io on PATH"
    ),
    "promtool": "it comes with Prometheus: `sudo apt-get install prometheus`",
    "prometheus-alertmanager": (
        "install it: `sudo apt-get install prometheus-alertmanager`, or put `alertmanager` on PATH"
    ),
}


class BinaryNotFound(ConfigError):
    """A server binary the demo or the tests need is not installed."""


def find_binary(name: str, *alternatives: str) -> str:
    """Absolute path of ``name`` (or an alternative name); ConfigError with an install hint if absent."""
    for candidate in (name, *alternatives):
        found = shutil.which(candidate)
        if found:
            return found
    raise BinaryNotFound(f"`{name}` was not found on PATH", hint=INSTALL_HINT.get(name, f"install {name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChildServer:
    """A server child process with its own temp/data dir, logging to a file there."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    ready_path: str = "/-/ready"
    scheme: str = "http"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> ChildServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        # A new session: the child does not get the terminal's SIGINT/SIGHUP directly; we stop it.
        self.process = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            start_new_session=True,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 30.0, verify: bool | str = True, auth: tuple[str, str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BackendUnavailable(
                    f"{self.name} exited with status {self.process.returncode}: {self.tail_log()}",
                    where=str(self.log_file),
                    hint="read the log above; a port clash or a bad flag is the usual cause",
                )
            try:
                r = httpx.get(self.url + self.ready_path, timeout=1.0, verify=verify, auth=auth)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        self.stop()
        raise BackendUnavailable(
            f"{self.name} was not ready within {timeout:g}s ({last})", where=self.url, hint=f"see {self.log_file}"
        )

    def tail_log(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM to its process group) without waiting; ``stop`` waits."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def prometheus_server(
    workdir: Path,
    config_yaml: str,
    *,
    port: int | None = None,
    data_dir: Path | None = None,
    web_config_yaml: str | None = None,
    retention: str = "15d",
    extra_args: tuple[str, ...] = (),
) -> ChildServer:
    """A Prometheus child (not yet started) serving ``config_yaml`` from ``data_dir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config_path = workdir / "prometheus.yml"
    config_path.write_text(config_yaml)
    argv = [
        find_binary("prometheus"),
        f"--config.file={config_path}",
        f"--storage.tsdb.path={data_dir or workdir / 'data'}",
        f"--storage.tsdb.retention.time={retention}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--query.lookback-delta=5m",
        *extra_args,
    ]
    scheme = "http"
    if web_config_yaml is not None:
        web_path = workdir / "web.yml"
        web_path.write_text(web_config_yaml)
        argv.append(f"--web.config.file={web_path}")
        scheme = "https" if "tls_server_config" in web_config_yaml else "http"
    return ChildServer("prometheus", argv, port, workdir, scheme=scheme)


def alertmanager_server(workdir: Path, config_yaml: str) -> ChildServer:
    """An Alertmanager child (not yet started) on a free loopback port, its data under ``workdir``."""
    binary = find_binary("prometheus-alertmanager", "alertmanager")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config_yaml)
    port = free_port()
    argv = [
        binary,
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return ChildServer("alertmanager", argv, port, workdir)
