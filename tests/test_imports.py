"""Module boundaries: no private names across modules, no import cycles (read from the AST of src/workbook)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "workbook"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_package(name: str) -> bool:
    return (SRC / Path(*name.split(".")) / "__init__.py").exists()


def _exists(name: str) -> bool:
    return _is_package(name) or (SRC / Path(*name.split("."))).with_suffix(".py").exists()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (imports there never run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def parse_imports(source: str, module: str, is_package: bool = False):
    """``(imports, private_uses)`` of one module.

    ``imports`` is a list of ``(line, imported module, names)`` for every
    workbook import anywhere in the module (also inside functions: a lazy import
    still ties the modules together); ``private_uses`` lists ``(line, text)`` of
    private names taken from another workbook module.
    """
    tree = ast.parse(source)
    skip = _type_checking_lines(tree)
    package = module if is_package else module.rpartition(".")[0]
    imports, private, aliases = [], [], {}
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "workbook":
                    imports.append((node.lineno, alias.name, []))
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "workbook":
                continue
            names = [a.name for a in node.names]
            imports.append((node.lineno, base, names))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if _exists(target):
                    aliases[alias.asname or alias.name] = target
                elif _private(alias.name):
                    private.append((node.lineno, f"from {base} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if _private(node.attr):
                private.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    # A private module (``clv/_mle.py``) belongs to its package: only its siblings may import it.
    for line, target, names in imports:
        dotted = [target, *(f"{target}.{n}" for n in names if _exists(f"{target}.{n}"))]
        for name in dotted:
            parts = name.split(".")
            hidden = [i for i, p in enumerate(parts) if _private(p)]
            if hidden and not module.startswith(".".join(parts[: hidden[0]]) + "."):
                private.append((line, name))
    return imports, private


def private_defs(source: str) -> set[str]:
    """Private functions and methods defined in a module."""
    return {
        n.name for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and _private(n.name)
    }


def private_calls(source: str, others: set[str]) -> list[tuple[int, str]]:
    """``obj._name`` uses (not on ``self``/``cls``) of private names another workbook module defines."""
    own = private_defs(source)
    return [
        (n.lineno, f"{n.value.id}.{n.attr}")
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
        and n.value.id not in ("self", "cls") and n.attr in others - own
    ]


def import_graph() -> dict[str, set[str]]:
    """workbook module -> workbook modules it imports (a name from a package counts as the package)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        imports, _ = parse_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        edges = set()
        for _, target, names in imports:
            subs = [f"{target}.{n}" for n in names if _exists(f"{target}.{n}")]
            edges.update(subs or [target])
        edges.discard(module)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_a_private_name_from_another():
    found = []
    sources = {path: path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}
    defined = set().union(*(private_defs(s) for s in sources.values()))
    for path, source in sources.items():
        module = _module_name(path)
        _, private = parse_imports(source, module, path.name == "__init__.py")
        private += private_calls(source, defined)
        found += [f"{path.relative_to(SRC)}:{line}: {text}" for line, text in private]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_the_checks_can_fail():
    """The two checks above catch what they are meant to catch."""
    _, private = parse_imports(
        "from workbook.churn import _aligned\nimport workbook.churn as c\nc._x\n"
        "from workbook.clv._mle import fit\n",
        "workbook.plotting.churn",
    )
    assert [text for _, text in private] == [
        "from workbook.churn import _aligned", "workbook.churn._x", "workbook.clv._mle"
    ]
    assert private_calls("model._fit(x)\nself._fit(x)\n", {"_fit"}) == [(1, "model._fit")]
    # Siblings may use their package's private module.
    assert parse_imports("from workbook.clv._mle import fit\n", "workbook.clv.bgnbd")[1] == []
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module", ["workbook.casestudies"])
def test_casestudies_does_not_import_the_generator(module):
    assert not {m for m in import_graph()[module] if m.startswith("workbook.synth")}
