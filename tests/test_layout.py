"""The package layout (issue 24), checked on the import statements themselves (parsed with `ast`,
including the imports inside functions, so a cycle hidden behind a lazy import fails as well):

- subpackages along the data flow: each may import only the subpackages before it (`ALLOWED`);
- no import cycle anywhere in `ser_bnn/`;
- `ser_bnn.runtime` never reaches TensorFlow (or Keras, Larq, LCE's converter) nor `ser_bnn.export`,
  through any chain of imports;
- no module over 400 lines and no function over 80 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ser_bnn

PACKAGE = Path(ser_bnn.__file__).resolve().parent
HEAVY = ("tensorflow", "tf_keras", "keras", "larq", "larq_compute_engine")

# The data flow: audio -> features -> segments -> model -> posteriors -> decision. "base" is the
# top-level modules every layer may use (config, errors, recipes, atomic writes).
BASE = "base"
ALLOWED: dict[str, set[str]] = {
    BASE: {BASE},
    "dsp": {BASE, "dsp"},
    "nn": {BASE, "dsp", "nn"},
    "data": {BASE, "dsp", "nn", "data"},
    "training": {BASE, "dsp", "nn", "data", "training"},
    "runtime": {BASE, "dsp", "data", "runtime"},
    "export": {BASE, "dsp", "nn", "data", "training", "runtime", "export"},
    "commands": {BASE, "dsp", "nn", "data", "training", "runtime", "export", "commands"},
}
SUBPACKAGES = set(ALLOWED) - {BASE}


def module_files(root: Path = PACKAGE) -> dict[str, Path]:
    """{dotted module name: file} of every module of the package under `root`."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_of(module: str, path: Path, modules: set[str]) -> set[str]:
    """Every module `module` imports, at any depth of its code: package modules by their full name
    (`from pkg import sub` is the module `pkg.sub` when that is one), others by their top-level name."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.add(alias.name if alias.name in modules else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base not in modules:
                out.add(base.split(".")[0])
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in modules else base)
    out.discard(module)
    return out


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = module_files(root)
    return {m: imports_of(m, p, set(files)) for m, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else BASE


GRAPH = import_graph()


def test_the_graph_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The checks below can fail: a cycle hidden behind an import inside a function is found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import a\n    import tensorflow as tf\n")
    (pkg / "c.py").write_text("from . import b\n")
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.a", "tensorflow"} and graph["pkg.c"] == {"pkg.b"}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    assert "tensorflow" in reachable(graph, "pkg.c")


def test_every_module_is_in_a_known_place() -> None:
    top = {m for m in GRAPH if layer(m) == BASE}
    assert top == {
        "ser_bnn", "ser_bnn.atomic", "ser_bnn.cli", "ser_bnn.config", "ser_bnn.errors", "ser_bnn.recipes",
        "ser_bnn.pretrained",  # the bundled model's files and their locator (package data)
    }  # fmt: skip
    assert {layer(m) for m in GRAPH} == set(ALLOWED)


def test_no_import_cycle() -> None:
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("sub", sorted(SUBPACKAGES))
def test_subpackages_import_only_what_comes_before_them(sub: str) -> None:
    wrong = [
        f"{m} imports {w}"
        for m, deps in GRAPH.items()
        if layer(m) == sub
        for w in sorted(deps)
        if w.startswith("ser_bnn.") and layer(w) not in ALLOWED[sub]
    ]
    assert wrong == []


def test_base_modules_import_no_subpackage_except_the_cli() -> None:
    wrong = [
        f"{m} imports {w}"
        for m, deps in GRAPH.items()
        if layer(m) == BASE and m != "ser_bnn.cli"
        for w in deps
        if w.startswith("ser_bnn.") and layer(w) != BASE
    ]
    assert wrong == []


def test_runtime_never_reaches_tensorflow_or_the_exporter() -> None:
    runtime = [m for m in GRAPH if layer(m) == "runtime"]
    assert "ser_bnn.runtime.predict" in runtime and "ser_bnn.runtime.tracker" in runtime
    for m in runtime:
        seen = reachable(GRAPH, m)
        assert not seen & set(HEAVY), f"{m} reaches {sorted(seen & set(HEAVY))}"
        assert not [w for w in seen if w.startswith("ser_bnn.export")], m
    # `ser-bnn predict` itself: the command module and everything it reaches
    seen = reachable(GRAPH, "ser_bnn.commands.predict")
    assert not seen & set(HEAVY) and not [w for w in seen if w.startswith("ser_bnn.export")]


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def oversized(root: Path = PACKAGE) -> dict[str, int]:
    """{module or module.qualified.function: lines} of every module over MAX_MODULE_LINES lines and every
    function (decorators included, nested ones on their own) over MAX_FUNCTION_LINES."""
    out: dict[str, int] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}"
                if not isinstance(child, ast.ClassDef):
                    start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                    if child.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                        out[name] = child.end_lineno - start + 1
                walk(child, name)

    for module, path in module_files(root).items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            out[module] = len(text.splitlines())
        walk(ast.parse(text), module)
    return out


def test_the_size_check_finds_long_functions(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    body = "".join(f"        x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (pkg / "m.py").write_text(f"class C:\n    def short(self):\n        pass\n\n    def long(self):\n{body}")
    (pkg / "big.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert oversized(pkg) == {"pkg.m.C.long": MAX_FUNCTION_LINES + 1, "pkg.big": MAX_MODULE_LINES + 1}


def test_no_module_over_400_lines_and_no_function_over_80() -> None:
    assert oversized() == {}
