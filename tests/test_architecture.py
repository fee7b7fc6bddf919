"""The repository's shape: no import cycle, imports at the top of modules (deferred ones say why),
viewer scripts under 1,000 lines, docs/architecture.md naming every package, and no citation of
documents that are not in the repository."""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

from reportgen.render.assets import RUN_SCRIPTS, SITE_SCRIPTS, TABLE_SCRIPTS, VIEWER_SCRIPTS, script_files

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reportgen"
ASSETS = ROOT / "templates" / "assets" / "reportgen"


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    """reportgen module -> reportgen modules it imports, at the top or inside functions."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in paths:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (plain depth-first search)."""
    reach = {}
    for start in graph:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[start] = seen
    components = []
    for module in graph:
        component = {other for other in reach[module] if module in reach[other]} | {module}
        if len(component) > 1 and component not in components:
            components.append(component)
    return components


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_planning_render_and_the_up_to_date_check_never_import_the_orchestrator():
    graph = import_graph()
    importers = sorted(name for name, targets in graph.items() if "reportgen.pipeline" in targets)
    assert [name for name in importers if name.startswith(("reportgen.render", "reportgen.plan", "reportgen.incremental",
                                                          "reportgen.analysis"))] == []


def test_imports_inside_functions_say_why_they_are_deferred():
    undeclared = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)) and "# deferred" not in lines[inner.lineno - 1]:
                        undeclared.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {lines[inner.lineno - 1].strip()}")
    assert undeclared == []


def test_architecture_document_names_every_package():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(packages) >= 7
    missing = [name for name in packages if f"`reportgen.{name}`" not in text]
    assert missing == []
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.name.startswith("__"))
    assert [name for name in modules if f"`{name}`" not in text] == []


def test_viewer_scripts_are_listed_and_short():
    scripts = {p.relative_to(ASSETS).as_posix(): p for p in ASSETS.rglob("*.js")}
    assert set(scripts) == set(VIEWER_SCRIPTS) | set(RUN_SCRIPTS) | set(TABLE_SCRIPTS) | set(SITE_SCRIPTS)
    assert script_files(VIEWER_SCRIPTS) == [scripts[name] for name in VIEWER_SCRIPTS]
    long = {name: n for name, p in scripts.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 1000}
    assert long == {}


def test_no_citation_of_documents_outside_the_repository():
    pattern = re.compile(r"design\.md|\bissue #?\d+|\bissues? \d+(, item \d+)?", re.I)
    found = []
    for folder in ("reportgen", "templates", "tests", "bench", "docs", "examples", ".ci", ".github"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".js", ".md", ".j2", ".yaml", ".yml", ".sh", ".css", ".txt"} and "artifacts" not in path.parts:
                for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                    if pattern.search(line) and path != Path(__file__):
                        found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    for name in ("README.md", "DEVELOPERS.md"):
        found += [f"{name}: {line}" for line in (ROOT / name).read_text(encoding="utf-8").splitlines() if pattern.search(line)]
    assert found == []


def analysis_functions_used(paths, package: str = "reportgen.render") -> list[str]:
    """Functions and modules of ``reportgen.analysis`` that the files (modules of ``package``) import;
    types and constants pass. Relative imports are resolved against ``package``."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join(parts + ([module] if module else []))
                if module in ("reportgen", ""):
                    found += [f"{Path(path).name}: {module}.{a.name}" for a in node.names if a.name == "analysis"]
                    continue
                if not module.startswith("reportgen.analysis"):
                    continue
                owner = importlib.import_module(module)
                for alias in node.names:
                    value = getattr(owner, alias.name)
                    if inspect.ismodule(value) or (callable(value) and not inspect.isclass(value)):
                        found.append(f"{Path(path).name}: {module}.{alias.name}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("reportgen.analysis") for a in node.names):
                found.append(f"{Path(path).name}: import {', '.join(a.name for a in node.names)}")
    return found


def test_render_calls_no_analysis_function():
    """Pages only format the build's analysis: render may name analysis types and constants, never call
    an analysis function (that would compute on the way to a page)."""
    assert analysis_functions_used(sorted((PACKAGE / "render").rglob("*.py"))) == []


def test_the_render_check_catches_functions_and_modules(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from reportgen.analysis.compare import pooled\nfrom reportgen.analysis import claims\n"
                   "from reportgen.analysis.stage import SiteAnalysis, SCORE_KEYS\n"
                   "from ..analysis.atlas import rank_grid\nfrom reportgen import analysis\nimport reportgen.analysis.stage\n",
                   encoding="utf-8")
    assert analysis_functions_used([bad]) == ["bad.py: reportgen.analysis.compare.pooled",
                                              "bad.py: reportgen.analysis.claims",
                                              "bad.py: reportgen.analysis.atlas.rank_grid",
                                              "bad.py: reportgen.analysis",
                                              "bad.py: import reportgen.analysis.stage"]


def test_the_atlas_maps_are_the_analysis_score_keys_in_order():
    from reportgen.analysis.stage import SCORE_KEYS
    from reportgen.render.atlas import MAPS

    assert tuple(MAPS) == SCORE_KEYS


def test_the_tests_reference_is_independent_of_the_analysis():
    """tests/reference.py is the independent check of the batched analysis: it imports no reportgen.analysis."""
    tree = ast.parse((ROOT / "tests" / "reference.py").read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert [name for name in imported if name.startswith("reportgen.analysis") or name == "reportgen"] == []
