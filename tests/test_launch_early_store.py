"""`zeta --screen tenants` opens the context's embedded store in a thread before Textual is
imported (launch.open_analytics_store_early). Run in a child process each: a process holds one
chdb store, and the test process may hold another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import argparse, json, sys
from zeta_tui.launch import open_analytics_store_early
from zeta_tui.backends import chdb_store
args = argparse.Namespace(config=sys.argv[1], context=None, screen=sys.argv[2])
thread = open_analytics_store_early(args)
if thread is not None:
    thread.join(60)
print(json.dumps({"thread": thread is not None, "open": sorted(chdb_store._sessions),
                  "textual": "textual" in sys.modules}))
"""


def _run(config: Path, screen: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(config), screen], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_store_is_open_before_the_console_is_loaded(tmp_path) -> None:
    store = tmp_path / "store"
    config = tmp_path / "config.toml"
    config.write_text(f'default_context = "a"\n[contexts.a]\n[contexts.a.clickhouse]\npath = "{store}"\n')
    store.mkdir()
    assert _run(config, "tenants") == {"thread": True, "open": [str(store.resolve())], "textual": False}
    # Other first screens leave it to the console (it opens the store in the background later).
    assert _run(config, "health") == {"thread": False, "open": [], "textual": False}


def test_what_cannot_be_opened_is_left_to_the_screen(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'default_context = "a"\n[contexts.a]\n[contexts.a.clickhouse]\npath = "{tmp_path / "missing"}"\n')
    assert _run(config, "cost") == {"thread": True, "open": [], "textual": False}  # no store there: nothing raised
    broken = tmp_path / "broken.toml"
    broken.write_text("default_context = \n")
    assert _run(broken, "sql") == {"thread": True, "open": [], "textual": False}
