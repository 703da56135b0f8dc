"""`habot config check`: problems `habot serve` would stop on, policy names no runbook has,
IDs Slack does not know (asked of the fake Slack), and the effective policy printed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from habot.config import load_config
from habot.errors import ConfigError
from tests.fakes.node_files import cluster_yaml
from tests.fakes.slack_server import FakeSlack


@pytest.fixture
def cluster(tmp_path: Path) -> str:
    """A cluster's config whose SSH key and known_hosts exist."""
    return cluster_yaml(tmp_path)


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


async def test_a_good_config_prints_its_policy(tmp_path: Path, cluster: str) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS]\n" + cluster)
    code, out, err = await check(path)
    assert (code, err) == (0, "")
    assert "policy for mycluster / gfs2-activate:" in out
    assert "  approvals: 2  (from shipped default)" in out


async def test_problems_are_listed_and_exit_1(tmp_path: Path, cluster: str) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text(
        "allowed_channels: [COPS]\npolicy: {runbooks: {fence_tset: {approvals: 3}}}\n" + cluster
    )
    code, _, err = await check(path)
    assert code == 1
    assert "problem:" in err
    assert "approvers: none configured" in err
    assert "policy.runbooks.fence_tset: no such runbook" in err


async def test_ids_slack_does_not_know(tmp_path: Path, cluster: str, fake_slack: FakeSlack) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UGHOST, S0OPS]\nallowed_channels: [COPS]\n" + cluster)
    fake_slack.fail("users.info", "user_not_found")
    code, _, err = await check(
        path, SLACK_BOT_TOKEN="xoxb-0000-habot-test", HABOT_SLACK_API_URL=fake_slack.api_url
    )
    assert code == 1
    assert "user UGHOST: user_not_found" in err
    assert "user group S0OPS: not in this workspace" in err
    assert "xoxb-0000" not in err


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            lambda t, d: t.replace(f"ssh_key: {d}/id_ed25519", "ssh_key: /etc/habot/id_missing"),
            "clusters.mycluster.ssh_key: /etc/habot/id_missing: No such file or directory",
        ),
        (
            lambda t, d: t.replace(f"known_hosts: {d}/known_hosts", f"known_hosts: {d}"),
            "clusters.mycluster.known_hosts: ",
        ),
        (
            lambda t, d: t.replace(f"ssh_key: {d}/id_ed25519", f"ssh_key: {d}/known_hosts"),
            "clusters.mycluster.ssh_key: ",
        ),
        (
            lambda t, d: t + "runbook_dirs: [/etc/habot/no-runbooks]\n",
            "runbook_dirs[0]: /etc/habot/no-runbooks: No such file or directory",
        ),
        (
            lambda t, d: t.replace(
                "    nodes:", "    alerts: {rules: [/etc/habot/rules.yaml]}\n    nodes:"
            ),
            "clusters.mycluster.alerts.rules[0]: /etc/habot/rules.yaml: No such file or directory",
        ),
        (
            lambda t, d: t.replace("    nodes:", "    alerts_channel: C0456ALERTS\n    nodes:"),
            "clusters.mycluster.alerts_channel: C0456ALERTS is not a channel habot answers in",
        ),
    ],
    ids=["no key", "known_hosts a directory", "not a key", "no runbook dir", "no rules", "buttons"],
)
async def test_what_serve_would_stop_or_fail_on_is_named_by_key_and_file(
    tmp_path: Path, cluster: str, change: object, named: str
) -> None:
    path = tmp_path / "habot.yaml"
    text = change(cluster, tmp_path)  # type: ignore[operator]
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS]\n" + text)
    code, _, err = await check(path)
    assert code == 1
    assert named in err, err
    assert "Traceback" not in err


async def test_a_channel_habot_is_not_a_member_of_is_named(
    tmp_path: Path, cluster: str, fake_slack: FakeSlack
) -> None:
    """After a restart habot finds a card it was posting by reading the alerts channel's
    recent messages, which Slack refuses outside the channel: habot must be a member (and
    is, of COPS: its false friend)."""
    path = tmp_path / "habot.yaml"
    text = cluster.replace("    nodes:", "    alerts_channel: CALERTS\n    nodes:")
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS, CALERTS]\n" + text)
    fake_slack.outside = {"CALERTS"}
    code, _, err = await check(
        path, SLACK_BOT_TOKEN="xoxb-0000-habot-test", HABOT_SLACK_API_URL=fake_slack.api_url
    )
    assert code == 1
    assert "clusters.mycluster.alerts_channel: habot is not a member of CALERTS" in err
    assert "COPS" not in err


def test_a_direct_message_is_not_a_channel_habot_answers_in(tmp_path: Path, cluster: str) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UBOB]\nallowed_channels: [D0123DM]\n" + cluster)
    with pytest.raises(ConfigError, match="allowed_channels"):
        load_config(path)


async def test_more_clusters_than_one_replica_holds_is_a_warning(tmp_path: Path) -> None:
    """Past what one replica was measured to hold, config check says how many replicas and
    what HABOT_MAX_CLUSTERS to give them; a warning, not a problem (exit 0). With the bound
    set, nothing to say."""
    one = cluster_yaml(tmp_path).split("\n", 2)[2]  # the cluster's body, without its name
    one += "      - {name: nodo2, host: 127.0.0.3}\n"
    many = "".join(f"  c{i}:\n{one}" for i in range(1100))
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS]\nclusters:\n" + many)
    code, _, err = await check(path)
    assert code == 0, err
    assert "warning: capacity: 1100 clusters" in err
    assert "run 2 replicas with HABOT_MAX_CLUSTERS=550" in err
    code, _, err = await check(path, HABOT_MAX_CLUSTERS="550")
    assert code == 0, err
    assert "node-polls" not in err  # (open files are said only past this machine's hard limit)


async def test_each_clusters_shell_is_said_and_what_crmsh_cannot_run_is_named(
    tmp_path: Path, cluster: str
) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS]\n" + cluster)
    _, out, _ = await check(path)
    assert "mycluster: shell found on the nodes at the first read" in out
    site = tmp_path / "runbooks"
    site.mkdir()
    (site / "op-defaults.yaml").write_text(
        "name: op-defaults\nsummary: s\nsteps:\n"
        "  - {name: timeouts, run: [pcs, resource, op, defaults, timeout=60s]}\n"
    )
    path.write_text(
        f"approvers: [UBOB]\nallowed_channels: [COPS]\nrunbook_dirs: [{site}]\n"
        + cluster
        + "    shell: crmsh\n"
    )
    code, out, err = await check(path)
    assert (code, err) == (0, "")
    assert "mycluster: shell crmsh (configured)" in out
    assert (
        "  op-defaults cannot run on mycluster: step 'timeouts' runs `pcs resource op …`, "
        "which has no crmsh form" in out
    )
    assert "gfs2-activate cannot run" not in out  # every shipped runbook has its crmsh form
    path.write_text("approvers: [UBOB]\nallowed_channels: [COPS]\n" + cluster + "    shell: sh\n")
    code, _, err = await check(path)
    assert code == 2
    assert "shell" in err
