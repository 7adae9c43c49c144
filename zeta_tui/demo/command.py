"""`zeta demo`: start the demo stack, then the console on it (or, with ``--no-tui``, serve it
until stopped and print how to point `zeta` at it).

Every child is stopped on every exit path: normal return, exceptions, Ctrl+C, SIGTERM and
SIGHUP (raised as an exception in the main thread so the ``finally`` runs), and atexit as a
last resort.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from zeta_tui.config.models import ZetaConfig
from zeta_tui.demo.processes import BinaryNotFound
from zeta_tui.demo.stack import DEMO_CONTEXT, DemoPaths, DemoStack
from zeta_tui.demo.world import DEFAULT_SEED, TeamZetaWorld
from zeta_tui.errors import BackendUnavailable, ZetaError


class _ExitSignals:
    """SIGTERM/SIGHUP take the Ctrl+C path, remembering which signal it was.

    Outside the console that raises KeyboardInterrupt. While the console runs, asyncio's own
    SIGINT handler cancels the console's main task, so Textual restores the terminal before
    KeyboardInterrupt reaches run_demo; raising straight out of the event loop would not.
    """

    def __init__(self) -> None:
        self.received: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received = self.received or signum
        on_sigint = signal.getsignal(signal.SIGINT)
        if callable(on_sigint):
            on_sigint(signal.SIGINT, frame)
        else:  # SIGINT ignored (a background job): interrupt directly
            raise KeyboardInterrupt


def config_snippet(stack: DemoStack) -> str:
    """TOML for the user's own config file, to point `zeta` at the running demo's servers.

    Prometheus and Alertmanager only: the logs, traces and usage live in the demo's embedded
    store, which one process at a time can open (the demo's own console has them).
    """
    toml = (
        f'[contexts.{DEMO_CONTEXT}]\nproduction = false\nrefresh_seconds = 10\nnamespace = "{stack.world.namespace}"\n'
        f'[contexts.{DEMO_CONTEXT}.prometheus]\nurl = "{stack.prometheus_url}"\n'
    )
    if stack.alertmanager_url:
        toml += f'[contexts.{DEMO_CONTEXT}.alertmanager]\nurl = "{stack.alertmanager_url}"\n'
    return toml


def run_demo(args: argparse.Namespace) -> int:
    """Entry point of `zeta demo` (``args``: fresh, no_tui, config, context)."""
    stack = DemoStack(DemoPaths.default(), TeamZetaWorld(DEFAULT_SEED), fresh=bool(getattr(args, "fresh", False)))
    exit_signals = _ExitSignals()
    watched = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, exit_signals) for s in watched}
    atexit.register(stack.stop)
    try:
        from zeta_tui.launch import run_tui

        try:
            stack.start()
        except BinaryNotFound as exc:
            if getattr(args, "no_tui", False):
                raise
            # The console still opens; the panes that need Prometheus say what to install.
            stack.prepare()  # the store's lock and incident shift, as with Prometheus
            stack.start_stores()  # the world's logs, traces and usage need no binary
            missing = BackendUnavailable(
                f"the demo cannot start Prometheus: {exc.message}", hint=exc.hint, where="zeta demo"
            )
            user = _user_config(getattr(args, "config", None), stack.log)
            return run_tui(stack.config(user, with_prometheus=False), DEMO_CONTEXT, unavailable={"prometheus": missing})
        if getattr(args, "no_tui", False):
            return _serve_until_stopped(stack)

        unavailable = {"alertmanager": stack.alerting_missing} if stack.alerting_missing is not None else None
        status = run_tui(
            stack.config(_user_config(getattr(args, "config", None), stack.log)), DEMO_CONTEXT, unavailable=unavailable
        )
        # Textual may absorb the cancellation and return normally: the signal still decides.
        return 128 + exit_signals.received if exit_signals.received else status
    except KeyboardInterrupt:
        return 128 + (exit_signals.received or signal.SIGINT)
    finally:
        # A second signal must not cut the clean-up short and leave Prometheus running.
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for s in watched:
            signal.signal(s, signal.SIG_IGN)
        try:
            stack.stop()
        finally:
            atexit.unregister(stack.stop)
            for s, handler in previous.items():
                signal.signal(s, handler)
            signal.signal(signal.SIGINT, interrupt)


def _user_config(cli_path: str | None, log: Callable[[str], None]) -> ZetaConfig | None:
    """The user's own config, for its theme and key bindings; the demo runs without it if it is broken."""
    from zeta_tui.config.loader import load_config
    from zeta_tui.config.paths import resolve_config_file

    path, _ = resolve_config_file(cli_path)
    try:
        return load_config(path, missing_ok=True)
    except ZetaError as exc:
        log(f"not using the theme and keys of {path}: {exc.message}")
        return None


def _serve_until_stopped(stack: DemoStack) -> int:
    print(f"Zeta demo is running (pid {os.getpid()}).", flush=True)
    print(f"  prometheus: {stack.prometheus_url}", flush=True)
    assert stack.exporter is not None
    print(f"  world exporter: {stack.exporter.url}", flush=True)
    if stack.alertmanager_url:
        print(f"  alertmanager: {stack.alertmanager_url}", flush=True)
    if stack.alert_sink is not None:
        print(f"  alert notifications: {stack.alert_sink.path}", flush=True)
    print(f"  history: {stack.paths.tsdb}", flush=True)
    print("Add this to your config (zeta config path) to use it with `zeta --context demo`:\n", flush=True)
    print(config_snippet(stack), flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    while True:
        prometheus = stack.prometheus
        if prometheus is None or prometheus.process is None or prometheus.process.poll() is not None:
            print(f"prometheus exited: {prometheus.tail_log() if prometheus else ''}", file=sys.stderr, flush=True)
            return 1
        time.sleep(1.0)
