"""`habot config check`: problems `habot serve` would stop on, policy names no runbook has,
IDs Slack does not know (asked of the fake Slack), and the effective policy printed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.fakes.slack_server import FakeSlack

CLUSTER = """
clusters:
  mycluster:
    ssh_key: /nonexistent/id_ed25519
    known_hosts: /nonexistent/known_hosts
    nodes:
      - {name: nodo1, host: 127.0.0.2}
"""


async def check(path: Path, **env: str) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HABOT_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "habot",
        "config",
        "check",
        "--config",
        str(path),
        env={**clean, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_a_good_config_prints_its_policy(tmp_path: Path) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS]\n" + CLUSTER)
    code, out, err = await check(path)
    assert (code, err) == (0, "")
    assert "policy for mycluster / gfs2-activate:" in out
    assert "  approvals: 2  (from shipped default)" in out


async def test_problems_are_listed_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text(
        "allowed_channels: [COPS]\npolicy: {runbooks: {fence_tset: {approvals: 3}}}\n" + CLUSTER
    )
    code, _, err = await check(path)
    assert code == 1
    assert "problem:" in err
    assert "approvers: none configured" in err
    assert "policy.runbooks.fence_tset: no such runbook" in err


async def test_ids_slack_does_not_know(tmp_path: Path, fake_slack: FakeSlack) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UGHOST, S0OPS]\nallowed_channels: [COPS]\n" + CLUSTER)
    fake_slack.fail("users.info", "user_not_found")
    code, _, err = await check(
        path, SLACK_BOT_TOKEN="xoxb-0000-habot-test", HABOT_SLACK_API_URL=fake_slack.api_url
    )
    assert code == 1
    assert "user UGHOST: user_not_found" in err
    assert "user group S0OPS: not in this workspace" in err
    assert "xoxb-0000" not in err
