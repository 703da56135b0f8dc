"""`habot ...`: the command line. Each command imports what it uses when it runs (serving
and the console put the parts together in habot.serving): `habot --version`, `config check`
or `runbooks lint` never wait for Slack's, SSH's and the scheduler's libraries to load."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import traceback
import urllib.error
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from habot import __version__
from habot.errors import ConfigError, HabotError, RunbookError, StoreError

if TYPE_CHECKING:
    from habot.config import HabotConfig
    from habot.console.repl import Console
    from habot.runbooks.model import Runbook
    from habot.service import sudoers

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1  # a service habot needs (its database) does not answer
EXIT_FAILED = 1  # what was asked could not be done, said why
EXIT_SOFTWARE = 70  # EX_SOFTWARE: a defect of habot's; said in one line


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="habot", description="Operate a Pacemaker/Corosync cluster from Slack."
    )
    top.add_argument("--version", action="version", version=f"habot {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    console = commands.add_parser("console", help="type /ha commands at a prompt, no Slack")
    console.add_argument("--config", type=Path, help="config file (default: $HABOT_CONFIG)")
    console.add_argument(
        "--no-alerts",
        dest="alerts",
        action="store_false",
        help="do not poll the nodes' logs for alerts",
    )
    console.set_defaults(handler=_console)
    serve = commands.add_parser("serve", help="run the Slack bot (Socket Mode or HTTP mode)")
    serve.add_argument("--config", type=Path, help="config file (default: $HABOT_CONFIG)")
    serve.set_defaults(handler=_serve)
    runbooks = commands.add_parser("runbooks", help="check runbook files")
    verbs = runbooks.add_subparsers(dest="runbooks_command", required=True, metavar="COMMAND")
    lint = verbs.add_parser("lint", help="validate runbooks (default: the shipped ones)")
    lint.add_argument("paths", nargs="*", type=Path, help="YAML files or directories")
    verbs.add_parser("schema", help="print the runbook format as JSON Schema")
    runbooks.set_defaults(handler=_runbooks)
    config = commands.add_parser("config", help="check a config file")
    config_verbs = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    check = config_verbs.add_parser(
        "check", help="validate it and print the effective policy (asks Slack about IDs)"
    )
    check.add_argument("--config", type=Path, help="config file (default: $HABOT_CONFIG)")
    config.set_defaults(handler=_config_check)
    probe = commands.add_parser(
        "probe", help="exit 0 when the local habot serve answers /healthz (a HEALTHCHECK)"
    )
    probe.add_argument("--ready", action="store_true", help="ask /readyz instead")
    probe.set_defaults(handler=_probe)
    node_files = commands.add_parser(
        "node-files",
        help="write what an unprivileged node user needs on each node: habot-node, its rules "
        "and the sudoers file",
    )
    node_files.add_argument("directory", type=Path, help="where to write them (made if missing)")
    sudoers = commands.add_parser(
        "sudoers", help="print the sudoers file an unprivileged node user needs"
    )
    for sub in (sudoers, node_files):
        _node_options(sub)
    sudoers.set_defaults(handler=_sudoers)
    node_files.set_defaults(handler=_node_files)
    for plugin in entry_points(group="habot.commands"):
        plugin.load()(commands)  # `habot lab`, when the lab is installed
    return top


def _config_check(args: argparse.Namespace) -> int:
    """Exit 0 when `habot serve` would start with it and run; 1 with its problems (each by its
    key and file); 2 when the file itself cannot be read."""
    from slack_sdk import WebClient

    from habot.console import config_check
    from habot.runbooks.loader import load_all
    from habot.service import capacity, readiness
    from habot.settings import load_settings

    settings = load_settings()
    config = _config(args)
    found = readiness.problems(config)
    try:
        runbooks = load_all([d for d in config.runbook_dirs if d.is_dir()])
    except RunbookError:  # said by readiness, with its file
        runbooks = load_all()
    found += config_check.problems(config, runbooks)
    if settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value():
        client = WebClient(
            token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
        )
        found += config_check.unknown_to_slack(config, client)
        found += config_check.not_a_member(config, client)
    for line in config_check.effective_policy(config, runbooks):
        print(line)
    for line in config_check.shells(config, runbooks):
        print(line)
    clusters = config.clusters.values()
    for warning in capacity.warnings(clusters, settings.max_clusters, capacity.hard_open_files()):
        print(f"warning: {warning}", file=sys.stderr)
    for problem in found:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if found else 0


def _probe(args: argparse.Namespace) -> int:
    """GET /healthz (or /readyz) of the habot serve on HABOT_PROBES_HOST:HABOT_PROBES_PORT."""
    from habot.settings import load_settings

    settings = load_settings()
    host = settings.probes_host
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
    url = f"http://{host}:{settings.probes_port}/{'readyz' if args.ready else 'healthz'}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            print(answer.read().decode(errors="replace").strip())
            return 0
    except urllib.error.HTTPError as e:
        print(e.read().decode(errors="replace").strip() or e.reason, file=sys.stderr)
    except OSError as e:
        print(f"habot: {url}: {e}", file=sys.stderr)
    return 1


def _node_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--config", type=Path, help="config file (default: $HABOT_CONFIG)")
    sub.add_argument(
        "--runbooks",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="more runbooks (*.yaml) besides the shipped ones and the config's",
    )
    sub.add_argument("--user", help="the node user (default: the config's, else habot)")
    sub.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="where a command lives on the nodes, when not where Debian and RHEL keep it",
    )


def _node_rules(
    args: argparse.Namespace,
) -> tuple[str, list[sudoers.Rule], dict[str, str], tuple[str, ...]]:
    """(node user, rules, paths, log files) for the config and runbooks; SudoersError when a
    runbook command cannot be bounded."""
    from habot.config import load_config
    from habot.node import AGENT_FILE
    from habot.runbooks.loader import load_all
    from habot.service import sudoers
    from habot.settings import load_settings

    path = args.config if args.config is not None else load_settings().config
    config = load_config(path) if args.config is not None or path.exists() else None
    runbooks = load_all([*(config.runbook_dirs if config else ()), *args.runbooks])
    users = {n.user for c in (config.clusters.values() if config else ()) for n in c.nodes}
    user = args.user or next(iter(users - {"root"}), "habot")
    paths = dict(p.split("=", 1) for p in args.path if "=" in p)
    files: tuple[str, ...] = (AGENT_FILE,)
    if config is not None:
        files = tuple(
            sorted(
                {
                    f
                    for c in config.clusters.values()
                    if "file" in c.alerts.sources
                    for f in c.alerts.files
                }
                # the alert agent's records (no secret in them): readable whether or not
                # the agent source is on yet, so turning it on needs no new node rules
                | {c.alerts.agent_file for c in config.clusters.values()}
            )
        )
    found = sudoers.rules(runbooks.values(), paths=paths)
    return user, found, paths, files


def _sudoers(args: argparse.Namespace) -> int:
    """Print the sudoers file; exit 1 (saying why) when a runbook command cannot be bounded."""
    from habot.service import sudoers

    try:
        user, _, _, _ = _node_rules(args)
        sys.stdout.write(sudoers.render(user))
    except sudoers.SudoersError as e:
        print(f"habot: {e}", file=sys.stderr)
        return 1
    return 0


def _node_files(args: argparse.Namespace) -> int:
    """habot-node, rules.json and habot.sudoers in a directory, to review and install."""
    from habot.service import sudoers

    try:
        user, found, paths, logs = _node_rules(args)
    except sudoers.SudoersError as e:
        print(f"habot: {e}", file=sys.stderr)
        return 1
    out: Path = args.directory
    out.mkdir(parents=True, exist_ok=True)
    for name, text, mode in (
        ("habot-node", sudoers.helper_text(), 0o755),
        ("habot-alert", sudoers.agent_text(), 0o755),  # Pacemaker's alert agent (as hacluster)
        ("rules.json", sudoers.node_rules(found, paths, logs), 0o644),
        ("habot.sudoers", sudoers.render(user), 0o440),
    ):
        (out / name).write_text(text)
        (out / name).chmod(mode)
    print(
        f"wrote {out}/habot-node, habot-alert, rules.json and habot.sudoers "
        "(see habot.sudoers to install)"
    )
    return 0


def _runbooks(args: argparse.Namespace) -> int:
    from habot.runbooks.loader import json_schema, load_file, shipped_dir

    if args.runbooks_command == "schema":
        sys.stdout.write(json_schema())
        return 0
    paths = args.paths or [shipped_dir()]
    files = sorted(f for p in paths for f in (p.glob("*.yaml") if p.is_dir() else [p]))
    failed = 0
    for path in files:
        try:
            runbook = load_file(path)
        except RunbookError as e:
            failed += 1
            print(e, file=sys.stderr)
            continue
        steps = sum(len(s.leaves()) for s in runbook.steps)
        shells = _shells(runbook)
        print(f"ok  {path}: {runbook.name} ({steps} steps; {previewed(runbook)}; {shells})")
    if not files:
        print("no runbook files found", file=sys.stderr)
        return 1
    return 1 if failed else 0


def _shells(runbook: Runbook) -> str:
    """Which cluster shells the runbook runs on, and why not crmsh (its first such step)."""
    from habot.runbooks.plan import crmsh_refusals

    why = crmsh_refusals(runbook)
    return f"pcs only: {why[0].split(',')[0]}" if why else "pcs and crmsh"


def previewed(runbook: Runbook) -> str:
    """How the runbook's card shows what the cluster will do."""
    from habot.runbooks.replay import may_edit

    if runbook.preview:
        return f"preview: by hand, {len(runbook.preview)} edits"
    steps = [leaf for s in runbook.steps for leaf in s.leaves()]
    replayable = [s.name for s in steps if s.cib or (s.run and may_edit(s.run))]
    others = [s.name for s in steps if s.run and not may_edit(s.run)]
    if not replayable:
        return "preview: none (not simulated: " + (", ".join(others) or "no command") + ")"
    tail = f"; not simulated: {', '.join(others)}" if others else ""
    return f"preview: from its steps ({', '.join(replayable)}){tail}"


