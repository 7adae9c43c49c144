"""No two modules of zeta import each other, however indirectly (a screen that doubled as a
helper library for two others made a cycle once). Imports inside functions count too."""

from __future__ import annotations

import grimp


def test_no_import_cycles() -> None:
    # `if TYPE_CHECKING:` imports name a type; they are not run (the layer contracts skip them too).
    graph = grimp.build_graph("zeta_tui", cache_dir=None, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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
                cycles.append(sorted(component))

    import sys

    # Put back after: a worker's later tests rely on Python's usual limit (the log query parser
    # turns a RecursionError on 3,000 nested groups into its "too deep" error).
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        for module in modules:
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    assert not cycles, cycles
