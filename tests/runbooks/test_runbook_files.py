"""Every shipped runbook loads and lints; bad files are refused with file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from habot.runbooks.loader import RunbookError, json_schema, load_all, load_file, shipped_dir

SHIPPED = sorted(shipped_dir().glob("*.yaml"))
EXPECTED = {
    "failover",
    "stonith-libvirt",
    "fence-test",
    "gfs2-activate",
    "failover-test",
    "cleanup",
    "standby",
    "unstandby",
    "maintenance",
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


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_each_shipped_runbook_lints(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "habot", "runbooks", "lint", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok  ")
    assert load_file(path).name == path.stem


def test_shipped_schema_is_the_generated_one() -> None:
    assert (shipped_dir() / "runbook.schema.json").read_text() == json_schema()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
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
    ],
)
def test_malformed_runbooks_name_file_and_line(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RunbookError) as caught:
        load_file(path)
    assert f"{path}" in str(caught.value)
    assert problem in str(caught.value)
    done = subprocess.run(
        [sys.executable, "-m", "habot", "runbooks", "lint", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert problem in done.stderr


def test_what_each_runbook_expects_is_a_rule_of_the_catalogue() -> None:
    """`expects:` names alert rules a run causes on purpose: a misspelt one would let the
    real alert through as an incident (safe) but say nothing of it (a test instead)."""
    from habot.alerts.rules import load_catalogue

    ids = {r.id for r in load_catalogue().rules}
    expecting = [load_file(p) for p in SHIPPED if load_file(p).expects]
    assert {b.name for b in expecting} >= {"fence-test", "failover", "ban"}
    for book in expecting:
        assert set(book.expects) <= ids, (book.name, set(book.expects) - ids)
