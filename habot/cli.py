"""`habot ...`: the command line, and the only place where the parts are put together."""

from __future__ import annotations

import argparse
import sys

from habot import __version__
from habot.lab import cli as lab_cli


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="habot", description="Operate a Pacemaker/Corosync cluster from Slack."
    )
    top.add_argument("--version", action="version", version=f"habot {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lab_cli.register(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    code: int = args.handler(args)
    return code
