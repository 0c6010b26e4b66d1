"""The house's design, checked from the import graph (README "Layout").

    orchestration -> outputs -> engine -> inputs -> scoring (the package root: version, Refusal)

Arrows point one way; there is no import cycle; an import inside a function carries its reason in
a comment; the synthetic-data generator (`scoring_synthetic`) is a tool beside the product that no
product module imports, except the `scoring generate` command.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
FLOORS = {"scoring": 0, "scoring.inputs": 1, "scoring.engine": 2, "scoring.outputs": 3,
          "scoring.orchestration": 4, "scoring.__main__": 4}
GENERATOR = "scoring_synthetic"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import of our own packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(node) if n is not node}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path}:{node.lineno}: relative import; write the full module path")
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            # "from scoring.engine import grade" imports the module scoring.engine.grade
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                       for a in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target.split(".")[0] in ("scoring", GENERATOR) or id(node) in inside:
                found.append((target, node.lineno, id(node) in inside))
    return found


def floor(module: str) -> int | None:
    for prefix, level in sorted(FLOORS.items(), key=lambda item: -len(item[0])):
        if module == prefix or module.startswith(prefix + "."):
            return level
    return None


def graph() -> dict[str, set[str]]:
    return {name: {m for m, _, _ in imports(path) if m in MODULES and m != name}
            for name, path in MODULES.items()}


def test_there_is_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_imports_point_down_the_floors():
    upward = []
    for name, path in MODULES.items():
        own = floor(name)
        if own is None:
            continue
        for target, line, _ in imports(path):
            other = floor(target)
            # a package's __init__ re-exports nothing here, so a module never needs its parent
            if other is not None and other > own:
                upward.append(f"{name}:{line} imports {target}")
    assert upward == []


def test_the_generator_is_beside_the_product():
    users = {name for name, path in MODULES.items() if not name.startswith(GENERATOR)
             for target, _, _ in imports(path) if target.startswith(GENERATOR)}
    assert users == {"scoring.orchestration.cli"}


def test_an_import_inside_a_function_says_why():
    silent = []
    for name, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, line, inside in imports(path):
            if not inside:
                continue
            # the reason: a comment on the import's line or on the lines just above it
            context = lines[max(0, line - 4):line]
            if not any("#" in text for text in context):
                silent.append(f"{name}:{line} ({target})")
    assert silent == []


def test_the_layout_is_as_the_readme_draws_it():
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert {"scoring.inputs", "scoring.engine", "scoring.outputs", "scoring.orchestration"} <= packages
    assert not [n for n in MODULES if n.count(".") == 1 and n.startswith("scoring.")
                and n.split(".")[1] not in {"inputs", "engine", "outputs", "orchestration",
                                            "notebooks", "refusal", "files", "__main__"}]
