"""The shape of the code base, checked: what may import what.

The product (``bridge``, ``webhooks``) never imports the sandbox (simulators, the faithful
WooCommerce sender, sample orders), the tests or the benchmarks -- those are stand-ins for the
world around it and ship beside it, not inside it. Imports inside functions count too.

No import cycle among the modules of ``bridge``, ``webhooks`` and ``sandbox``: modules that
import each other (even inside functions) work only in some import orders and cannot be
understood one at a time. A package importing its own submodules (to re-export them) is not
a cycle of substance and is left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bridge", "webhooks")
NOT_FOR_THE_PRODUCT = ("sandbox", "tests", "bench")


def modules(*packages: str, root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
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


# --- import cycles ---------------------------------------------------------------------------


def imported_modules(path: Path, module: str, known: set[str]) -> Iterator[str]:
    """The known modules ``path`` (module ``module``) imports, anywhere in it: ``from a import
    b`` names module ``a.b`` if there is one, else ``a``; a name that is no known module
    counts as its longest known prefix; relative imports are resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, *([base] if base else [])])
            candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                          for alias in node.names]
        else:
            continue
        for name in candidates:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                yield name


def import_graph(*packages: str, root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the modules it imports, without its own submodules when it is a package."""
    paths = dict(modules(*packages, root=root))
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        is_package = path.name == "__init__.py"
        graph[module] = {target for target in imported_modules(path, module, known)
                         if target != module
                         and not (is_package and target.startswith(module + "."))}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_there_is_no_import_cycle() -> None:
    graph = import_graph(*PRODUCT, "sandbox")
    assert len(graph) > 100  # the walk found the code base
    found = cycles(graph)
    assert found == [], "\n".join(
        " -> ".join(component) + "\n  " + "\n  ".join(
            f"{a} imports {b}" for a in component for b in sorted(graph[a]) if b in component)
        for component in found)


def test_the_cycle_check_sees_imports_in_functions_and_ignores_re_exports(
        tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "from app.web import create\n",          # a re-export: no cycle
        "app/web/__init__.py": "from app.web.factory import create\n",
        "app/web/factory.py": "def create():\n    from app.views import bp\n",
        "app/web/runtime.py": "",
        "app/views.py": "from .web import runtime\n",
        "app/loop.py": "def run():\n    from app import worker\n",
        "app/worker.py": "from app.loop import run\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph("app", root=tmp_path)
    assert graph["app.views"] == {"app.web.runtime"}  # relative, resolved to the module
    assert graph["app.web.factory"] == {"app.views"}  # inside a function
    assert graph["app"] == set() and graph["app.web"] == set()
    assert cycles(graph) == [["app.loop", "app.worker"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c"]]
