"""The package's layering: no import runs back up a layer, and no import circle.

Every module of `densepose_ext` belongs to a part: its top-level subpackage (`apply`, `vis`, ...)
or, for a top-level module, that module (`config`); `<root>` is `densepose_ext/__init__.py`.
A part may import itself and the parts of lower layers, never a part of its own or a higher layer
(parts of one layer do not know each other). Imports inside functions count too: a lazy import
still ties the layers together. The order, bottom-up (from STYLE.md, with the parts added since):

0. utils          — files, registries, command-line plumbing; imports nothing of ours
1. structures     — typed results and annotations, the dump record
2. converters     — conversions between the structures
3. model_catalog  — model-zoo config names, files and checkpoint URLs (no model code)
4. config         — the config schema; resolves zoo names through model_catalog
5. data           — datasets, meshes, bootstrap, the synthetic generator
6. modeling       — heads, losses, backbones, the fast inference path
7. <root>, model_zoo, evaluation, vis, export — users of the model and the data
8. engine         — trainer, predictors, inputs and output files of the tools
9. video          — tracking and temporal smoothing between the predictor and the writers
10. apply, query, teacher, texture — the tools; each stands on the layers below, not on another
11. app            — the web page, on top of apply's command-line pieces
"""

import ast
import functools
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set, Tuple

PACKAGE = Path(__file__).resolve().parents[1] / "densepose_ext"

LAYERS: List[Set[str]] = [
    {"utils"},
    {"structures"},
    {"converters"},
    {"model_catalog"},
    {"config"},
    {"data"},
    {"modeling"},
    {"<root>", "model_zoo", "evaluation", "vis", "export"},
    {"engine"},
    {"video"},
    {"apply", "query", "teacher", "texture"},
    {"app"},
]
LAYER_OF: Dict[str, int] = {part: n for n, parts in enumerate(LAYERS) for part in parts}


@functools.lru_cache(maxsize=1)
def _modules() -> Dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("densepose_ext",) + path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: Dict[str, Path]) -> Set[str]:
    """Modules of the package that `name` imports (at any depth of its code)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rsplit(".", 1)[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from a import b`: b is either the submodule a.b or a name defined in a
            candidates = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in modules:  # `import a.b.c` of a name: a.b
                candidate = candidate.rpartition(".")[0]
            if candidate.startswith("densepose_ext") and candidate != name:
                targets.add(candidate)
    return targets


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


@functools.lru_cache(maxsize=1)
def _graph() -> Dict[str, Set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_every_part_has_a_layer():
    parts = {_part(m) for m in _modules()}
    assert parts <= set(LAYER_OF), f"parts without a layer: {sorted(parts - set(LAYER_OF))}"


def test_no_import_runs_up_a_layer_or_sideways():
    wrong: List[str] = []
    for module, targets in sorted(_graph().items()):
        source = _part(module)
        for target in sorted(targets):
            dest = _part(target)
            if dest != source and LAYER_OF[dest] >= LAYER_OF[source]:
                wrong.append(
                    f"{module} (layer {LAYER_OF[source]}) imports {target} (layer {LAYER_OF[dest]})"
                )
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def _cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import circle of `graph` (as a path that ends where it starts), or []."""
    state: Dict[str, int] = defaultdict(int)  # 0 new, 1 on the current path, 2 done
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state[target] == 1:
                return path[path.index(target) :] + [target]
            if state[target] == 0:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if state[node] == 0:
            found = visit(node)
            if found:
                return found
    return []


def _without_package_reexports(graph: Dict[str, Set[str]]) -> Dict[str, Set[str]]:
    """A package's `__init__` importing its own submodules is how it re-exports them, not a
    dependency of theirs on it; a submodule importing its package's `__init__` still counts."""
    kept = {}
    for module, targets in graph.items():
        kept[module] = {t for t in targets if not t.startswith(module + ".")}
    return kept


def test_no_import_circle():
    cycle = _cycle(_without_package_reexports(_graph()))
    assert not cycle, "import circle: " + " -> ".join(cycle)


def test_the_checks_catch_what_they_look_for():
    """The graph walk finds a known edge, and the circle finder finds a planted circle."""
    graph = _graph()
    assert "densepose_ext.model_catalog" in graph["densepose_ext.config"]
    planted: Dict[str, Set[str]] = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(planted) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []
    edges: List[Tuple[str, str]] = [(m, t) for m, ts in graph.items() for t in ts]
    assert len(edges) > 100
