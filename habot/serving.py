"""`habot serve` put together: the clusters' transports, the store, the workflow, the alert
poller and its schedule, the Slack app on its endpoint and the probes — and its clean stop.
The command line (habot.cli) imports it only to serve or to run the console, so a command
that needs none of it (`config check`, `sudoers`, `runbooks lint`) starts without it."""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp

from habot import probes
from habot.alerts.rules import Catalogue, load_catalogue
from habot.config import HabotConfig, require_closed
from habot.jobs import Jobs
from habot.runbooks.loader import load_all
from habot.service import capacity
from habot.service.alert_poller import Poller, schedule
from habot.service.clusters import ClusterHandle, Ops
from habot.service.home import Home
from habot.service.maintenance import Maintenance
from habot.service.workflow import HEARTBEAT_S, Workflow
from habot.settings import Settings, SlackMode
from habot.slack import app as slack_app
from habot.slack import maintenance, scheduled
from habot.slack.alert_sink import SlackAlertSink
from habot.slack.approvers import SlackDirectory
from habot.slack.deps import Deps
from habot.slack.expiry import SWEEP_S, expire_waiting
from habot.slack.home import HomeTabs
from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.store import Store, StoreError


def build_ops(config: HabotConfig) -> Ops:
    handles = {
        name: ClusterHandle(
            name,
            cluster,
            AsyncsshTransport(
                client_key=cluster.ssh_key,
                known_hosts=cluster.known_hosts,
                connect_timeout=cluster.connect_timeout_s,
                readers_per_node=cluster.read_sessions,
            ),
        )
        for name, cluster in config.clusters.items()
    }
    return Ops(clusters=handles)


@dataclass
class Bot:
    """Everything `habot serve` runs, put together (also what the tests drive)."""

    app: AsyncApp
    deps: Deps
    store: Store
    poller: Poller
    alert_clusters: list[ClusterHandle]
    probes: probes.Probes
    tabs: HomeTabs
    scheduler: AsyncIOScheduler | None = None
    sweeping: asyncio.Lock = field(default_factory=asyncio.Lock)  # a sweep under way

    def start_background(self, *, alerts: bool = True) -> None:
        """The alert polls (one job per cluster with an alerts channel, polling where this
        replica leads), and the sweeps: undecided requests expired, runs whose process went
        silent interrupted (a run's own task beats), maintenance windows ended or reminded
        of, scheduled runs started when due."""
        self.scheduler = schedule(self.poller, self.alert_clusters if alerts else [])
        client = self.app.client
        sweeps: list[tuple[str, float, list[object]]] = [
            ("expire-requests", SWEEP_S, [expire_waiting, self.deps.workflow, client]),
            ("interrupted-runs", HEARTBEAT_S, [announce_interrupted, self]),
            ("maintenance-windows", maintenance.TICK_S, [maintenance.tick, self.deps, client]),
            ("scheduled-runs", scheduled.TICK_S, [scheduled.run_due, self.deps, client]),
        ]
        for name, every, args in sweeps:
            self.scheduler.add_job(
                self.sweep,
                "interval",
                seconds=every,
                args=args,
                id=name,
                max_instances=1,
                coalesce=True,
            )

    async def sweep(self, work: Callable[..., Awaitable[object]], *args: object) -> None:
        """A background sweep; at close, the one under way ends before the store closes (a
        stop that cancels it anyway is no error to log)."""
        async with self.sweeping:
            try:
                await work(*args)
            except StoreError as e:
                logging.getLogger(__name__).warning("sweep skipped, no database: %s", e)
            except asyncio.CancelledError:
                logging.getLogger(__name__).info("a sweep was stopped: habot is stopping")

    async def close(self) -> None:
        if self.scheduler is not None:
            await stop_polling(self.scheduler, self.poller, self.sweeping)
        self.tabs.stop()
        await self.deps.jobs.shutdown()
        try:
            await self.poller.resign()
            await self.deps.workflow.abandon()  # runs cut short: the next sweep reports them
        except StoreError as e:
            logging.getLogger(__name__).error("leases and runs not handed over: %s", e)
        await self.deps.ops.close()
        self.store.close()


async def stop_polling(
    scheduler: AsyncIOScheduler, poller: Poller, sweeping: asyncio.Lock | None = None
) -> None:
    """No new poll or sweep starts; those under way end (never cut in the middle), then the
    scheduler stops with nothing left to cancel."""
    scheduler.pause()
    await poller.idle()
    if sweeping is not None:
        async with sweeping:
            pass
    scheduler.shutdown(wait=False)


