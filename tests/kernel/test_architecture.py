"""The layers stay honest: no import cycle inside the package, the kernel core imports nothing of the widget, and the
core's sub-packages import only those below them. Every import counts, also those inside functions (a lazy import is
still a dependency). Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import lstm_widget

PACKAGE = Path(lstm_widget.__file__).resolve().parent
ROOT = "lstm_widget"

#: What each core sub-package may import inside the package (besides itself). ``validate`` and ``files`` (atomic
#: writes) are the bottom.
CORE_LAYERS = {
    "validate": set(),
    "files": set(),
    "model": {"validate"},
    "importers": {"model", "validate"},
    "recording": {"model", "validate", "files"},
    "analysis": {"recording", "model", "validate"},
    "projection": {"recording", "model", "validate"},
    "vision": {"recording", "validate"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module → the package's modules it imports (a name imported from a package counts as that submodule when it
    is one, else as the package)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `import lstm_widget._core.model.gates` etc.
                    target = target.rpartition(".")[0]
                if target.startswith(ROOT) and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_inside_the_package():
    modules = _modules()
    graph = _imports(modules)
    assert _cycles(graph) == []


def test_the_kernel_core_imports_nothing_of_the_widget():
    graph = _imports(_modules())
    core = f"{ROOT}._core"
    wrong = {m: sorted(t for t in ts if not t.startswith(core)) for m, ts in graph.items() if m.startswith(core)}
    assert {m: ts for m, ts in wrong.items() if ts} == {}


def _layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports from one core sub-package to another that ``CORE_LAYERS`` does not allow."""
    core = f"{ROOT}._core."
    wrong = []
    for m, targets in graph.items():
        if not m.startswith(core):
            continue
        layer = m[len(core) :].split(".")[0]
        for t in targets:
            if t.startswith(core):
                other = t[len(core) :].split(".")[0]
                if other != layer and other not in CORE_LAYERS[layer]:
                    wrong.append(f"{m} imports {t}")
    return wrong


def test_core_sub_packages_import_only_those_below_them():
    modules = _modules()
    core = f"{ROOT}._core."
    assert {n.split(".")[2] for n in modules if n.startswith(core)} == set(CORE_LAYERS)
    assert _layer_violations(_imports(modules)) == []


def test_the_checks_see_a_cycle_and_a_wrong_layer():
    """The walk itself works: a made-up cycle and a made-up upward import are found, and the real graph has edges."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    model, analysis = f"{ROOT}._core.model.run", f"{ROOT}._core.analysis.ranking"
    assert _layer_violations({model: {analysis}, analysis: {model}}) == [f"{model} imports {analysis}"]
    graph = _imports(_modules())
    assert f"{ROOT}._core.model.adapters" in graph[f"{ROOT}._core.recording.recorder"]
    explorer = graph[f"{ROOT}._widget.explorer"]
    assert any(t.startswith(f"{ROOT}._core.recording") for t in explorer) and f"{ROOT}._widget.sync" in explorer


def test_dir_lists_the_public_api_and_every_name_resolves():
    import lstm_widget as lw

    names = dir(lw)
    assert names == sorted(lw.__all__) and len(set(names)) == len(names)
    assert {"record", "Stepper", "Explorer", "GATE_ORDER", "PAGE_BYTES_LIMIT", "datasets"} <= set(names)
    assert not [n for n in names if n.startswith("_") and n != "__version__"]
    for name in names:
        assert getattr(lw, name) is not None, name
