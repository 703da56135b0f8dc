"""`habot ...`: the command line, and the only place where the parts are put together."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from habot import __version__
from habot.approvals.workflow import Workflow
from habot.commands import ha
from habot.config import HabotConfig, load_config
from habot.console import repl
from habot.errors import ConfigError
from habot.jobs import Jobs
from habot.lab import cli as lab_cli
from habot.ops import ClusterHandle, Ops
from habot.runbooks.loader import load_all
from habot.settings import Settings, SlackMode, load_settings
from habot.slack import app as slack_app
from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.store import Store

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
    serve = commands.add_parser("serve", help="run the Slack bot (Socket Mode or HTTP mode)")
    serve.add_argument("--config", type=Path, help="config file (default: $HABOT_CONFIG)")
    serve.set_defaults(handler=_serve)
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
    settings = load_settings()
    config = _config(args)
    runbooks = load_all(config.runbook_dirs)

    async def session() -> int:
        ops = build_ops(config)
        store = Store(settings.db)
        console = repl.Console(
            ops=ops, workflow=Workflow(ops, store, runbooks, config), write=_write, ask=repl.ask
        )
        try:
            return await repl.run(console)
        finally:
            await ops.close()
            store.close()

    return asyncio.run(session())


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require_slack()
    config = load_config(args.config if args.config is not None else settings.config)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(_serve_until_stopped(settings, config))


async def _serve_until_stopped(settings: Settings, config: HabotConfig) -> int:
    ops = build_ops(config)
    jobs = Jobs()
    app = slack_app.build_app(
        settings, ha.Deps(ops=ops, jobs=jobs, allowed_channels=config.allowed_channels)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if settings.slack_mode is SlackMode.SOCKET and settings.slack_app_token is not None:
        handler = await slack_app.serve_socket_mode(
            app, settings.slack_app_token.get_secret_value()
        )
        await stop.wait()
        await handler.close_async()  # type: ignore[no-untyped-call]
    else:
        runner = await slack_app.serve_http(app, settings.http_host, settings.http_port)
        await stop.wait()
        await runner.cleanup()
    await jobs.shutdown()
    await ops.close()
    return 0


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
