"""`habot ...`: the command line, and the only place where the parts are put together."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from habot import __version__
from habot.config import HabotConfig, load_config
from habot.console import repl
from habot.errors import ConfigError
from habot.lab import cli as lab_cli
from habot.ops import ClusterHandle, Ops
from habot.settings import load_settings
from habot.ssh.asyncssh_transport import AsyncsshTransport

EXIT_CONFIG = 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="habot", description="Operate a Pacemaker/Corosync cluster from Slack."
    )
    top.add_argument("--version", action="version", version=f"habot {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    console = commands.add_parser("console", help="type /ha commands at a prompt, no Slack")
    console.add_argument("--config", type=Path, help="config file (default: $HABOT_CONFIG)")
    console.set_defaults(handler=_console)
    lab_cli.register(commands)
    return top


def build_ops(config: HabotConfig) -> Ops:
    handles = {
        name: ClusterHandle(
            name,
            cluster,
            AsyncsshTransport(
                client_key=cluster.ssh_key,
                known_hosts=cluster.known_hosts,
                connect_timeout=cluster.connect_timeout_s,
            ),
        )
        for name, cluster in config.clusters.items()
    }
    return Ops(clusters=handles)


def _config(args: argparse.Namespace) -> HabotConfig:
    path = args.config if args.config is not None else load_settings().config
    return load_config(path)


def _console(args: argparse.Namespace) -> int:
    config = _config(args)

    async def session() -> int:
        ops = build_ops(config)
        try:
            return await repl.run(ops, _write)
        finally:
            await ops.close()

    return asyncio.run(session())


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        code: int = args.handler(args)
    except ConfigError as e:
        print(f"habot: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return code
