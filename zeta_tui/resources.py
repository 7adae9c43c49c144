"""Find the shipped themes/ and queries/ folders.

In a wheel they are force-included as zeta_tui/_data/{themes,queries}; in a source checkout or
an editable install they are the top-level folders next to zeta_tui/.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def shipped_dir(name: str) -> Path:
    """Path of the shipped folder ``name`` ("themes" or "queries")."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"zeta is installed without its {name}/ folder (looked in {_PACKAGE / '_data'} and {_PACKAGE.parent}); "
        "reinstall the package"
    )
