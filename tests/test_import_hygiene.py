"""Start-up never imports the heavy client libraries; only the adapter that needs one does.

Checked in a fresh interpreter, because this test session has imported whatever other tests
needed. A finder at the front of sys.meta_path records every attempt to import a heavy module,
so an import that is tried (and, say, caught as ImportError because the library is not
installed here) counts as well as one that succeeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# elasticsearch ~0.45 s to import, clickhouse_connect ~0.2 s, chdb and pandas more (docs/design.md);
# httpx_ws and luqum belong to the log adapters only.
HEAVY = ("elasticsearch", "clickhouse_connect", "chdb", "pandas", "httpx_ws", "luqum")

# What `zeta` imports before the first frame: the CLI, the launcher and the app with its screens.
START_UP_MODULES = ("zeta_tui.cli", "zeta_tui.launch", "zeta_tui.app")

_PROBE = textwrap.dedent(
    """
    import importlib, json, sys

    watched = set(sys.argv[1].split(","))
    attempted = []

    class RecordHeavyImports:
        def find_spec(self, fullname, path=None, target=None):
            if fullname.partition(".")[0] in watched:
                attempted.append(fullname)
            return None  # let the real finders do the work

    sys.meta_path.insert(0, RecordHeavyImports())
    for name in sys.argv[2].split(","):
        importlib.import_module(name)
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in watched)
    print(json.dumps({"attempted": sorted(set(attempted)), "loaded": loaded}))
    """
)


def _probe(modules: tuple[str, ...], watched: tuple[str, ...], extra_path: Path | None = None) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (extra_path, REPO) if p is not None)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(watched), ",".join(modules)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"importing {modules} failed:\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def start_up_imports() -> dict[str, list[str]]:
    return _probe(START_UP_MODULES, HEAVY)


@pytest.mark.parametrize("heavy", HEAVY)
def test_start_up_does_not_import(start_up_imports: dict[str, list[str]], heavy: str) -> None:
    attempted = [m for m in start_up_imports["attempted"] if m.partition(".")[0] == heavy]
    loaded = [m for m in start_up_imports["loaded"] if m.partition(".")[0] == heavy]
    assert not attempted and not loaded, (
        f"importing {', '.join(START_UP_MODULES)} imports {heavy} ({attempted or loaded}); "
        "import it inside the adapter that needs it, at first use"
    )


# The console draws its first frame before it validates the config or talks HTTP, so the
# modules on that path must not pull in pydantic, httpx or plotext either.
FIRST_FRAME_DEFERRED = ("pydantic", "httpx", "plotext")


@pytest.mark.parametrize("deferred", FIRST_FRAME_DEFERRED)
def test_first_frame_path_defers(deferred: str) -> None:
    seen = _probe(("zeta_tui.cli", "zeta_tui.app"), (deferred,))
    assert not seen["loaded"], f"zeta_tui.app imports {deferred} before the first frame: {seen['loaded'][:3]}"


def test_the_probe_sees_an_import_that_does_happen() -> None:
    # The same probe, watching modules that must be imported: it has to report them,
    # or the tests above could never fail.
    seen = _probe(("zeta_tui.app", "zeta_tui.backends.prometheus"), ("textual", "httpx"))
    assert "textual.app" in seen["attempted"] and "textual.app" in seen["loaded"]
    assert "httpx" in seen["attempted"] and "httpx" in seen["loaded"]


def test_the_probe_sees_a_guarded_import_of_an_absent_library(tmp_path: Path) -> None:
    (tmp_path / "guarded_start.py").write_text(
        "try:\n    import no_such_heavy_library\nexcept ImportError:\n    pass\n"
    )
    seen = _probe(("guarded_start",), ("no_such_heavy_library",), extra_path=tmp_path)
    assert seen == {"attempted": ["no_such_heavy_library"], "loaded": []}
