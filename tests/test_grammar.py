"""`/ha` text into commands (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from habot.commands.grammar import (
    USAGE,
    Audit,
    Help,
    ListRunbooks,
    RunbookHelp,
    RunRunbook,
    Status,
    parse,
)
from habot.console.repl import Console
from habot.errors import UsageError
from tests.fakes.cluster import scene


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("help", Help()),
        ("/ha help", Help()),
        ("status", Status()),
        ("STATUS", Status()),
        ("/ha status mycluster", Status("mycluster")),
        ("  status   mycluster ", Status("mycluster")),
    ],
)
def test_parses(text: str, command: object) -> None:
    assert parse(text) == command


VERBS = ("status", "failover", "runbook", "audit", "help", "--help", "--dry-run", "cluster=c")
ARGS = ("VirtualIP", "nodo2", "resource=WebSite", "node=nodo1", "x=1", "7", "²", "-1", "a=b=c")
WORDS = st.sampled_from(VERBS + ARGS)
TYPED = st.one_of(
    st.text(max_size=300),  # anything at all
    st.lists(WORDS | st.text(max_size=20), max_size=6).map(" ".join),  # near-misses
)


@given(TYPED)
def test_anything_typed_is_a_command_or_a_usage_error(text: str) -> None:
    """Every parse is one of the commands (never an exception other than UsageError)."""
    try:
        command = parse(text)
    except UsageError:
        return
    assert isinstance(command, Help | Status | ListRunbooks | RunbookHelp | RunRunbook | Audit)


NODO2 = ("node", "nodo2")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("runbook", ListRunbooks()),
        ("runbook cleanup --help", RunbookHelp("cleanup")),
        (
            "failover VirtualIP nodo2",
            RunRunbook("failover", (("resource", "VirtualIP"), ("node", "nodo2"))),
        ),
        (
            "runbook standby node=nodo2 --dry-run",
            RunRunbook("standby", (("node", "nodo2"),), dry_run=True),
        ),
        (
            "runbook standby node=nodo2 cluster=c2",
            RunRunbook("standby", (("node", "nodo2"),), cluster="c2"),
        ),
        ("audit", Audit()),
        ("audit 50", Audit(50)),
    ],
)
def test_every_verb_parses(text: str, command: object) -> None:
    assert parse(text) == command


@pytest.mark.parametrize("text", ["audit ²", "audit ٣", "audit 0", "audit 201", "audit 1 2"])
def test_audit_numbers_are_plain_digits_in_range(text: str) -> None:
    with pytest.raises(UsageError, match="usage: `/ha audit"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "runbook", "params"),
    [
        ("ban VirtualIP nodo2", "ban", (("resource", "VirtualIP"), ("node", "nodo2"))),
        (
            "ban VirtualIP nodo2 PT2H",
            "ban-for",
            (("resource", "VirtualIP"), ("node", "nodo2"), ("lifetime", "PT2H")),
        ),
        ("clear WebSite", "clear", (("resource", "WebSite"),)),
        ("clear WebSite nodo1", "clear-on-node", (("resource", "WebSite"), ("node", "nodo1"))),
        ("restart WebSite", "restart", (("resource", "WebSite"),)),
        ("cleanup WebFS nodo1", "cleanup-on-node", (("resource", "WebFS"), ("node", "nodo1"))),
    ],
)
def test_the_incident_verbs_pick_their_runbook_by_arity(
    text: str, runbook: str, params: tuple[tuple[str, str], ...]
) -> None:
    parsed = parse(text)
    assert isinstance(parsed, RunRunbook)
    assert (parsed.name, parsed.params) == (runbook, params)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("ban VirtualIP", "usage: `/ha ban RESOURCE NODE [LIFETIME]`"),
        ("clear --dry-run", "usage: `/ha clear RESOURCE [NODE]`"),
        ("restart a b c", "usage: `/ha restart RESOURCE [NODE]`"),
        ("cleanup --force nodo1", "is not a valid resource name"),
        ("ban VirtualIP nodo2 resource=x", "the names go by position"),
    ],
)
def test_the_incident_verbs_say_how_they_are_used(text: str, said: str) -> None:
    with pytest.raises(UsageError, match=re.escape(said)):
        parse(text)


@pytest.mark.parametrize(
    ("verb", "runbook"),
    [("failover", "failover"), ("ban", "ban"), ("clear", "clear"), ("cleanup", "cleanup")],
)
def test_a_verb_alone_is_its_shortest_runbook_with_nothing_given(verb: str, runbook: str) -> None:
    """In Slack its form opens and asks for the rest; the console says what is missing."""
    parsed = parse(verb)
    assert isinstance(parsed, RunRunbook)
    assert (parsed.name, parsed.params) == (runbook, ())
    assert parsed.usage.startswith(f"usage: `/ha {verb} RESOURCE")


async def test_the_console_answers_a_verb_alone_with_its_usage() -> None:
    """No form at a prompt: the verb's usage, and nothing read or requested."""
    s = scene()

    async def never(prompt: str) -> str:
        raise AssertionError(f"asked {prompt!r}")

    console = Console(s.ops, s.workflow, write=lambda _: None, ask=never)
    said = await console.answer("restart")
    assert "usage: `/ha restart RESOURCE [NODE]`" in said
    assert s.transport.ran() == []


@pytest.mark.parametrize(
    "text",
    [
        "status cluster=db",
        "why WebSite cluster=db",
        "whatif node-fail nodo1 cluster=db",
        "whatif standby nodo1 cluster=db",
        "history 2h cluster=db",
        "policy cluster=db",
        "failover WebSite nodo2 cluster=db",
        "ban WebSite nodo2 PT2H cluster=db",
        "runbook cleanup resource=WebSite cluster=db",
        "cluster=db status",
    ],
)
def test_every_command_about_a_cluster_takes_cluster_by_name(text: str) -> None:
    command = parse(text)
    assert command.cluster == "db"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("audit 5 cluster=db", "takes no cluster"),
        ("runbook cluster=db", "takes no cluster"),
        ("status web cluster=db", "two clusters given"),
        ("status cluster=db cluster=web", "given twice"),
        ("status cluster=no;way", "not a valid cluster name"),
    ],
)
def test_a_cluster_where_none_fits_is_refused(text: str, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        parse(text)


def test_the_usage_says_the_audits_default_and_most() -> None:
    assert "`/ha audit [N]` — the last N actions (20; at most 200)" in USAGE
    assert "takes `cluster=NAME`" in USAGE
