"""habot-node, the one program sudo lets the node user run, as a real process: it runs a
command only when every argument matches its position's rule, exactly as received (merged or
split words match nothing), from `/`, with none of the caller's environment; its status and
shadow-CIB steps are single steps the caller cannot take apart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from habot.node import EXIT_REFUSED

HELPER = Path(__file__).parents[2] / "habot" / "node" / "helper.py"
RECORDER = """#!/bin/sh
# records how it was run: its name, each argument on a line, its directory and environment
log="{log}"
{{ echo "$(basename "$0")"; for a in "$@"; do echo "arg:$a"; done; echo "cwd:$(pwd)";
  env | grep -c CALLER_SECRET | sed 's/^/secret:/';
  if [ -n "${{CIB_file:-}}" ]; then echo "cib_file:$CIB_file"; fi; }} >> "$log"
case "$(basename "$0") $1 $2" in
  "pcs cluster cib") echo '<cib epoch="1"/>' > "$3" ;;
  "pcs -f"*) echo "edited: $*" >> "$2" ;;
  "pcs cluster cib-push") cp "$3" "{log}.pushed"; cp "${{4#diff-against=}}" "{log}.original" ;;
  "crm_simulate --simulate"*) cat "$3" ;;
  "crm --no"*) echo "crm edited: $*" >> "$CIB_file" ;;
  "crm_diff --original"*) cp "$4" "{log}.new"; echo '<diff/>'; exit 1 ;;
  "cibadmin --patch"*) cp "$3" "{log}.patch" ;;
  crm_mon*) echo '<crm_mon/>' ;;
  cibadmin*) echo '<constraints/>' ;;
  crm_attribute*) echo mycluster ;;
esac
"""


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """The helper installed beside its rules, every program a recorder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "ran.log"
    paths = {}
    names = ("pcs", "crm_simulate", "crm_mon", "cibadmin", "crm_attribute", "crm_resource")
    names += ("stonith_admin", "crm", "crm_diff")
    for name in (*names, "journalctl"):
        program = bin_dir / name
        program.write_text(RECORDER.format(log=log))
        program.chmod(0o755)
        paths[name] = str(program)
    installed = tmp_path / "libexec"
    installed.mkdir()
    shutil.copy(HELPER, installed / "habot-node")
    rules = {
        "version": 2,
        "paths": paths,
        "logs": [str(tmp_path / "logs" / "pacemaker.log")],
        "writes": [
            {
                "command": "write-new",
                "args": ["/run/habot-test[.][a-z0-9_]{1,20}/.*/index[.]html", "<h1>.*"],
            }
        ],
        "commands": [
            {"command": "pcs", "args": ["resource", "move", "[A-Za-z_]{1,20}", "nodo[12]"]},
            {"command": "stonith_admin", "args": ["--reboot", "nodo[12]"]},
        ],
        "cib_edits": [
            {"command": "pcs", "args": ["resource", "clone", "[A-Za-z]{1,20}"]},
            {"command": "pcs", "args": ["node", "standby", "nodo[12]"]},
            {"command": "pcs", "args": ["property", "set", "maintenance-mode=(true|false)"]},
            {"command": "crm", "args": ["configure", "property", "stonith-enabled=true"]},
            {
                "command": "pcs",
                "args": ["resource", "move-with-constraint", "[A-Za-z]{1,20}", "nodo[12]"],
            },
        ],
    }
    (installed / "rules.json").write_text(json.dumps(rules))
    return tmp_path


def helper(node: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(node / "libexec" / "habot-node"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=node,
        env={**os.environ, "CALLER_SECRET": "x", "PATH": "/usr/bin:/bin"},
    )


def ran(node: Path) -> list[str]:
    log = node / "ran.log"
    return log.read_text().splitlines() if log.exists() else []


def test_an_allowed_command_runs_with_its_arguments_exactly(node: Path) -> None:
    done = helper(node, "exec", "pcs", "resource", "move", "VirtualIP", "nodo2")
    assert done.returncode == 0, done.stderr
    assert ran(node) == [
        "pcs",
        "arg:resource",
        "arg:move",
        "arg:VirtualIP",
        "arg:nodo2",
        "cwd:/",  # never the node user's own directory
        "secret:0",  # none of the caller's environment
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ("pcs", "resource move", "VirtualIP", "nodo2"),  # two words merged
        ("pcs", "resource", "move", "VirtualIP nodo2"),
        ("pcs", "resource", "move", "Virtual", "IP", "nodo2"),  # one split in two
        ("pcs", "resource", "move", "VirtualIP", "nodo2", "--force"),  # one more
        ("pcs", "resource", "move", "VirtualIP", "nodo3"),
        ("pcs", "resource", "move", "VirtualIP", "nodo2\n"),  # a newline
        ("stonith_admin", "--reboot nodo2"),
        ("sh", "-c", "id"),
        ("/bin/pcs", "resource", "move", "VirtualIP", "nodo2"),  # a path: not a rule's name
    ],
    ids=lambda a: repr(" | ".join(a))[:60],
)
def test_anything_else_is_refused_and_nothing_runs(node: Path, argv: tuple[str, ...]) -> None:
    done = helper(node, "exec", *argv)
    assert done.returncode == EXIT_REFUSED
    assert done.stderr.startswith("habot-node: refused: ")
    assert ran(node) == []


