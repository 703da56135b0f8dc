"""Every shipped runbook loads and lints; bad files are refused with file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from habot.errors import RunbookError
from habot.runbooks.loader import json_schema, load_all, load_file, shipped_dir

SHIPPED = sorted(shipped_dir().glob("*.yaml"))
EXPECTED = {
    "failover",
    "stonith-libvirt",
    "fence-test",
    "gfs2-activate",
    "failover-test",
    "cleanup",
    "standby",
    "rolling-maintenance",
    "unstandby",
    "maintenance",
    "node-patch",  # one node patched, with a pause for the person doing it
    # the on-call week's everyday actions
    "ban",
    "ban-for",
    "clear",
    "clear-on-node",
    "enable",
    "disable",
    "restart",
    "restart-on-node",
    "cleanup-on-node",
    "refresh",
    "unmanage",
    "manage",
    "node-maintenance",
    "fence-history-cleanup",
    # the seed's last chapter
    "haproxy",
    # events pushed by the cluster: habot's alert agent registered
    "alert-agent",
}


def test_the_shipped_set() -> None:
    assert set(load_all()) == EXPECTED


def test_every_shipped_runbook_lints() -> None:
    """`habot runbooks lint` on every shipped file at once (one process: a start each would
    cost a second apiece)."""
    done = subprocess.run(
        [sys.executable, "-m", "habot", "runbooks", "lint", *map(str, SHIPPED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    for path in SHIPPED:
        assert load_file(path).name == path.stem
        assert any(line.startswith(f"ok  {path}: {path.stem} (") for line in said), path
    shells = {line.split(": ", 2)[1].split(" (")[0]: line for line in said}
    assert shells["failover"].endswith("; pcs and crmsh)")
    assert all(line.endswith("; pcs and crmsh)") for line in shells.values())  # every one


def test_shipped_schema_is_the_generated_one() -> None:
    assert (shipped_dir() / "runbook.schema.json").read_text() == json_schema()


MALFORMED = [
    (
        "name: x\nsummary: s\nsteps:\n  - name: a\n    run: [ls]\n    shell: true\n",
        ":6: steps.0.shell: Extra inputs are not permitted",
    ),
    (
        "name: x\nsummary: s\nsteps:\n  - name: a\n    run: [ls, no]\n",
        ":5: steps.0.run.1: Input should be a valid string",
    ),
    (
        "name: x\nsummary: s\nsteps:\n  - name: a\n    run: [ls]\n    wait: []\n",
        "exactly one of run, wait, cib",
    ),
    (
        "name: x\nsummary: s\nparameters:\n  who: {type: string}\nsteps:\n  - {name: a, "
        "run: [ls]}\n",
        ":4: parameters.who: Value error, a string parameter needs a pattern",
    ),
    (
        "name: x\nsummary: s\nsteps:\n  - name: a\n    wait:\n      - {node_online: a, "
        "resource_exists: b}\n",
        "a predicate has exactly one key",
    ),
    ("name: x\nsummary: [unclosed\n", ":3: not valid YAML"),
    (
        "name: x\nsummary: s\non_failure: rollback\nsteps:\n  - {name: a, run: [ls]}\n",
        "on_failure: rollback needs rollback steps",
    ),
]


@pytest.mark.parametrize(("text", "problem"), MALFORMED)
def test_malformed_runbooks_name_file_and_line(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RunbookError) as caught:
        load_file(path)
    assert f"{path}" in str(caught.value)
    assert problem in str(caught.value)


def test_lint_names_every_malformed_file_and_fails(tmp_path: Path) -> None:
    paths = []
    for number, (text, _) in enumerate(MALFORMED):
        paths.append(tmp_path / f"bad{number}.yaml")
        paths[-1].write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "habot", "runbooks", "lint", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    for path, (_, problem) in zip(paths, MALFORMED, strict=True):
        assert any(ln.startswith(str(path)) and problem in ln for ln in done.stderr.splitlines())


def test_what_each_runbook_expects_is_a_rule_of_the_catalogue() -> None:
    """`expects:` names alert rules a run causes on purpose: a misspelt one would let the
    real alert through as an incident (safe) but say nothing of it (a test instead)."""
    from habot.alerts.rules import load_catalogue

    ids = {r.id for r in load_catalogue().rules}
    expecting = [load_file(p) for p in SHIPPED if load_file(p).expects]
    assert {b.name for b in expecting} >= {"fence-test", "failover", "ban"}
    for book in expecting:
        assert set(book.expects) <= ids, (book.name, set(book.expects) - ids)
