"""`habot lab ...`: the lab's command line."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from habot.errors import LabError
from habot.lab.lab import Lab
from habot.lab.layout import SHELLS, LabLayout


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lab = commands.add_parser("lab", help="a real two-node Pacemaker cluster on this machine")
    verbs = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")
    up = verbs.add_parser("up", help="create nodo1 and nodo2, start the cluster, load the seed")
    up.add_argument(
        "--shell",
        choices=SHELLS,
        default=None,
        help="the nodes' cluster shell: pcs (default), or crmsh — crmsh installed and no pcs, "
        "as on a SUSE node; the seed loaded with crm (kept until `habot lab down`)",
    )
    down = verbs.add_parser("down", help="stop everything the lab started and remove it")
    down.add_argument("--fast", action="store_true", help="kill at once, no graceful stop")
    down.add_argument("--purge", action="store_true", help="also delete the lab directory")
    verbs.add_parser("status", help="nodes, daemons and the cluster's view")
    for verb, text in (
        ("ssh", "ssh to a node as the lab's operator (admin, with sudo; root cannot log in)"),
        ("exec", "run a command inside a node (no ssh)"),
    ):
        p = verbs.add_parser(verb, help=text)
        p.add_argument("node")
        p.add_argument("argv", nargs=argparse.REMAINDER)
    for verb, text in (
        ("crash", "power a node off at once, as a hard crash"),
        ("boot", "power a node on"),
    ):
        verbs.add_parser(verb, help=text).add_argument("node")
    verbs.add_parser("reset", help="power on every node and push the seed's configuration back")
    lab.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    lab = Lab(LabLayout.default())
    try:
        if args.lab_command == "up" and args.shell and args.shell != lab.layout.shell:
            lab = Lab(_with_shell(lab, args.shell))
        return _dispatch(lab, args)
    except LabError as e:
        print(f"habot lab: {e}", file=sys.stderr)
        return 1


def _with_shell(lab: Lab, shell: str) -> LabLayout:
    """The layout with another shell, kept in the lab's directory for the commands after."""
    if lab.is_up():
        raise LabError(
            f"the lab is up with {lab.layout.shell}; `habot lab down` first to bring it up "
            f"with {shell}"
        )
    lab.layout.root.mkdir(parents=True, exist_ok=True)
    lab.layout.shell_file.write_text(shell + "\n")
    return replace(lab.layout, shell=shell)


def _dispatch(lab: Lab, args: argparse.Namespace) -> int:
    verb: str = args.lab_command
    if verb == "up":
        lab.up(say)
        return status(lab)
    if verb == "down":
        lab.down(say, grace=0 if args.fast else 20)
        if args.purge:
            lab.purge()
        return 0
    if verb == "status":
        return status(lab)
    if verb == "ssh":
        config = str(lab.layout.ssh_dir / "ssh_config")
        lab.node(args.node)  # refuses an unknown node before exec
        os.execvp("ssh", ["ssh", "-F", config, args.node, *args.argv])
    if verb == "exec":
        anchor = lab.node(args.node).require_anchor()
        argv = args.argv or ["bash", "-l"]
        os.execvp("nsenter", ["nsenter", "-t", str(anchor), "-m", "-u", "-n", "--", *argv])
    if verb == "crash":
        lab.crash(args.node)
        say(f"{args.node} powered off")
        return 0
    if verb == "boot":
        lab.boot(args.node)
        say(f"{args.node} powering on")
        return 0
    lab.reset()
    say("seed configuration pushed back")
    return 0


def say(line: str) -> None:
    print(f"habot lab: {line}", flush=True)


def status(lab: Lab) -> int:
    if not any(n.anchor() for n in lab.nodes()):
        say("down")
        return 3
    for node in lab.nodes():
        daemons = " ".join(f"{d}:{'up' if ok else 'down'}" for d, ok in node.daemons().items())
        print(
            f"{node.spec.name:6} {node.power_state():9} {node.spec.address:11} "
            f"ssh {node.spec.ssh_host}:{lab.layout.ssh_port}  {daemons}"
        )
    online = lab.online_nodes()
    print(f"online in the cluster: {', '.join(sorted(online)) or 'none'}")
    print(
        f"ssh: ssh -F {lab.layout.ssh_dir / 'ssh_config'} nodo1    "
        f"habot config: {lab.layout.config_file}"
    )
    return 0
