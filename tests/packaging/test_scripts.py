"""The README's two commands as printed: `scripts/try` and `scripts/test`, on a new Debian 12
machine where root has no sudo, or as a user with sudo. As root they never call sudo; as
another user they run themselves again through sudo, keeping the settings they read (sudo's
env_reset would drop them); without sudo, they say to run them as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPTS = ROOT / "scripts"
STUB = """#!/bin/sh
echo "sudo $*" >> {log}
exit 0
"""
# what scripts/try and scripts/test do first: the rest of them is the suite itself
PROBE = """set -euo pipefail
. {root_sh}
as_root "$0" "$@"
echo "ran as $(id -u) with HABOT_LAB_DIR=${{HABOT_LAB_DIR:-}}"
"""
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A directory any user may enter (pytest's own are root's alone)."""
    made = Path(tempfile.mkdtemp(prefix="habot-scripts-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made)


def probe(tmp_path: Path, *, sudo: bool, as_user: int | None) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"  # the tools the scripts use, and sudo or not: nothing else
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "id", "basename", "env"):
        found = shutil.which(tool)
        assert found is not None
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    log = tmp_path / "sudo.log"
    log.touch(mode=0o666)
    log.chmod(0o666)  # the stub writes it as the user
    if sudo:
        (bin_dir / "sudo").write_text(STUB.format(log=log))
        (bin_dir / "sudo").chmod(0o755)
    script = tmp_path / "script"
    # root.sh copied where the user can read it (the checkout may be root's alone)
    shutil.copyfile(SCRIPTS / "root.sh", tmp_path / "root.sh")
    (tmp_path / "root.sh").chmod(0o644)
    script.write_text(PROBE.format(root_sh=tmp_path / "root.sh"))
    script.chmod(0o755)
    argv = [str(bin_dir / "bash"), str(script), "--first", "arg two"]
    if as_user is not None:
        setpriv = shutil.which("setpriv")
        assert setpriv is not None
        argv = [setpriv, f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *argv]
    env = {"PATH": str(bin_dir), "HABOT_LAB_DIR": "/srv/lab", "UNRELATED": "x"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30, check=False)


def sudo_calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "sudo.log").read_text().splitlines()


@needs_root
def test_as_root_the_scripts_never_call_sudo(tmp_path: Path) -> None:
    for sudo in (False, True):  # whether or not the machine has it
        done = probe(tmp_path, sudo=sudo, as_user=None)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "ran as 0 with HABOT_LAB_DIR=/srv/lab\n"
    assert sudo_calls(tmp_path) == []


@needs_root
def test_as_a_user_they_run_themselves_again_through_sudo_keeping_their_settings(
    tmp_path: Path,
) -> None:
    done = probe(tmp_path, sudo=True, as_user=65534)
    assert done.returncode == 0, done.stderr
    (call,) = sudo_calls(tmp_path)
    assert call == f"sudo -- env HABOT_LAB_DIR=/srv/lab {tmp_path}/script --first arg two"
    assert "UNRELATED" not in call


@needs_root
def test_as_a_user_without_sudo_they_say_to_run_as_root(tmp_path: Path) -> None:
    done = probe(tmp_path, sudo=False, as_user=65534)
    assert done.returncode == 1
    assert "needs root, and there is no sudo here: run it as root" in done.stderr


@pytest.mark.parametrize("name", ["try", "test"])
def test_both_readme_commands_ask_for_root_before_anything_else(name: str) -> None:
    lines = [ln for ln in (SCRIPTS / name).read_text().splitlines() if ln and ln[0] != "#"]
    assert lines[:3] == ["set -euo pipefail", '. "$(dirname "$0")/root.sh"', 'as_root "$0" "$@"']
    readme = (ROOT / "README.md").read_text()
    assert f"\nscripts/{name} " in readme  # printed without sudo
    assert f"sudo scripts/{name}" not in readme
