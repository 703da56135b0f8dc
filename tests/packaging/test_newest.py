"""The newest versions pyproject.toml allows, without the lock, pass the fast lane: the next
release that breaks habot is a failing test naming the package, not a broken landing. When the
newest allowed versions are exactly the lock's, the suite around this test is that run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.packaging.test_lock import pins

ROOT = Path(__file__).parents[2]
FAST_LANE = "not lab and not container and not network and not postgres"
pytestmark = pytest.mark.network


def newer_than_the_lock(venv: Path) -> list[str]:
    """Every installed package whose version is not the lock's, or that the lock lacks."""
    frozen = subprocess.run(
        [str(venv / "bin/pip"), "freeze", "--disable-pip-version-check", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    lock = pins("dev.txt")
    seen = dict(re.findall(r"^([^=\s]+)==(\S+)$", frozen, flags=re.M))
    return [
        f"{name} {version} (lock {lock.get(key, 'none')})"
        for name, version in seen.items()
        if lock.get(key := canonicalize_name(name)) != version and key != "habot"
    ]


SKIP = (".git", ".venv", ".venv-tools", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis")


def copy_project(into: Path) -> Path:
    """A copy beside the shared fixtures (tests read ../shared), so nothing is built in place."""
    work = into / "main"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(*SKIP, "build"))
    shared = ROOT.parent / "shared"
    if shared.exists():
        (into / "shared").symlink_to(shared)
    return work


def test_the_newest_allowed_versions_pass_the_fast_lane(tmp_path: Path) -> None:
    work = copy_project(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", f"{work}[dev]"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    newer = newer_than_the_lock(venv)
    if not newer:  # the newest allowed versions are the lock's: the suite has just run on them
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    lane = subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-m",
            FAST_LANE,
            # this one checks the environment is the lock, which here it is not, on purpose
            "--deselect",
            "tests/packaging/test_lock.py::test_this_environment_is_the_lock",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=work,
        env=env,
    )
    assert lane.returncode == 0, (
        f"the fast lane fails on the newest allowed versions; newer than the lock: {newer}\n"
        + lane.stdout[-4000:]
        + lane.stderr[-2000:]
    )
