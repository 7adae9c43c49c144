"""themes/ and queries/ ship inside the wheel and are found from a wheel and from the source tree.

The wheel is built once per session, installed with its dependencies into a fresh venv, and the
installed `zeta` is run from a directory outside the repo, so nothing can fall back to the
checkout by accident (``python -c`` puts the working directory on sys.path).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

import zeta_tui
from zeta_tui.resources import shipped_dir

REPO = Path(__file__).resolve().parents[1]

# pip says one of these when it cannot reach an index; only then do we fall back to the
# system site-packages for the dependencies.
_OFFLINE_SIGNS = (
    "No matching distribution found",
    "NewConnectionError",
    "Could not fetch URL",
    "Temporary failure in name resolution",
)


@dataclass(frozen=True)
class InstalledWheel:
    wheel: Path
    venv: Path
    bin: Path
    workdir: Path  # outside the repo; commands run here
    env: dict[str, str]
    used_system_site_packages: bool

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=timeout)


def _run(argv: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return (
        f"$ {' '.join(map(str, proc.args))}\nexit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- "
        f"stderr\n{proc.stderr[-4000:]}"
    )


def _build_wheel(outdir: Path) -> Path:
    """Isolated build first (what a user gets); without isolation if the build env cannot be made."""
    attempts = []
    for extra in ([], ["--no-isolation"]):
        proc = _run([sys.executable, "-m", "build", "--wheel", *extra, "--outdir", str(outdir), str(REPO)], timeout=120)
        attempts.append(proc)
        wheels = sorted(outdir.glob("zeta_tui-*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[-1]
    pytest.fail("building the wheel failed:\n" + "\n\n".join(_explain(p) for p in attempts), pytrace=False)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ZETA_", "VIRTUAL_ENV", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    root = tmp_path_factory.mktemp("packaging")
    wheel = _build_wheel(root / "dist")
    workdir = root / "work"
    workdir.mkdir()
    env = _clean_env(root / "home")
    # pip keeps the user's pip config and cache (a fresh HOME would download everything again).
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    pip_cmd = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)]

    target = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    proc = _run([str(target / "bin" / "python"), *pip_cmd], timeout=180, cwd=workdir, env=pip_env)
    system_site = False
    if proc.returncode != 0 and any(sign in proc.stderr for sign in _OFFLINE_SIGNS):
        # No index reachable: the dependencies come from the system, zeta itself from the wheel.
        system_site = True
        venv.EnvBuilder(with_pip=True, clear=True, system_site_packages=True).create(target)
        proc = _run([str(target / "bin" / "python"), *pip_cmd, "--no-deps"], timeout=120, cwd=workdir, env=pip_env)
    assert proc.returncode == 0, "installing the wheel failed:\n" + _explain(proc)
    return InstalledWheel(wheel, target, target / "bin", workdir, env, system_site)


@pytest.fixture(scope="module")
def installed_layout(installed: InstalledWheel) -> dict[str, Path]:
    """Where the venv's interpreter finds zeta_tui, its site-packages and the shipped folders."""
    script = (
        "import sysconfig, zeta_tui, zeta_tui.app\n"
        "from zeta_tui.resources import shipped_dir\n"
        "print('purelib', sysconfig.get_paths()['purelib'])\n"
        "print('package', zeta_tui.__file__)\n"
        "print('queries', shipped_dir('queries'))\n"
        "print('themes', shipped_dir('themes'))\n"
        "print('css', zeta_tui.app.ZetaApp.CSS_PATH)\n"
        "print('screens_css', zeta_tui.app.ZetaApp.SCREENS_CSS)\n"
    )
    proc = installed.run(str(installed.bin / "python"), "-c", script)
    assert proc.returncode == 0, _explain(proc)
    layout = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    return {k: Path(v) for k, v in layout.items()}


def _write_config(directory: Path, body: str) -> Path:
    path = directory / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


