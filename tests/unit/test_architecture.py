"""The shape of the code base, checked: what may import what.

The product (``bridge``, ``webhooks``) never imports the sandbox (simulators, the faithful
WooCommerce sender, sample orders), the tests or the benchmarks -- those are stand-ins for the
world around it and ship beside it, not inside it. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bridge", "webhooks")
NOT_FOR_THE_PRODUCT = ("sandbox", "tests", "bench")


def modules(*packages: str) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def imported_names(path: Path) -> Iterator[str]:
    """Absolute names of every module an import statement in ``path`` names."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_the_product_never_imports_the_sandbox_tests_or_benchmarks() -> None:
    offending = [
        f"{module} imports {name}"
        for module, path in modules(*PRODUCT)
        for name in imported_names(path)
        if name.split(".")[0] in NOT_FOR_THE_PRODUCT
    ]
    assert offending == []


def test_the_product_holds_no_simulator() -> None:
    assert [module for module, _ in modules(*PRODUCT) if "simulator" in module] == []
