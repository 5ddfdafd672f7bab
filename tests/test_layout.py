"""The layout is the architecture (docs/architecture.md): the gateway and worker packages never import each other,
`rewardgym/` has no import circles, and the SDK imports with pydantic alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rewardgym"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every `rewardgym...` module imported anywhere in the file (lazy imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "rewardgym"}


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {target for target in imports_of(path) if target in modules and target != name}
    return graph


def area(module: str) -> str:
    """`server`, `worker`, or `` for the shared top level."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ("server", "worker")) else ""


def test_server_and_worker_never_import_each_other():
    crossings = [(name, target) for name, targets in import_graph().items() for target in targets
                 if {area(name), area(target)} == {"server", "worker"}]
    assert crossings == []


def test_no_import_circles_in_rewardgym():
    graph = import_graph()
    # A package's __init__ re-exporting its submodules is not a circle of dependencies between modules.
    graph = {name: {t for t in targets if not (t == "rewardgym" or name.startswith(t + "."))}
             for name, targets in graph.items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                circles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_sdk_imports_with_pydantic_alone(tmp_path):
    """`import rewardgym.sdk` (and the author-facing contract) on a path holding only pydantic and what it needs."""
    site = tmp_path / "site"
    site.mkdir()
    for dist_name in ("pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"):
        dist = distribution(dist_name)
        for top in (dist.read_text("top_level.txt") or "").split() or [dist_name]:
            for candidate in (Path(dist.locate_file(top)), Path(dist.locate_file(top + ".py"))):
                if candidate.exists():
                    (site / candidate.name).symlink_to(candidate)
    (site / "rewardgym").symlink_to(PACKAGE)
    code = ("import sys; sys.path[:0] = [sys.argv[1]]; "
            "import rewardgym, rewardgym.sdk, rewardgym.protocol, rewardgym.registry, rewardgym.checks; "
            "heavy = sorted(m for m in ('fastapi', 'uvicorn', 'httpx', 'starlette', 'prometheus_client') "
            "if m in sys.modules); assert not heavy, heavy; print('ok')")
    answer = subprocess.run([sys.executable, "-S", "-E", "-c", code, str(site)], capture_output=True, text=True,
                            cwd=tmp_path)
    assert answer.returncode == 0 and answer.stdout.strip() == "ok", answer.stderr
