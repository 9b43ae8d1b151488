"""The linters, run as tests so that the one test command (README) also keeps the code clean:
ruff over everything we ship and test, mypy (strict, configured in pyproject.toml) over the
product and its sandbox."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing_in_the_product_and_its_sandbox() -> None:
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("mypy is not installed: pip install -e '.[test]'")
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr
