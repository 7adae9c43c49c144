"""The import-linter contracts in pyproject.toml ([tool.importlinter]) hold for the code.

Data flows one way (cli -> app -> screens -> widgets/backends -> querying -> config -> models),
widgets do no I/O, and models, config, querying and backends are free of Textual.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    # The one installed next to this interpreter (the project venv), else whatever is on PATH.
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed; install the test extra: pip install -e '.[test]'", pytrace=False)
    return found


def test_pyproject_declares_the_contracts() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert config["root_package"] == "zeta_tui"
    kinds = sorted(c["type"] for c in config["contracts"])
    assert kinds == ["forbidden", "forbidden", "layers"], kinds


def test_import_contracts_are_kept() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)  # grimp finds zeta_tui in the checkout
    proc = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"lint-imports exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert "0 broken" in proc.stdout, proc.stdout
