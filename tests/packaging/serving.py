"""`habot serve` as a process (from an installed wheel, or in the image): started with a
cluster config and the fake Slack, asked a signed `/ha help`, watched until it has polled."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from tests.fakes.slack_server import FakeSlack
from tests.slack.harness import SIGNING_SECRET, signed_headers, slash_payload
from tests.ssh.server import Sshd, free_port


def node_config(
    directory: Path, sshd: Sshd, *, owner: int | None = None, seen_as: Path | None = None
) -> Path:
    """A one-node cluster on the tests' own sshd, its key readable by `owner` (the image's
    non-root user); `seen_as`: where the directory is mounted in the container."""
    directory.mkdir(parents=True, exist_ok=True)
    key, known = directory / "id_ed25519", directory / "known_hosts"
    key.write_bytes(sshd.client_key.read_bytes())
    known.write_bytes(sshd.known_hosts.read_bytes())
    config = directory / "habot.yaml"
    inside = seen_as or directory
    config.write_text(
        "approvers: [UBOB]\nallowed_channels: [COPS]\nclusters:\n  local:\n"
        f"    ssh_key: {inside / key.name}\n    known_hosts: {inside / known.name}\n"
        "    alerts_channel: CALERTS\n"
        "    alerts: {interval_s: 1, lookback_s: 60}\n"
        f"    nodes:\n      - {{name: here, host: 127.0.0.1, port: {sshd.port}, "
        f"user: {sshd.user}}}\n"
    )
    for path in (directory, key, known, config):
        path.chmod(0o755 if path.is_dir() else 0o644)
        if owner is not None:
            os.chown(path, owner, owner)
    return config


def environment(fake: FakeSlack, config: Path, db: Path, port: int) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-0000-habot-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HABOT_SLACK_API_URL": fake.api_url,
        "HABOT_CONFIG": str(config),
        "HABOT_DB": str(db),
        "HABOT_HTTP_HOST": "127.0.0.1",
        "HABOT_HTTP_PORT": str(port),
        "HABOT_PROBES_HOST": "127.0.0.1",
        "HABOT_PROBES_PORT": str(free_port()),
        "HABOT_ALERTS": "true",
    }


@dataclass
class Served:
    process: asyncio.subprocess.Process
    log: list[str] = field(default_factory=list)

    async def wait_for_line(self, text: str, timeout: float = 60) -> str:
        """The first line with `text`, among those read already or those to come."""
        seen = next((line for line in self.log if text in line), None)
        if seen is not None:
            return seen

        async def read() -> str:
            assert self.process.stderr is not None
            while True:
                raw = await self.process.stderr.readline()
                if not raw:
                    raise AssertionError(f"habot serve ended before {text!r}: {self.log[-20:]}")
                line = raw.decode(errors="replace")
                self.log.append(line)
                if text in line:
                    return line

        try:
            return await asyncio.wait_for(read(), timeout)
        except TimeoutError as e:
            raise AssertionError(f"no {text!r} within {timeout} s: {self.log[-20:]}") from e

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            rest = await asyncio.wait_for(self.process.communicate(), 30)
        except TimeoutError:
            self.process.kill()
            rest = await self.process.communicate()
        self.log += rest[1].decode(errors="replace").splitlines() if rest[1] else []
        return int(self.process.returncode or 0)


async def serve(argv: list[str], env: dict[str, str]) -> Served:
    process = await asyncio.create_subprocess_exec(
        *argv,
        env={"PATH": os.environ["PATH"], **env},
        cwd="/",  # nothing of the checkout is importable from here
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return Served(process)


async def ask_help(fake: FakeSlack, port: int) -> tuple[int, str]:
    """A signed `/ha help` into the served endpoint: (HTTP status, body)."""
    body = urlencode(slash_payload(fake, "help", user="UALICE", channel="COPS"))
    url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # bounded: the port opens within seconds
            try:
                async with session.post(url, data=body, headers=signed_headers(body)) as r:
                    return r.status, await r.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
    raise AssertionError(f"nothing listens on {url}")


async def check_served(served: Served, fake: FakeSlack, port: int, probes_port: int) -> None:
    """It starts, answers a signed `/ha help`, and completes a poll of the cluster."""
    await served.wait_for_line("listening on")
    status, body = await ask_help(fake, port)
    assert status == 200, body
    assert "`/ha status`" in body
    assert "takes `cluster=NAME`" in body
    line = await served.wait_for_line("poll of local:")
    assert "lines" in line
    base = f"http://127.0.0.1:{probes_port}"  # the probes' own port
    async with aiohttp.ClientSession() as session:
        for path, expected in (("/healthz", "ok"), ("/readyz", "ready"), ("/metrics", "habot_")):
            async with session.get(base + path) as r:
                text = await r.text()
                assert r.status == 200, (path, text)
                assert expected in text, path
    assert await served.stop() == 0, served.log[-20:]
    assert "Traceback" not in "".join(served.log)
