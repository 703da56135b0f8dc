"""The deployment files: the systemd unit is valid and hardened (systemd's own exposure score),
and the compose file runs two replicas on one PostgreSQL with the settings habot reads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from habot.settings import Settings

DEPLOY = Path(__file__).parents[2] / "deploy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_unit_is_hardened() -> None:
    unit = str(DEPLOY / "habot.service")
    done = subprocess.run(
        # the threshold is in tenths: over an exposure of 2.0 (of 10) fails
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "Overall exposure level for habot.service: 1." in done.stdout


def test_the_unit_stops_cleanly_and_runs_as_habot() -> None:
    unit = (DEPLOY / "habot.service").read_text()
    assert "User=habot" in unit
    assert "ExecStart=/opt/habot/bin/habot serve" in unit
    assert "TimeoutStopSec=30" in unit  # more than the runs' 10 s grace at stop


def test_compose_runs_two_replicas_on_postgres() -> None:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    replicas = [name for name in services if name.startswith("habot-")]
    assert len(replicas) == 2
    assert services["db"]["image"].startswith("postgres:")
    for name in replicas:
        service = services[name]
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        for variable in service["environment"]:
            assert variable in _setting_names(), variable
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])


def _setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names |= {str(a) for a in getattr(alias, "choices", [alias]) if a}
    return names
