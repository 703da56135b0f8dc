"""Every command and configuration block of the README, as printed, is tried: the example
config (the files it names made real) passes `habot config check`; the policy example merged
into it too; the node list and the runbook validate; every `/ha` line is parsed by the
grammar; every `habot` line's flags exist; every `scripts/` line names a script that takes
what it is given; every setting in .env.example is one habot reads. So the README cannot
drift from habot again."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from habot.cli import parser
from habot.commands.grammar import parse
from habot.config import NodeConfig
from habot.runbooks.loader import load_file
from habot.service import sudoers
from habot.settings import Settings
from tests.fakes.node_files import ssh_files

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, re.S)
# the README's placeholders, as a person would fill them in
FILL = {
    "RESOURCE": "WebSite",
    "NODE": "nodo2",
    "LIFETIME": "PT2H",
    "SINCE": "2h",
    "N": "5",
    "NAME": "cleanup",
    "RUNBOOK": "cleanup",
    "CLUSTER": "mycluster",
    "key=value …": "resource=WebSite",
    "DIR": "/tmp/habot-readme",
    "F": "/tmp/habot-readme.yaml",
    "PATH…": "/tmp/habot-readme",
}


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == language]


def table(head: str) -> list[list[str]]:
    """The rows of the table whose header starts with `head` (cells, stripped)."""
    start = README.index(head)
    lines = README[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines]


def filled(text: str) -> str:
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", text)  # an optional part, given
    text = text.replace("\\|", "|")
    for placeholder in sorted(FILL, key=len, reverse=True):
        text = re.sub(rf"(?<![\w=-]){re.escape(placeholder)}(?![\w])", FILL[placeholder], text)
    return text


def ha_lines() -> list[str]:
    """Every `/ha …` the README shows: the commands table, the console and the incident."""
    found = [
        span
        for row in table("| in Slack / the console |")
        for span in re.findall(r"`(/ha [^`]*)`", row[0])
    ]
    for body in blocks(""):
        found += re.findall(r"^(?:habot> )?(/ha [^→\n`]*?)\s*(?:→|$)", body, re.M)
    found += re.findall(r"`(/ha [^`]*cluster=[^`]*)`", README)
    return [filled(" ".join(line.split())) for line in found]


@pytest.mark.parametrize("line", ha_lines())
def test_every_ha_line_the_readme_shows_is_a_command(line: str) -> None:
    parse(line)


def habot_lines() -> list[str]:
    found = []
    for head in ("| on the command line |", "| command | what it does |"):
        found += [
            span
            for row in table(head)
            for span in re.findall(r"`(habot [^`]*)`", row[0])
            if "…" not in span or "PATH…" in span
        ]
    for body in blocks("sh") + blocks("bash"):
        found += [ln.split("#")[0].strip() for ln in body.splitlines() if ln.startswith("habot ")]
    return [filled(line) for line in found]


@pytest.mark.parametrize("line", habot_lines())
def test_every_habot_line_the_readme_shows_has_flags_that_exist(line: str) -> None:
    words = shlex.split(line)[1:]
    try:
        parser().parse_args(words)
    except SystemExit as e:
        pytest.fail(f"`{line}`: habot refuses it (exit {e.code})")


def script_lines() -> list[list[str]]:
    lines = [
        shlex.split(ln.split("#")[0])
        for body in blocks("bash") + blocks("sh")
        for ln in body.splitlines()
        if ln.startswith("scripts/")
    ]
    return [ln for ln in lines if ln]


@pytest.mark.parametrize("words", script_lines(), ids=" ".join)
def test_every_script_line_names_a_script_that_takes_its_flags(words: list[str]) -> None:
    script = ROOT / words[0]
    assert script.is_file()
    assert os.access(script, os.X_OK)
    text = script.read_text()
    for flag in (w for w in words[1:] if w.startswith("-")):
        assert flag in text, f"{words[0]} does not know {flag}"


def example_config(tmp_path: Path) -> dict[str, Any]:
    """The README's config example, the files it names (under /etc/habot) made real."""
    (config,) = [b for b in blocks("yaml") if b.startswith("clusters:")]
    etc = tmp_path / "etc-habot"
    etc.mkdir()
    key, _ = ssh_files(etc)
    key.rename(etc / "id_ed25519")
    (etc / "rules.yaml").write_text("[]\n")  # more alert rules: none yet
    (etc / "runbooks").mkdir()
    data: dict[str, Any] = yaml.safe_load(config.replace("/etc/habot/", f"{etc}/"))
    return data


def config_check(tmp_path: Path, data: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "habot.yaml"
    path.write_text(yaml.safe_dump(data))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HABOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "habot", "config", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
        check=False,
    )


def test_the_example_config_passes_config_check(tmp_path: Path) -> None:
    done = config_check(tmp_path, example_config(tmp_path))
    assert (done.returncode, done.stderr) == (0, "")
    assert "policy for mycluster" in done.stdout


def test_the_policy_example_merged_into_it_passes_config_check(tmp_path: Path) -> None:
    data = example_config(tmp_path)
    (policy,) = [b for b in blocks("yaml") if b.startswith("approvers:") and "policy:" in b]
    merged = yaml.safe_load(policy)
    for key in ("approvers", "allowed_channels", "policy"):
        data[key] = merged[key]
    data["clusters"]["mycluster"]["policy"] = merged["clusters"]["mycluster"]["policy"]
    done = config_check(tmp_path, data)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_node_list_and_the_runbook_example_validate(tmp_path: Path) -> None:
    (nodes,) = [b for b in blocks("yaml") if b.lstrip().startswith("nodes:")]
    TypeAdapter(list[NodeConfig]).validate_python(yaml.safe_load(nodes)["nodes"])
    (runbook,) = [b for b in blocks("yaml") if b.startswith("name: failover")]
    (tmp_path / "failover.yaml").write_text(runbook)
    shipped = load_file(ROOT / "habot" / "runbooks" / "failover.yaml")
    assert load_file(tmp_path / "failover.yaml").steps == shipped.steps


def test_the_rules_json_example_is_what_node_files_writes() -> None:
    (example,) = blocks("json")
    shown = json.loads(example)
    from habot.runbooks.loader import load_all

    written = [r.entry() for r in sudoers.rules(load_all().values())]
    assert any(r["command"] == shown["command"] and r["args"] == shown["args"] for r in written), (
        shown
    )


def test_every_setting_in_env_example_is_one_habot_reads() -> None:
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    known = {
        name
        for f in Settings.model_fields.values()
        for name in (
            [f.validation_alias]
            if isinstance(f.validation_alias, str)
            else [str(c) for c in getattr(f.validation_alias, "choices", [])]
        )
    }
    assert names <= known, names - known
    assert known <= names, known - names  # and every one is documented
