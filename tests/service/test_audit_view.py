"""`/ha audit` shows only the clusters the asker may view: a second cluster with its own
viewers stays out of everyone else's audit log, its argv and outputs included."""

from __future__ import annotations

import pytest

from habot.config import HabotConfig
from habot.runbooks.loader import load_all
from habot.service.clusters import ClusterHandle, Ops
from habot.service.policy import Actor, PolicyError
from habot.service.workflow import Workflow
from habot.ssh.scripted import ScriptedTransport
from habot.store import Store
from tests.fakes.cluster import Clock


def two_clusters() -> Workflow:
    cluster = {"ssh_key": "/nonexistent/key", "known_hosts": "/nonexistent/known_hosts"}
    config = HabotConfig.model_validate(
        {
            "approvers": ["UBOB"],
            "allowed_channels": "any",
            "policy": {"viewers": ["UWEB", "UBOB"]},
            "clusters": {
                "web": {**cluster, "nodes": [{"name": "nodo1", "host": "a.invalid"}]},
                "db": {
                    **cluster,
                    "nodes": [{"name": "db1", "host": "b.invalid"}],
                    "policy": {"viewers": ["UDBA", "UBOB"]},
                },
            },
        }
    )
    transport = ScriptedTransport()
    ops = Ops({n: ClusterHandle(n, c, transport) for n, c in config.clusters.items()})
    store = Store(":memory:")
    store.audit(at=1.0, cluster="web", event="command", node="nodo1", argv=["pcs", "status"])
    store.audit(at=2.0, cluster="db", event="command", node="db1", argv=["pcs", "secret-db"])
    store.audit(at=3.0, cluster="web", event="approved", user="UBOB", request_id="r1")
    return Workflow(ops, store, load_all(), config, clock=Clock())


@pytest.mark.parametrize(
    ("user", "clusters"),
    [("UWEB", ["web", "web"]), ("UDBA", ["db"]), ("UBOB", ["web", "db", "web"])],
)
async def test_each_asker_sees_only_the_clusters_they_may_view(
    user: str, clusters: list[str]
) -> None:
    workflow = two_clusters()
    seen = await workflow.audit_log(10, Actor(user, "COPS"))
    assert [r.cluster for r in seen] == clusters


async def test_the_limit_counts_visible_entries_only() -> None:
    seen = await two_clusters().audit_log(2, Actor("UWEB", "COPS"))
    assert [(r.cluster, r.event) for r in seen] == [("web", "command"), ("web", "approved")]


async def test_someone_who_may_view_nothing_is_refused_not_shown_an_empty_log() -> None:
    with pytest.raises(PolicyError, match="you may not view here"):
        await two_clusters().audit_log(10, Actor("UNOBODY", "COPS"))


async def test_the_console_operator_sees_every_cluster() -> None:
    seen = await two_clusters().audit_log(10, None)
    assert [r.cluster for r in seen] == ["web", "db", "web"]


def test_each_argv_is_shown_as_a_shell_would_quote_it() -> None:
    """`sh -c 'set -C; …' habot-index /var/www/html` joined by spaces read as another
    command; quoted, each argument is what ran."""
    from habot.runbooks.engine import CommandRecord
    from habot.service import describe
    from habot.service.audit import AuditRecord

    argv = ("sh", "-c", 'test -L "$1/index.html" && exit 1', "habot-index", "/var/www/html")
    shown = "sh -c 'test -L \"$1/index.html\" && exit 1' habot-index /var/www/html"
    record = AuditRecord(
        1.0, "web", "command", "r1", "", "nodo1", argv, 0, 0.1, "", "habot via sudo"
    )
    assert f"habot@nodo1$ {shown} (sudo) → rc 0" in describe.audit_line(record)
    ran = CommandRecord("nodo1", argv, 0, 0.1, "")
    assert describe.command_line(ran).startswith(f"nodo1$ {shown} → exit 0")
