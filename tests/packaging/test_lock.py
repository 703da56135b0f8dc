"""The lock: what a new machine installs is exactly what requirements/*.txt pins, with hashes,
within pyproject.toml's ranges; and habot's commands print no Python warning."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from habot.launcher import KNOWN

ROOT = Path(__file__).parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(name: str) -> dict[str, str]:
    """Package → version of one lock file; every pin carries at least one sha256 hash."""
    found: dict[str, str] = {}
    text = (ROOT / "requirements" / name).read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match is None:
            continue
        assert "--hash=sha256:" in block, f"{name}: {match[1]} has no hash"
        found[canonicalize_name(match[1])] = match[2]
    return found


def project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"runtime": data["dependencies"], "dev": data["optional-dependencies"]["dev"]}


def test_every_dependency_is_pinned_within_its_range() -> None:
    runtime, dev = pins("runtime.txt"), pins("dev.txt")
    declared = project()
    for lock, lines in (
        (runtime, declared["runtime"]),
        (dev, declared["runtime"] + declared["dev"]),
    ):
        for line in lines:
            wanted = Requirement(line)
            name = canonicalize_name(wanted.name)
            assert name in lock, f"{name} is not in the lock"
            assert wanted.specifier.contains(lock[name], prereleases=True), (name, lock[name])


def test_the_dev_lock_keeps_the_runtime_pins() -> None:
    runtime, dev = pins("runtime.txt"), pins("dev.txt")
    assert {n: v for n, v in dev.items() if n in runtime} == runtime
    assert "setuptools" in runtime  # habot itself is built from locked parts, no isolation


def test_this_environment_is_the_lock() -> None:
    """.venv (made by scripts/bootstrap) holds exactly the locked versions."""
    lock = pins("dev.txt")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = {n: (v, installed.get(n)) for n, v in lock.items() if installed.get(n) != v}
    assert differ == {}
    extra = set(installed) - set(lock) - {"habot", "pip"}
    assert extra == set()


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("scripts/bootstrap", "--require-hashes --no-deps -r requirements/dev.txt"),
        ("scripts/check", "scripts/bootstrap --venv-only"),
        ("scripts/test", "scripts/bootstrap"),
        ("Dockerfile", "--require-hashes --no-deps -r /src/requirements/runtime.txt"),
        (".ci/run", "scripts/test"),
    ],
)
def test_every_install_goes_through_the_lock(path: str, needle: str) -> None:
    text = (ROOT / path).read_text()
    assert needle in text
    assert "pip install -e '.[dev]'" not in text


def test_ignored_warnings_are_exactly_the_known_ones() -> None:
    """pytest ignores only what habot.launcher ignores: exact category and module, each why."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    filters = config["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert filters[0] == "error"
    assert filters[1:] == [known.pytest_filter() for known in KNOWN]
    for known in KNOWN:
        assert known.category.count(".") >= 1
        assert known.module
        assert known.why
        assert not known.category.endswith((".Warning", ".DeprecationWarning"))  # exact class


def run_habot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    return subprocess.run(
        [sys.executable, "-m", "habot", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "args",
    [("--help",), ("lab", "--help"), ("runbooks", "lint"), ("serve", "--help"), ("console", "-h")],
)
def test_habot_prints_no_python_warning(args: tuple[str, ...]) -> None:
    done = run_habot(*args)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


def test_the_entry_point_installs_the_filters_first() -> None:
    (script,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == "habot"]
    assert script.value == "habot.launcher:main"
