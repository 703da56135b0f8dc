"""Thousands of benchmark "nodes" in one process: an SSH server (asyncssh, on loopback) that
answers habot-node's protocol with recorded outputs, for the scale benchmark.

Every node is a login name (`c0007-nodo1`: cluster c0007's nodo1) with the benchmark's client
key; habot logs in as it does to a node user (`sudo` and the helper, host key verified), so
its side runs exactly as against real nodes: one connection per node, one read session per
node (`habot-node session NONCE`: framed replies), one followed journal per node (`habot-node
journal --follow`). What the "nodes" answer:

- `status`: a lab capture of crm_mon's XML, the constraints, the cluster name;
- `journal --since=@T` (a first read): a recorded batch of the lab's journal; `journal
  --after-cursor=…`: nothing (a quiet cluster);
- anything else: exit 0, nothing;
- a followed journal stays open, and prints a `Node nodo2 state is now lost` record when the
  driver writes `emit LOGIN` on this process's stdin.

It prints `ready PORT` once it listens, and runs until its stdin ends. Run by
benchmarks.bench_scale, never by hand; loopback only."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
import time
from pathlib import Path

import asyncssh

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
CRM_MON = (FIXTURES / "crm_mon" / "lab_seed_fenced.xml").read_bytes()
JOURNAL = FIXTURES / "logs" / "lab_dlm_without_fencing" / "nodo1_journal.json"
BATCH = b"".join(JOURNAL.read_bytes().splitlines(keepends=True)[:200])
SEPARATOR = b"\n--habot-section--\n"
STATUS = CRM_MON + SEPARATOR + b"<constraints/>\n" + SEPARATOR + b"mycluster\n"

follows: dict[str, set[asyncssh.SSHServerProcess[bytes]]] = {}
emitted = 0


def record(login: str) -> bytes:
    """One journal record as journalctl -o json prints it: pacemaker-attrd (as hacluster)
    saying the peer was lost, stamped now, with a cursor of its own."""
    global emitted
    emitted += 1
    node = login.rsplit("-", 1)[-1]
    peer = "nodo2" if node == "nodo1" else "nodo1"
    now_us = int(time.time() * 1_000_000)
    fields = {
        "__CURSOR": f"s=bench;i={emitted:x};b=bench;m={now_us:x};t={now_us:x};x={emitted:x}",
        "__REALTIME_TIMESTAMP": str(now_us),
        "_SOURCE_REALTIME_TIMESTAMP": str(now_us),
        "PRIORITY": "5",
        "SYSLOG_IDENTIFIER": "pacemaker-attrd",
        "MESSAGE": f" notice: Node {peer} state is now lost",
        "_HOSTNAME": node,
        "_UID": "102",
        "_GID": "105",
        "_PID": "2358",
        "_COMM": "pacemaker-attrd",
        "_EXE": "/usr/lib/pacemaker/pacemaker-attrd",
        "_TRANSPORT": "syslog",
    }
    return json.dumps(fields).encode() + b"\n"


def answer(argv: list[str]) -> tuple[int, bytes]:
    if argv == ["status"]:
        return 0, STATUS
    if argv[:1] == ["journal"] and any(a.startswith("--since=") for a in argv):
        return 0, BATCH
    return 0, b""


async def session(process: asyncssh.SSHServerProcess[bytes], ready: str) -> None:
    process.stdout.write(ready.encode() + b"\n")
    while True:
        line = await process.stdin.readline()
        if not line:
            break
        request = json.loads(line)
        rc, out = answer(request["argv"])
        process.stdout.write(f"{request['nonce']} {rc} {len(out)} 0\n".encode() + out)
    process.exit(0)


async def follow(process: asyncssh.SSHServerProcess[bytes]) -> None:
    login = process.get_extra_info("username")
    mine = follows.setdefault(login, set())
    mine.add(process)
    try:
        await process.stdin.read()  # until habot closes the channel
    except (asyncssh.Error, OSError):
        pass
    finally:
        mine.discard(process)
    process.exit(0)


async def handle(process: asyncssh.SSHServerProcess[bytes]) -> None:
    argv = shlex.split(process.command or "")
    try:
        if "session" in argv:
            await session(process, argv[-1])
        elif "--follow" in argv:
            await follow(process)
        else:
            process.exit(0)
    except (asyncssh.Error, OSError, asyncio.IncompleteReadError):
        process.close()


async def control() -> None:
    """`emit LOGIN` lines from the driver, until its stdin ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        words = line.decode().split()
        if words[:1] == ["emit"] and len(words) == 2:
            for process in list(follows.get(words[1], ())):
                process.stdout.write(record(words[1]))


async def main(directory: str) -> None:
    home = Path(directory)
    server = await asyncssh.create_server(
        asyncssh.SSHServer,
        "127.0.0.1",
        0,
        server_host_keys=[str(home / "host_key")],
        authorized_client_keys=str(home / "client_key.pub"),
        process_factory=handle,
        encoding=None,
        allow_scp=False,
        keepalive_interval=0,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    try:
        await control()
    finally:
        server.close()


if __name__ == "__main__":
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(sys.argv[1]))
