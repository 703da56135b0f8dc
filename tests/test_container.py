"""The real Dockerfile, built with podman and run: `habot --help` in the image, as non-root.

No registry is reachable here, so the base is a Debian 12 minbase made with debootstrap and
imported once (`localhost/debian:bookworm-local`); users build FROM python:3.11-slim.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.slack_server import FakeSlack
from tests.packaging.serving import check_served, environment, node_config, serve
from tests.ssh.server import Sshd, free_port

ROOT = Path(__file__).parents[1]
BASE = "localhost/debian:bookworm-local"
IMAGE = "localhost/habot:test"
MIRROR = "http://deb.debian.org/debian"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
IMAGE_UID = 10001
pytestmark = pytest.mark.container


def podman(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("podman") is None or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must build the image, but podman or root is missing")
        pytest.skip("needs root and podman (scripts/bootstrap installs it)")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text('[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n')
    os.environ["CONTAINERS_CONF"] = str(conf)  # crun fails here on rlimits; runc works
    if podman("image", "exists", BASE).returncode != 0:
        rootfs = tmp_path_factory.mktemp("rootfs")
        subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), MIRROR],
            check=True,
            capture_output=True,
            timeout=600,
        )
        with subprocess.Popen(
            ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        ) as tar:  # closes the pipe, whatever happens
            subprocess.run(
                ["podman", "import", "-", BASE],
                stdin=tar.stdout,
                check=True,
                capture_output=True,
                timeout=600,
            )
    build = podman(
        "build",
        "--format=docker",  # keeps the HEALTHCHECK (OCI images have none)
        "--isolation=chroot",
        "--build-arg",
        f"BASE={BASE}",
        "--build-arg",
        "PIP_CERT=/tmp/host-ca.crt",
        "-v",
        f"{HOST_CA}:/tmp/host-ca.crt:ro",
        "-t",
        IMAGE,
        str(ROOT),
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    yield IMAGE
    os.environ.pop("CONTAINERS_CONF", None)


def run(
    image: str, *command: str, entrypoint: str | None = None
) -> subprocess.CompletedProcess[str]:
    options = ["--entrypoint", entrypoint] if entrypoint else []
    return podman(
        "run",
        "--runtime",
        "runc",
        "--rm",
        "--network=none",
        *options,
        image,
        *command,
        timeout=120,
    )


def test_habot_help_runs_in_the_image(image: str) -> None:
    done = run(image, "--help")
    assert done.returncode == 0, done.stderr
    for command in ("console", "serve", "lab"):
        assert command in done.stdout


def test_image_runs_as_non_root_and_serve_checks_settings(image: str) -> None:
    who = run(image, "-u", entrypoint="id")
    assert who.stdout.strip() == "10001", who.stderr
    serve = run(image)
    assert serve.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in serve.stderr


async def test_serve_in_the_image_answers_and_polls(
    image: str, sshd: Sshd, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """The image's own `habot serve`, as its non-root user, on the host's loopback (the fake
    Slack and the tests' sshd): it starts, answers a signed /ha help and completes a poll."""
    config = node_config(tmp_path / "etc", sshd, owner=IMAGE_UID, seen_as=Path("/etc/habot"))
    port = free_port()
    env = environment(fake_slack, Path("/etc/habot/habot.yaml"), Path("/var/lib/habot/db"), port)
    name = f"habot-test-{port}"
    served = await serve(
        ["podman", "run", "--runtime", "runc", "--rm", "--network=host", f"--name={name}"]
        + ["-v", f"{config.parent}:/etc/habot:ro"]
        + [f"--env={name}={value}" for name, value in env.items()]
        + [image],
        {"CONTAINERS_CONF": os.environ["CONTAINERS_CONF"]},
    )
    await served.wait_for_line("listening on")
    health = podman("healthcheck", "run", name, timeout=60)  # the image's own HEALTHCHECK
    assert health.returncode == 0, health.stdout + health.stderr
    await check_served(served, fake_slack, port, int(env["HABOT_PROBES_PORT"]))
