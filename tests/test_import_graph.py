"""Domains plug in (issue 14): the core imports no business domain and no package imports back into one that
imports it (no cycles). The same counting as the project's import_graph tool: a unit is a package of app/, or a
module of app/ itself; the core is app/*.py, app/models, app/audit, app/auth and app/timeline."""
import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
CORE_PACKAGES = {"timeline", "models", "audit", "auth"}
# The application factory names the domains; the command line and the demo data drive them: these may import them.
WIRING = {"core:__init__", "core:cli", "core:demo", "core:demo_history", "core:demo_sales", "core:demo_scale"}


def _unit(path: Path) -> str:
    parts = path.relative_to(APP).parts
    return parts[0] if len(parts) > 1 else "core:" + parts[0].removesuffix(".py")


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        source = _unit(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != "app" or len(parts) < 2:
                    continue
                target = parts[1] if (APP / parts[1]).is_dir() else f"core:{parts[1]}"
                if ((APP / parts[1]).is_dir() or (APP / f"{parts[1]}.py").exists()) and target != source:
                    edges.setdefault(source, set()).add(target)
    return edges


def _domains() -> set[str]:
    return {p.name for p in APP.iterdir() if p.is_dir() and p.name not in CORE_PACKAGES | {"translations", "__pycache__"}}


def test_the_core_imports_no_domain():
    edges, domains = _edges(), _domains()
    core = {unit for unit in edges if unit.startswith("core:")} | CORE_PACKAGES
    found = sorted(f"{source} -> {target}" for source in core - WIRING for target in edges.get(source, ())
                   if target in domains)
    assert found == []


def test_no_import_cycles_between_packages():
    edges = _edges()
    seen, cycles = set(), []

    def visit(unit, path):
        for target in edges.get(unit, ()):
            if target in path:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in seen:
                visit(target, path + [target])
        seen.add(unit)

    for unit in list(edges):
        if unit not in seen:
            visit(unit, [unit])
    assert cycles == []


def test_every_domain_package_registers_through_a_plugin():
    """A new domain is a package with a plugin.py and one name in app.DOMAINS."""
    from app import DOMAINS

    assert sorted(DOMAINS) == sorted(_domains())
    assert all((APP / name / "plugin.py").exists() for name in DOMAINS)
