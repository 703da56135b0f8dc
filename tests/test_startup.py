"""Start-up refuses a bad or missing setting with one line naming it, exit code 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from habot.config import load_config
from habot.errors import ConfigError
from tests.fakes.node_files import cluster_yaml

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
    (tmp_path / "habot.yaml").write_text(
        cluster_yaml(tmp_path) + "approvers: anyone\nallowed_channels: any\n"
    )
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


def test_serve_stops_on_a_file_it_needs_naming_its_key_and_file(tmp_path: Path) -> None:
    """Before: a missing key let serve start, and fail later with "No such file or
    directory" naming no file."""
    config = tmp_path / "habot.yaml"
    config.write_text("approvers: anyone\nallowed_channels: any\n" + GOOD_CONFIG)
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "HABOT_CONFIG": str(config)}
    done = habot("serve", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert (
        f"{config}: clusters.mycluster.ssh_key: /nonexistent/id_ed25519: No such file or "
        "directory (and 1 more: `habot config check`)"
    ) in done.stderr


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


def test_socket_mode_without_slack_retries_in_one_line_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """Slack unreachable: each try is one line (no traceback), and SIGTERM stops habot at once
    — before, it retried forever with a traceback every ~10 s and only SIGKILL stopped it.
    A clean start logs no warning (Bolt's "As you gave `client` as well" included)."""
    config = tmp_path / "habot.yaml"
    config.write_text("approvers: anyone\nallowed_channels: any\n" + cluster_yaml(tmp_path))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HABOT_"))}
    env = {
        **clean,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "HABOT_SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens on the discard port
        "HABOT_CONFIG": str(config),
        "HABOT_DB": str(tmp_path / "habot.sqlite3"),
        "HABOT_PROBES_PORT": "0",
        "HABOT_ALERTS": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "habot", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # bounded: the first try fails within seconds
            seen.append(line)
            if "Failed to connect" in line:
                break
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        rest, _ = process.communicate(timeout=15)
        stopped_in = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    assert stopped_in < 5
    assert "Traceback" not in output
    assert "WARNING" not in output
    failures = [ln for ln in output.splitlines() if "Failed to connect" in ln]
    assert failures
    assert all("Retrying" in ln for ln in failures)  # the whole try, in its one line


@pytest.mark.parametrize("which", ["HABOT_HTTP_PORT", "HABOT_PROBES_PORT"])
def test_a_port_already_taken_is_one_line_and_no_job_starts(which: str, tmp_path: Path) -> None:
    """The ports are bound before any background job starts: a port in use stops serve with
    one error line and no traceback (a poll cut short at that moment once printed
    APScheduler's)."""
    (tmp_path / "habot.yaml").write_text(
        cluster_yaml(tmp_path) + "approvers: anyone\nallowed_channels: any\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "HABOT_CONFIG": str(tmp_path / "habot.yaml"),
            "HABOT_DB": str(tmp_path / "habot.sqlite3"),
            "HABOT_HTTP_PORT": "0",
            "HABOT_PROBES_PORT": "0",
            which: port,
        }
        done = habot("serve", env=env, cwd=tmp_path)
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert f"('127.0.0.1', {port}): address already in use" in lines[-1]
    assert "Traceback" not in done.stderr
    assert not [line for line in lines if " ERROR " in line or " WARNING " in line], lines