VALID_CONFIG = """\
default_context = "local"

[contexts.local]
refresh_seconds = 10

[contexts.local.prometheus]
url = "http://127.0.0.1:9090"
"""


@pytest.mark.slow
def test_installed_zeta_reports_the_package_version(installed: InstalledWheel) -> None:
    proc = installed.run(str(installed.bin / "zeta"), "--version")
    assert proc.returncode == 0, _explain(proc)
    assert proc.stdout.strip() == f"zeta {zeta_tui.__version__}", _explain(proc)


@pytest.mark.slow
def test_installed_zeta_validates_a_good_config(installed: InstalledWheel, tmp_path: Path) -> None:
    config = _write_config(tmp_path, VALID_CONFIG)
    proc = installed.run(str(installed.bin / "zeta"), "config", "validate", "--config", str(config))
    assert proc.returncode == 0, _explain(proc)


@pytest.mark.slow
def test_installed_zeta_rejects_a_bad_config_naming_file_and_field(installed: InstalledWheel, tmp_path: Path) -> None:
    # The same file with a misspelt key: proves `validate` really read and checked the file.
    config = _write_config(tmp_path, VALID_CONFIG.replace("refresh_seconds", "refresh_secnods"))
    proc = installed.run(str(installed.bin / "zeta"), "config", "validate", "--config", str(config))
    assert proc.returncode == 2, _explain(proc)
    assert str(config) in proc.stderr, _explain(proc)
    assert "contexts.local.refresh_secnods" in proc.stderr, _explain(proc)


@pytest.mark.slow
def test_installed_package_is_the_wheel_not_the_checkout(
    installed: InstalledWheel, installed_layout: dict[str, Path]
) -> None:
    purelib = installed_layout["purelib"]
    assert purelib.is_relative_to(installed.venv), installed_layout
    assert installed_layout["package"].is_relative_to(purelib), installed_layout
    # The data folders live inside the package, not loose at the top of site-packages.
    assert not (purelib / "queries").exists() and not (purelib / "themes").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "pattern"), [("queries", "promql/*.promql"), ("themes", "*")])
def test_installed_package_finds_its_shipped_folder(installed_layout: dict[str, Path], name: str, pattern: str) -> None:
    found = installed_layout[name]
    assert found == installed_layout["package"].parent / "_data" / name, installed_layout
    shipped = sorted(p.relative_to(found).as_posix() for p in found.glob(pattern) if p.is_file())
    in_repo = sorted(p.relative_to(REPO / name).as_posix() for p in (REPO / name).glob(pattern) if p.is_file())
    assert in_repo, f"the repo has no {name}/{pattern}"
    assert shipped == in_repo


@pytest.mark.slow
def test_installed_app_loads_its_stylesheet_from_the_wheel(installed_layout: dict[str, Path]) -> None:
    for key, name in (("css", "zeta.tcss"), ("screens_css", "screens.tcss")):
        css = installed_layout[key]
        assert css == installed_layout["themes"] / name
        assert css.read_text(encoding="utf-8") == (REPO / "themes" / name).read_text(encoding="utf-8")


def test_source_checkout_uses_the_top_level_folders() -> None:
    # Run from the checkout (editable install or PYTHONPATH): no _data/ copy, the repo's own folders.
    assert Path(zeta_tui.__file__).resolve().parent == REPO / "zeta_tui", (
        "the tests must import the checkout's zeta_tui"
    )
    assert not (REPO / "zeta_tui" / "_data").exists(), "zeta_tui/_data is a build artefact; remove it from the checkout"
    assert shipped_dir("queries") == REPO / "queries"
    assert shipped_dir("themes") == REPO / "themes"
    assert sorted((REPO / "queries" / "promql").glob("*.promql"))
    assert (REPO / "themes" / "zeta.tcss").is_file()
    assert (REPO / "themes" / "screens.tcss").is_file()


def test_a_missing_folder_is_reported_with_what_to_do() -> None:
    with pytest.raises(FileNotFoundError, match="reinstall"):
        shipped_dir("no-such-folder")
