"""The product package type-checks: `mypy` is part of the suite, not a reviewer's habit.

The contract between the engine and flows (``engine/flows.py``) is a typed Protocol; a flow
that drifts from it, or a caller that passes the wrong thing, fails here.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean_on_the_product_package(tmp_path: Path) -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed in this environment")
    result = subprocess.run(
        [mypy, "--ignore-missing-imports", "shopodoo_console"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