def load_rules(config: HabotConfig) -> Catalogue:
    return load_catalogue([p for c in config.clusters.values() for p in c.alerts.rules])


def build_bot(
    settings: Settings,
    config: HabotConfig,
    *,
    ops: Ops | None = None,
    clock: Callable[[], float] = time.time,
) -> Bot:
    """Call inside a running event loop; settings and config were validated already. `ops`
    (the clusters and their transports) is built from the config unless given."""
    require_closed(config)
    ops = ops if ops is not None else build_ops(config)
    store, catalogue = Store(settings.database), load_rules(config)
    client = slack_app.web_client(settings)
    workflow = Workflow(
        ops,
        store,
        load_all(config.runbook_dirs),
        config,
        clock=clock,
        directory=SlackDirectory(client),
        # heartbeats and sweeps by the database's clock; a test's settable clock stands in
        # for both
        fleet_clock=store.now if clock is time.time else None,
    )
    channels = {name: c.alerts_channel for name, c in config.clusters.items() if c.alerts_channel}
    sink = SlackAlertSink(client, catalogue, channels)
    sink.window_of = Maintenance(workflow).covering
    poller = Poller(
        ops,
        store,
        catalogue,
        sink,
        clock=clock,
        replica=workflow.replica,
        runbooks=workflow.runbooks,
        follow=True,
        max_clusters=settings.max_clusters,
    )
    jobs = Jobs()
    tabs = HomeTabs(Home(workflow, clock), client, jobs)
    sink.changed = tabs.changed
    deps = Deps(
        ops=ops,
        jobs=jobs,
        workflow=workflow,
        clock=clock,
        catalogue=catalogue,
        poller=poller,
        changed=tabs.changed,
    )
    app = slack_app.build_app(settings, deps, client, tabs)
    return Bot(
        app=app,
        deps=deps,
        store=store,
        poller=poller,
        alert_clusters=[ops.cluster(name) for name in channels],
        probes=probes.Probes(workflow.database_answers, client),
        tabs=tabs,
    )


async def announce_interrupted(bot: Bot) -> None:
    """Runs whose replica stopped (a restart, a crash, a replica gone): marked interrupted
    and said so in their threads — each by the one replica that marked it."""
    for request in await bot.deps.workflow.interrupt_stale():
        if request.message_ts:
            await bot.app.client.chat_postMessage(
                channel=request.channel,
                thread_ts=request.message_ts,
                text=f":warning: habot stopped (a restart, or its replica died) while "
                f"{request.runbook} was approved or running: the run is marked interrupted "
                "and nothing was re-run. Check `/ha status` and "
                f"`/ha audit`, then ask again if needed (request {request.id}).",
            )


async def serve_until_stopped(settings: Settings, config: HabotConfig) -> int:
    bot = build_bot(settings, config)
    log = logging.getLogger(__name__)
    clusters = list(config.clusters.values())
    before = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    need = capacity.demand(clusters, settings.max_clusters)
    files = capacity.raise_open_files(need.files)
    if files != before:
        log.info("open files: up to %d (was %d), for %d nodes", files, before, need.nodes)
    for warning in capacity.warnings(clusters, settings.max_clusters, capacity.hard_open_files()):
        log.warning("%s", warning)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The ports first: one already taken stops habot before any job starts (one line, no
    # job cut short); whatever fails after, the bot closes as on a stop.
    try:
        checks = await probes.serve(bot.probes, settings.probes_host, settings.probes_port)
    except BaseException:
        await bot.close()
        raise
    runner: web.AppRunner | None = None
    try:
        socket_mode = settings.slack_mode is SlackMode.SOCKET
        if not socket_mode:
            runner = await serve_http(bot, settings.http_host, settings.http_port)
        await announce_interrupted(bot)
        bot.start_background(alerts=settings.alerts)
        if socket_mode and settings.slack_app_token is not None:
            handler = slack_app.socket_mode(bot.app, settings.slack_app_token.get_secret_value())
            connecting = asyncio.create_task(
                slack_app.connect(handler)
            )  # retries until Slack answers
            await stop.wait()  # a stop is heard whether or not Slack ever answered
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await checks.cleanup()
        await bot.close()
    return 0


async def serve_http(bot: Bot, host: str, port: int) -> web.AppRunner:
    """/slack/events alone: the probes and metrics have a port of their own."""
    return await slack_app.serve_http(bot.app, host, port, middlewares=[probes.ack_timer])