def _config(args: argparse.Namespace) -> HabotConfig:
    from habot.config import load_config
    from habot.settings import load_settings

    path = args.config if args.config is not None else load_settings().config
    return load_config(path)


def _console(args: argparse.Namespace) -> int:
    from habot.console import repl
    from habot.runbooks.loader import load_all
    from habot.service.alert_poller import Poller, schedule
    from habot.service.workflow import Workflow
    from habot.serving import build_ops, load_rules, stop_polling
    from habot.settings import load_settings
    from habot.store import Store

    settings = load_settings()
    config = _config(args)
    runbooks, catalogue = load_all(config.runbook_dirs), load_rules(config)

    async def session() -> int:
        ops = build_ops(config)
        store = Store(settings.database)
        console = repl.Console(
            ops=ops,
            workflow=Workflow(ops, store, runbooks, config, fleet_clock=store.now),
            write=_write,
            ask=repl.ask,
            approvers=_approvers_text(config),
        )
        sink = repl.ConsoleAlertSink(_write, catalogue)
        poller = Poller(ops, store, catalogue, sink, runbooks=runbooks, follow=True)
        scheduler = schedule(poller, list(ops.clusters.values())) if args.alerts else None
        due = asyncio.create_task(_run_due(console), name="scheduled-runs")
        try:
            return await repl.run(console)
        finally:
            due.cancel()
            await asyncio.gather(due, return_exceptions=True)
            if scheduler is not None:
                await stop_polling(scheduler, poller)
            await ops.close()
            store.close()

    return asyncio.run(session())


