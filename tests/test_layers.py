"""Dependencies point one way: adapters -> service -> domain -> ports, no package cycle, and
the lab outside the product's imports (read from the source, every import statement)."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

HABOT = Path(__file__).parents[1] / "habot"
LAYERS = {
    "adapters": ({"cli", "serving", "launcher", "__main__", "slack", "console", "probes"}, 3),
    "service": ({"service"}, 2),
    "domain": ({"cluster", "runbooks", "approvals", "alerts", "commands", "config"}, 1),
    "ports": (
        {
            "ssh",
            "node",
            "store",
            "errors",
            "jobs",
            "settings",
            "metrics",
            "log_format",
            "yaml_load",
            "__init__",
        },
        0,
    ),
}
# The store is the port that keeps the domain's records: it knows their types, nothing else.
ALLOWED_UP = {("store", "approvals"), ("store", "alerts")}


PACKAGES = {
    p.stem if p.parent == HABOT else p.relative_to(HABOT).parts[0] for p in HABOT.rglob("*.py")
}


def package_of(module: str) -> str:
    """`habot.service.workflow` -> `service`; a name from habot itself (`__version__`) ->
    `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PACKAGES else "__init__"


def imports() -> Iterator[tuple[str, str, str]]:
    """(importing package, imported package, file) for every `habot` import, local ones too."""
    for path in HABOT.rglob("*.py"):
        module = ".".join(path.relative_to(HABOT.parent).with_suffix("").parts)
        source = package_of(module)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("habot.") and name.count(".") >= 1:
                    target = package_of(name)
                    if target != source:
                        yield source, target, str(path.relative_to(HABOT.parent))


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for source, target, _ in imports():
        edges.setdefault(source, set()).add(target)
    return edges


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Every package that can reach itself, with the path back."""
    found = []
    for start in sorted(edges):
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    found.append([*path, start])
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def rank(package: str) -> int:
    return next(r for members, r in LAYERS.values() if package in members)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})[0] == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_package_cycle() -> None:
    assert cycles(graph()) == []


def test_every_package_has_a_layer() -> None:
    known = {p for members, _ in LAYERS.values() for p in members} | {"lab"}
    packages = {
        package_of(".".join(p.relative_to(HABOT.parent).with_suffix("").parts))
        for p in HABOT.rglob("*.py")
    }
    assert packages - known == set()


def test_dependencies_point_down() -> None:
    upward = sorted(
        f"{file}: {source} imports {target}"
        for source, target, file in imports()
        if "lab" not in (source, target)
        and rank(source) < rank(target)
        and (source, target) not in ALLOWED_UP
    )
    assert upward == []


def test_the_product_does_not_import_the_lab() -> None:
    """`habot lab` is found through an entry point; nothing else imports habot.lab."""
    assert sorted(f for s, t, f in imports() if t == "lab" and s != "lab") == []


def test_frontends_never_import_the_store() -> None:
    """Slack, the console and the probes see the service's types; only the composition root
    (cli.py) builds the store."""
    frontends = {"slack", "console", "probes", "launcher", "__main__"}
    assert sorted(f for s, t, f in imports() if s in frontends and t == "store") == []


def test_no_wait_for_in_habot() -> None:
    """asyncio.wait_for in Python 3.11 drops a cancellation that arrives as the awaited call
    completes (the caller carries on as if no stop was asked): habot bounds its awaits with
    asyncio.timeout, which never does."""
    found = [
        f"{path.relative_to(HABOT.parent)}:{node.lineno}"
        for path in HABOT.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "wait_for"
    ]
    assert found == []
