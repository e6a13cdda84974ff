"""The import graph of ``deltager``: no cycle, the road above the domains, and no domain reaching
into another domain's views.

Module-level imports make the graph (an import inside a function or under ``TYPE_CHECKING`` runs
late, or never); the rule about views holds for every import, wherever it is written. The app
factory (``deltager/__init__.py``) registers every blueprint, so it may import every view module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "deltager"
FILES = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]
DOMAINS = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} - {"migrations", "allocation", "pdf"}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p) for p in FILES}


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # "from deltager import road" imports the module deltager.road; "from deltager.db import utcnow"
    # imports deltager.db
    return [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in MODULES else prefix for alias in node.names]


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(modules imported at module level, every module imported anywhere) by one file."""
    module, tree = _name(path), ast.parse(path.read_text())
    top: set[str] = set()
    anywhere: set[str] = set()

    def visit(node: ast.AST, at_top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                names = _resolve(module, child)
            names = [n for n in names if n.startswith("deltager")]
            anywhere.update(names)
            if at_top:
                top.update(names)
            lazy = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
            visit(child, at_top and not lazy)

    visit(tree, True)
    return top, anywhere


def _graph() -> dict[str, tuple[set[str], set[str]]]:
    graph = {}
    for path in FILES:
        top, anywhere = _imports(path)
        graph[_name(path)] = ({m for m in top if m in MODULES} - {_name(path)}, {m for m in anywhere if m in MODULES})
    return graph


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in DOMAINS else None


def test_no_import_cycle() -> None:
    cycle = _cycle({module: top for module, (top, _anywhere) in _graph().items()})
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_no_domain_imports_another_domains_views() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, (_top, anywhere) in _graph().items() if _domain(module)
        for target in anywhere
        if target.endswith(".views") and _domain(target) and _domain(target) != _domain(module)
    )
    assert not wrong, "\n".join(wrong)


def test_the_road_sits_above_the_domains() -> None:
    """The road calls the domains' services; no service, model or form calls the road back, and the
    road imports no views."""
    graph = _graph()
    below = sorted(
        module for module, (_top, anywhere) in graph.items()
        if _domain(module) and module.rsplit(".", 1)[-1] in {"services", "models", "forms", "labels"}
        and "deltager.road" in anywhere
    )
    assert not below, f"these import deltager.road, which sits above them: {below}"
    assert not [m for m in graph["deltager.road"][1] if m.endswith(".views")]


def test_the_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