async def _run_due(console: Console) -> None:
    """Scheduled runs at their time, while the console is open."""
    from habot.errors import HabotError

    while True:
        await asyncio.sleep(5)
        try:
            await console.run_due()
        except HabotError as e:
            console.write(f"\nscheduled runs not read: {e}\n")


def _approvers_text(config: HabotConfig) -> str:
    if config.approvers == "anyone":
        return "anyone in an allowed channel"
    return ", ".join(config.approvers) or "an approver (none is configured yet)"


def _serve(args: argparse.Namespace) -> int:
    from habot import log_format
    from habot.config import load_config, require_closed
    from habot.service import readiness
    from habot.serving import serve_until_stopped
    from habot.settings import load_settings

    settings = load_settings()
    settings.require_slack()
    path = args.config if args.config is not None else settings.config
    config = load_config(path)
    require_closed(config, path)
    readiness.require(config, path)
    log_format.configure(settings.log_level, settings.log_format)
    return asyncio.run(serve_until_stopped(settings, config))


def _write(text: str) -> None:
    from habot.console import text as console_text

    sys.stdout.write(console_text.printable(text))
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        code: int = args.handler(args)
    except (ConfigError, RunbookError) as e:
        print(f"habot: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:  # the database cannot be opened or reached: said in one line
        print(f"habot: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except HabotError as e:
        print(f"habot: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # no input makes habot print a traceback (DEBUG shows where)
        logging.getLogger(__name__).debug("habot failed", exc_info=True)
        print(
            f"habot: {type(e).__name__}: {' '.join(str(e).split())[:300]} "
            "(HABOT_LOG_LEVEL=DEBUG shows where)",
            file=sys.stderr,
        )
        if os.environ.get("HABOT_LOG_LEVEL", "").upper() == "DEBUG":
            traceback.print_exc()
        return EXIT_SOFTWARE
    return code
