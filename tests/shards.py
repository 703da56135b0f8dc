"""`--shard=I/K`: run only the I-th of K parts of the selected tests, split by module (a
module's fixtures are set up once) so that the parts take about as long. The lab's lanes use
it: each part runs on a lab of its own, side by side (scripts/test)."""

from __future__ import annotations

import pytest

# Seconds a module's tests take on the lab, as measured (`pytest --durations`); others count
# as DEFAULT_S. Only the balance depends on them, never which tests run.
MEASURED_S = {
    "tests/alerts/test_alerts_lab.py": 300,
    "tests/slack/test_runbooks.py": 250,
    "tests/test_console.py": 210,
    "tests/alerts/test_episodes_lab.py": 160,
    "tests/lab/test_replicas_lab.py": 110,
    "tests/lab/test_why_lab.py": 75,
    "tests/lab/test_lab_lifecycle.py": 60,
    "tests/lab/test_lab_cluster.py": 50,
    "tests/slack/test_restart.py": 30,
    "tests/slack/test_native_lab.py": 25,
    "tests/slack/test_crmsh_lab.py": 100,
}
DEFAULT_S = 20


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shard",
        default=None,
        metavar="I/K",
        help="run the I-th (1..K) of K parts of the selected tests, split by module",
    )


def parse(text: str) -> tuple[int, int]:
    part, _, count = text.partition("/")
    if not (part.isdigit() and count.isdigit()) or not 1 <= int(part) <= int(count):
        raise pytest.UsageError(f"--shard takes I/K with 1 <= I <= K, not {text!r}")
    return int(part), int(count)


def split(modules: dict[str, int], count: int) -> list[list[str]]:
    """The modules in `count` parts, the longest first into the part with least so far."""
    parts: list[list[str]] = [[] for _ in range(count)]
    load = [0] * count
    for module in sorted(modules, key=lambda m: (-modules[m], m)):
        lightest = load.index(min(load))
        parts[lightest].append(module)
        load[lightest] += modules[module]
    return parts


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    given = config.getoption("--shard")
    if not given:
        return
    part, count = parse(given)
    modules = {
        item.nodeid.split("::")[0]: MEASURED_S.get(item.nodeid.split("::")[0], DEFAULT_S)
        for item in items
    }
    mine = set(split(modules, count)[part - 1])
    kept = [item for item in items if item.nodeid.split("::")[0] in mine]
    dropped = [item for item in items if item.nodeid.split("::")[0] not in mine]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
