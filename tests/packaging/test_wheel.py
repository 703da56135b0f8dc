"""The package as users install it: a wheel, into a clean virtualenv, not editable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.fakes.slack_server import FakeSlack
from tests.packaging.serving import check_served, environment, node_config, serve
from tests.ssh.server import Sshd, free_port

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.network


def data_files() -> list[str]:
    """Every file of the package that is not Python: each must be in the wheel."""
    found = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "habot").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert "habot/alerts/rules.yaml" in found
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source")  # a copy: building leaves build/ behind
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "habot", source / "habot", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return next(out.glob("habot-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check"]
    lock = ["--require-hashes", "--no-deps", "-r", str(ROOT / "requirements/runtime.txt")]
    for args in (lock, ["--no-deps", str(wheel)]):  # as the Dockerfile: the lock, then habot
        done = subprocess.run(
            [*pip, *args], capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
    checked = subprocess.run(
        [str(venv / "bin/pip"), "check"], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout
    return venv


def test_the_wheel_ships_every_data_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert [f for f in data_files() if f not in names] == []


async def test_installed_serve_starts_answers_and_polls(
    installed: Path, sshd: Sshd, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    config = node_config(tmp_path / "etc", sshd)
    port = free_port()
    env = environment(fake_slack, config, tmp_path / "habot.sqlite3", port)
    env["HABOT_LOG_FORMAT"] = "json"
    served = await serve([str(installed / "bin/habot"), "serve"], env)
    await check_served(served, fake_slack, port, int(env["HABOT_PROBES_PORT"]))
    records = [json.loads(line) for line in served.log if line.strip()]  # every line is JSON
    polls = [r for r in records if r["message"].startswith("poll of local:")]
    assert polls
    assert polls[0]["cluster"] == "local"
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert not [r for r in records if r["logger"].startswith("asyncssh")]  # no chatter
    assert not [r for r in records if r["logger"] in ("py.warnings", "apscheduler.executors")]
    assert not [line for line in served.log if "Warning:" in line]  # no Python warning printed
