"""No view is over 25 lines (decorators, signature and docstring included), except one whose
reason is written beside it: a comment saying it is "longer because …" on the line above its
decorators, or on its ``def`` line or the line after it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "deltager"
LIMIT = 25
REASON = "longer because"


def _is_view(function: ast.FunctionDef) -> bool:
    """A function decorated with a blueprint's route (``@bp.route``, ``@bp.get``, ``@bp.post``, …)."""
    for decorator in function.decorator_list:
        call = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name) and call.value.id == "bp":
            return True
    return False


def long_views(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """The views in ``path`` over the limit without a reason beside them, as "file:line name (n lines)"."""
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef) or not _is_view(node):
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        length = node.end_lineno - first + 1  # type: ignore[operator]
        beside = lines[max(first - 2, 0):node.lineno + 1]
        if length > LIMIT and not any(REASON in line for line in beside):
            found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_view_is_over_25_lines_without_a_reason() -> None:
    too_long = [entry for path in sorted(PACKAGE.glob("*/views.py")) for entry in long_views(path)]
    assert not too_long, "views over 25 lines (shorten, or say why: '# longer because …'):\n" + "\n".join(too_long)


def test_the_check_sees_a_long_view(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(30))
    (tmp_path / "views.py").write_text(f"@bp.get('/')\ndef long() -> None:\n{body}\n")
    assert long_views(tmp_path / "views.py", tmp_path) == ["views.py:2 long (32 lines)"]
    (tmp_path / "views.py").write_text(f"# longer because it must\n@bp.get('/')\ndef long() -> None:\n{body}\n")
    assert long_views(tmp_path / "views.py", tmp_path) == []
