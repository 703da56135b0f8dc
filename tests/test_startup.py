"""Start-up refuses a bad or missing setting with one line naming it, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from habot.config import load_config
from habot.errors import ConfigError

GOOD_CONFIG = """
clusters:
  mycluster:
    ssh_key: /nonexistent/id_ed25519
    known_hosts: /nonexistent/known_hosts
    nodes:
      - {name: nodo1, host: 127.0.0.2}
"""


def habot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HABOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "habot", *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=30,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "  "},
            "SLACK_SIGNING_SECRET is not",
        ),
        ({"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN is not set"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "HABOT_HTTP_PORT": "http"},
            "setting HABOT_HTTP_PORT",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_APP_TOKEN": "xapp-1",
                "HABOT_SLACK_API_URL": "http://127.0.0.1:1/api",
            },
            "setting HABOT_SLACK_API_URL",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_APP_TOKEN": "xapp-1",
                "HABOT_CONFIG": "/nonexistent/habot.yaml",
            },
            "config file /nonexistent/habot.yaml: No such file or directory",
        ),
    ],
)
def test_serve_refuses_bad_settings(env: dict[str, str], named: str, tmp_path: Path) -> None:
    done = habot("serve", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert named in done.stderr
    assert "xoxb-1" not in done.stderr


@pytest.mark.parametrize(
    ("url", "code", "named"),
    [
        ("mysql://habot@db/habot", 2, "setting HABOT_DATABASE_URL"),
        (
            "postgresql://habot:db-s3cret@127.0.0.1:1/habot",
            1,
            "cannot connect to PostgreSQL at 127.0.0.1:1, database habot",
        ),
    ],
)
def test_a_database_habot_cannot_use_is_one_line(
    url: str, code: int, named: str, tmp_path: Path
) -> None:
    (tmp_path / "habot.yaml").write_text(GOOD_CONFIG + "approvers: anyone\nallowed_channels: any\n")
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "HABOT_CONFIG": str(tmp_path / "habot.yaml"),
        "HABOT_DATABASE_URL": url,
    }
    done = habot("serve", env=env, cwd=tmp_path)
    assert done.returncode == code
    assert done.stderr.count("\n") == 1, done.stderr
    assert named in done.stderr
    assert "db-s3cret" not in done.stderr


def test_a_secret_is_never_printed(tmp_path: Path) -> None:
    done = habot(
        "serve",
        env={
            "SLACK_BOT_TOKEN": "xoxb-very-secret",
            "HABOT_HTTP_PORT": "x",
            "SLACK_SIGNING_SECRET": "s3cr3t-signing",
        },
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "very-secret" not in done.stderr + done.stdout
    assert "s3cr3t" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        ("allowed_channels: [C01]\n", "approvers: none configured"),
        ("approvers: [U01]\n", "allowed_channels: none configured"),
        ("approvers: []\nallowed_channels: any\n", "approvers: none configured"),
    ],
)
def test_serve_is_closed_by_default(policy: str, named: str, tmp_path: Path) -> None:
    """No approvers or no channels: refused before any connection, unless said openly."""
    config = tmp_path / "habot.yaml"
    config.write_text(policy + GOOD_CONFIG)
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "HABOT_CONFIG": str(config)}
    done = habot("serve", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert named in done.stderr
    assert str(config) in done.stderr


def test_open_policies_must_be_written_out(tmp_path: Path) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text("approvers: anyone\nallowed_channels: any\n" + GOOD_CONFIG)
    config = load_config(path)
    assert config.channel_allowed("CANY")
    path.write_text("approvers: everyone\n" + GOOD_CONFIG)
    with pytest.raises(ConfigError, match="approvers"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: {}", "clusters: Dictionary should have at least 1 item"),
        (
            GOOD_CONFIG.replace("host: 127.0.0.2", "host: 127.0.0.2, colour: red"),
            "colour: Extra inputs are not permitted",
        ),
        (GOOD_CONFIG.replace("name: nodo1", "name: 'nodo1; rm -rf /'"), "name: String should"),
        ("clusters: [", "not valid YAML"),
    ],
)
def test_config_errors_name_the_file_and_field(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_good_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "habot.yaml"
    path.write_text(GOOD_CONFIG)
    config = load_config(path)
    assert config.default_cluster == "mycluster"
    assert config.clusters["mycluster"].nodes[0].address().port == 22


def test_alert_polling_can_be_turned_off_per_replica() -> None:
    from habot.settings import load_settings

    assert load_settings().alerts is True
    assert load_settings(HABOT_ALERTS="false").alerts is False


def test_an_alerts_channel_must_be_an_id(tmp_path: Path) -> None:
    """A name ("#ha-alerts") cannot be found again after a restart: refused, saying why."""
    path = tmp_path / "habot.yaml"
    path.write_text(
        GOOD_CONFIG.replace("    nodes:", '    alerts_channel: "#ha-alerts"\n    nodes:')
    )
    with pytest.raises(ConfigError, match="not a channel ID"):
        load_config(path)
    path.write_text(
        GOOD_CONFIG.replace("    nodes:", "    alerts_channel: C0456ALERTS\n    nodes:")
    )
    assert load_config(path).clusters["mycluster"].alerts_channel == "C0456ALERTS"
