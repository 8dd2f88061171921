"""No module imports another that imports it back, counting imports inside functions (ADR 0007).

import-linter's layers contract keeps the layers apart; this keeps modules inside a layer from forming
cycles that imports inside functions would hide. Imports under TYPE_CHECKING do not count."""

import grimp

PACKAGES = ("csv_analyzer", "users", "csv_processor")


def import_cycles(graph: grimp.ImportGraph, packages: tuple[str, ...]) -> list[list[str]]:
    """The groups of two or more modules of `packages` that import each other, directly or through others
    (Tarjan's strongly connected components, iterative)."""
    edges = {
        module: {other for other in graph.find_modules_directly_imported_by(module) if other.startswith(packages)}
        for module in graph.modules
        if module.startswith(packages)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycles_even_through_imports_inside_functions():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None, exclude_type_checking_imports=True)
    assert import_cycles(graph, PACKAGES) == []


def test_import_cycles_finds_a_cycle_hidden_in_a_function(tmp_path, monkeypatch):
    package = tmp_path / "cyclepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclepkg import b\n")
    (package / "b.py").write_text("def late():\n    from cyclepkg import a\n    return a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclepkg", cache_dir=None)
    assert import_cycles(graph, ("cyclepkg",)) == [["cyclepkg.a", "cyclepkg.b"]]