def test_status_is_one_step_without_arguments(node: Path) -> None:
    done = helper(node, "status")
    assert done.returncode == 0, done.stderr
    # the shells this machine has, as the node's root finds them (its own PATH, not ours)
    shells = [s for s in ("pcs", "crm") if shutil.which(s, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    assert done.stdout == (
        "<crm_mon/>\n\n--habot-section--\n<constraints/>\n\n--habot-section--\nmycluster\n"
        f"\n--habot-section--\n{' '.join(shells)}\n"
    )
    assert helper(node, "status", "--extra").returncode == EXIT_REFUSED


def test_a_rules_file_the_helper_cannot_read_refuses_everything(node: Path) -> None:
    (node / "libexec" / "rules.json").write_text("{}")
    done = helper(node, "exec", "pcs", "resource", "move", "VirtualIP", "nodo2")
    assert done.returncode == EXIT_REFUSED
    assert "not a habot-node rules file" in done.stderr


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the shadow CIB lives in /run (root)")


@needs_root
def test_the_shadow_cib_is_pulled_edited_and_pushed_in_one_step(node: Path) -> None:
    edits = json.dumps([["resource", "clone", "WebSite"]])
    done = helper(node, "cib", "push", edits)
    assert done.returncode == 0, done.stderr
    pushed = (node / "ran.log.pushed").read_text()
    assert pushed.startswith('<cib epoch="1"/>')  # the file it pulled itself, never empty
    assert "edited: -f /run/habot-cib." in pushed
    assert "resource clone WebSite" in pushed
    # only habot's own change: a diff against the copy pulled, untouched by the edits
    assert (node / "ran.log.original").read_text() == '<cib epoch="1"/>\n'
    push = ran(node)[ran(node).index("arg:cib-push") :]
    assert push[2].startswith("arg:diff-against=/run/habot-cib.")
    assert push[2].endswith("/original.xml")
    used = [ln for ln in ran(node) if ln.startswith("arg:/run/habot-cib.")]
    assert used
    assert not Path(used[0][4:]).parent.exists()  # removed afterwards


@needs_root
@pytest.mark.parametrize(
    "edits",
    [
        [["resource", "delete", "WebSite"]],
        [["resource clone", "WebSite"]],
        [["cluster", "cib-push", "/tmp/empty.xml", "--config"]],
        "not json",
        [],
    ],
    ids=str,
)
def test_an_edit_outside_the_rules_refuses_the_whole_step(node: Path, edits: object) -> None:
    text = edits if isinstance(edits, str) else json.dumps(edits)
    done = helper(node, "cib", "push", text)
    assert done.returncode == EXIT_REFUSED
    assert ran(node) == []  # not even the pull


@needs_root
def test_simulate_pushes_nothing(node: Path) -> None:
    done = helper(node, "cib", "simulate", json.dumps([["resource", "clone", "WebSite"]]))
    assert done.returncode == 0, done.stderr
    assert "edited:" in done.stdout
    assert not (node / "ran.log.pushed").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the shadow CIB lives in /run (root)")
def test_crmsh_edits_are_pushed_as_a_difference_without_pcs(node: Path) -> None:
    """A crmsh cluster's cib step: the CIB pulled with cibadmin, `crm --no …` on the copy
    (CIB_file), the difference from the pulled copy patched in — pcs never runs."""
    edits = [["crm", "configure", "property", "stonith-enabled=true"]]
    done = helper(node, "cib", "push", json.dumps(edits))
    assert done.returncode == 0, done.stderr
    programs = [line for line in ran(node) if ":" not in line]
    assert programs == ["cibadmin", "crm", "crm_diff", "cibadmin"]
    log = ran(node)
    crm = log.index("crm")
    assert log[crm + 1 : crm + 5] == [
        "arg:--no", "arg:configure", "arg:property", "arg:stonith-enabled=true",
    ]  # fmt: skip
    assert any(line.startswith("cib_file:/run/habot-cib.") for line in log[crm:])
    assert (node / "ran.log.patch").read_text() == "<diff/>\n"  # crm_diff's, applied
    assert "crm edited" in (node / "ran.log.new").read_text()
    for refused in (
        [["crm", "configure", "property", "stonith-enabled=false"]],  # no rule for it
        [["crm", "configure", "property", "stonith-enabled=true"], ["node", "standby", "nodo1"]],
    ):
        done = helper(node, "cib", "push", json.dumps(refused))
        assert done.returncode == EXIT_REFUSED, done.stderr
