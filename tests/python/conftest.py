"""Shared setup for the Python suites: find the stratbook binary and install its kernelspec into a
temporary prefix that JUPYTER_PATH points at, so jupyter_client, nbconvert and papermill start
this build's kernel (never a user-installed one).

The binary comes from $STRATBOOK_BIN, else $CARGO_TARGET_DIR/debug/stratbook, else
target/debug/stratbook in the repository.
"""

import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def stratbook_bin() -> pathlib.Path:
    if os.environ.get("STRATBOOK_BIN"):
        return pathlib.Path(os.environ["STRATBOOK_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")
    return pathlib.Path(target) / "debug" / "stratbook"


BIN = stratbook_bin()
_PREFIX = None
_INSTALL_ERROR = None


def pytest_configure(config):
    """Installs the kernelspec before any test class starts a kernel (setUpClass runs early)."""
    global _PREFIX, _INSTALL_ERROR
    if not BIN.exists():
        _INSTALL_ERROR = f"stratbook binary not found at {BIN}; run `cargo build -p stratbook` or set STRATBOOK_BIN"
        return
    _PREFIX = tempfile.mkdtemp(prefix="stratbook-kernelspec-")
    res = subprocess.run([str(BIN), "install", "--prefix", _PREFIX], capture_output=True, text=True)
    if res.returncode != 0:
        _INSTALL_ERROR = f"stratbook install failed: {res.stderr}"
        return
    data = os.path.join(_PREFIX, "share", "jupyter")
    rest = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = data + (os.pathsep + rest if rest else "")


def install_error():
    """Why the kernelspec could not be installed (None when it was)."""
    return _INSTALL_ERROR


def pytest_unconfigure(config):
    if _PREFIX:
        shutil.rmtree(_PREFIX, ignore_errors=True)


@pytest.fixture(scope="session")
def stratbook():
    """The path of the stratbook binary (fails the test with the fix when it is missing)."""
    if _INSTALL_ERROR:
        pytest.fail(_INSTALL_ERROR)
    return BIN


@pytest.fixture(scope="session")
def kernelspec_dir(stratbook):
    return pathlib.Path(_PREFIX) / "share" / "jupyter" / "kernels" / "stratbook"


def notebook_paths():
    """The notebooks every executor must run: tests/notebooks and the gallery in notebooks/."""
    found = sorted((ROOT / "tests" / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]
