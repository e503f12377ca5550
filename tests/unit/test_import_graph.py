"""The domain core's import graph (issue 11): careloop.intake uses careloop.ehr, never the other
way round, counting every import (function-level and TYPE_CHECKING ones too), read from the source."""

from __future__ import annotations

import ast
from pathlib import Path

import careloop

CORE = Path(careloop.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the careloop modules it imports anywhere in its source."""
    graph: dict[str, set[str]] = {}
    for path in CORE.rglob("*.py"):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets.add(base)
                targets |= {f"{base}.{a.name}" for a in node.names}  # `from careloop import intake`
        graph[name] = {t for t in targets if t == "careloop" or t.startswith("careloop.")}
    known = set(graph)
    return {m: {t for t in ts if t in known} for m, ts in graph.items()}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def in_ehr(module: str) -> bool:
    return module == "careloop.ehr" or module.startswith("careloop.ehr.")


def test_the_scan_sees_function_level_imports():
    # Given the graph read from source
    graph = import_graph()
    # Then it holds the imports made inside functions too (intake loads the HL7 ACK builder lazily)
    assert "careloop.ehr.hl7v2" in graph["careloop.intake"]
    assert "careloop.ehr.payload" in graph["careloop.intake"]


def test_no_module_of_careloop_ehr_imports_intake_directly_or_through_others():
    graph = import_graph()
    offenders = {m: sorted(graph[m] & {"careloop.intake"}) for m in graph if in_ehr(m) and "careloop.intake" in graph[m]}
    assert offenders == {}
    through = sorted(m for m in graph if in_ehr(m) and "careloop.intake" in reachable(graph, m))
    assert through == []


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph with careloop.ehr and its modules as one node: the package is one component."""
    def node(m: str) -> str:
        return "careloop.ehr" if in_ehr(m) else m
    out: dict[str, set[str]] = {}
    for m, targets in graph.items():
        out.setdefault(node(m), set()).update(node(t) for t in targets if node(t) != node(m))
    return out


def test_intake_and_careloop_ehr_are_not_in_one_cycle():
    # Given careloop.ehr taken as one package
    graph = package_graph(import_graph())
    # Then intake reaches it, and it never leads back to intake
    assert "careloop.ehr" in reachable(graph, "careloop.intake")
    assert "careloop.intake" not in reachable(graph, "careloop.ehr")
