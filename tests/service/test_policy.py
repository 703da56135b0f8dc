"""Who may do what: the policy's layers, its refusals and the groups, on the real workflow
(scripted transport)."""

from __future__ import annotations

import pytest

from habot.config import HabotConfig
from habot.service import policy
from habot.service.policy import Actor, PolicyError, effective
from tests.fakes.cluster import config, scene

RUNBOOKS = scene().workflow.runbooks


class Groups:
    def __init__(self, **groups: list[str]) -> None:
        self.groups = groups
        self.asked: list[str] = []

    async def members(self, group: str) -> frozenset[str]:
        self.asked.append(group)
        return frozenset(self.groups.get(group, []))


def layered() -> HabotConfig:
    return config(
        approvers=["UBOB", "UCAROL", "S0SENIOR"],
        allowed_channels=["COPS"],
        policy={
            "requesters": ["S0OPS"],
            "runbooks": {"cleanup": {"approvals": 1, "requesters": "anyone"}},
        },
    )


def test_shipped_defaults_one_approver_two_for_what_is_destructive() -> None:
    cfg = config(approvers=["UBOB"], allowed_channels=["COPS"])
    assert effective(cfg, "mycluster", RUNBOOKS["cleanup"]).approvals == 1
    assert effective(cfg, "mycluster", RUNBOOKS["failover"]).approvals == 1
    assert effective(cfg, "mycluster", RUNBOOKS["fence-test"]).approvals == 2
    gfs2 = effective(cfg, "mycluster", RUNBOOKS["gfs2-activate"])  # formats: `approval: one`
    assert (gfs2.approvals, gfs2["approvals"].source) == (2, "shipped default")
    viewers = effective(cfg, "mycluster")["viewers"]
    assert (viewers.value, viewers.source) == ("anyone", "shipped default")


def test_each_layer_overrides_the_one_above_and_says_so() -> None:
    cfg = layered()
    rules = effective(cfg, "mycluster", RUNBOOKS["failover"])
    assert rules["requesters"].source == "policy"
    assert rules["approvers"].source == "the config's top level"
    cleanup = effective(cfg, "mycluster", RUNBOOKS["cleanup"])
    assert cleanup["requesters"].value == "anyone"
    assert cleanup["requesters"].source == "policy.runbooks.cleanup"


def test_a_policy_never_goes_below_the_runbooks_own_approval() -> None:
    cfg = (
        config(
            approvers="anyone",
            allowed_channels="any",
            clusters_policy=None,
        )
        if False
        else config(
            approvers="anyone",
            allowed_channels="any",
            policy={"runbooks": {"fence-test": {"approvals": 1}}},
        )
    )
    rules = effective(cfg, "mycluster", RUNBOOKS["fence-test"])
    assert rules.approvals == 2
    assert "the runbook's own `approval`" in rules["approvals"].source


async def test_refusals_name_the_rule_and_who_may() -> None:
    rules = effective(layered(), "mycluster", RUNBOOKS["failover"])
    with pytest.raises(PolicyError) as refused:
        await policy.check(rules, "request", Actor("UDAVE", "COPS"), Groups(S0OPS=["UERIN"]))
    assert str(refused.value) == (
        "refused by `policy`: you may not request here (failover); who may: <!subteam^S0OPS>"
    )
    await policy.check(rules, "request", Actor("UERIN", "COPS"), Groups(S0OPS=["UERIN"]))
    with pytest.raises(
        PolicyError, match=r"not enabled in this channel \(CRANDOM\); it answers in <#COPS>"
    ):
        await policy.check(rules, "view", Actor("UERIN", "CRANDOM"), Groups())


async def test_an_approver_through_a_group() -> None:
    groups = Groups(S0SENIOR=["UFRANK"])
    rules = effective(layered(), "mycluster", RUNBOOKS["cleanup"])
    await policy.check(rules, "approve", Actor("UFRANK", "COPS"), groups)
    assert groups.asked == ["S0SENIOR"]
    with pytest.raises(PolicyError, match="you may not approve here"):
        await policy.check(rules, "approve", Actor("UGINA", "COPS"), groups)


async def test_a_clusters_own_policy_wins_for_that_cluster() -> None:
    cfg = config(approvers="anyone", allowed_channels="any")
    cluster = cfg.clusters["mycluster"].model_copy(
        update={"policy": cfg.policy.model_copy(update={"viewers": ("UONLY",)})}
    )
    cfg = cfg.model_copy(update={"clusters": {"mycluster": cluster}})
    rules = effective(cfg, "mycluster")
    assert rules["viewers"].source == "clusters.mycluster.policy"
    with pytest.raises(PolicyError, match="you may not view here; who may: <@UONLY>"):
        await policy.check(rules, "view", Actor("UOTHER", "COPS"), Groups())


def test_describe_lists_every_rule_with_its_source() -> None:
    lines = policy.describe(effective(layered(), "mycluster", RUNBOOKS["fence-test"]))
    assert lines[0] == "policy for mycluster / fence-test:"
    assert "  approvals: 2  (from shipped default)" in lines
    assert "  requesters: <!subteam^S0OPS>  (from policy)" in lines


def test_a_runbooks_own_rule_beats_a_cluster_wide_one() -> None:
    """policy.runbooks.fence-test names its approvers for every cluster; mycluster's own
    policy names approvers for everything there: for fence-test on mycluster, the runbook's
    rule wins (the more specific), and the source says so."""
    cfg = config(
        approvers=["UBOB"],
        allowed_channels=["COPS"],
        policy={"runbooks": {"fence-test": {"approvers": ["S0SENIOR"]}}},
    )
    cluster = cfg.clusters["mycluster"].model_copy(
        update={"policy": cfg.policy.model_copy(update={"approvers": ("UOPS",), "runbooks": {}})}
    )
    cfg = cfg.model_copy(update={"clusters": {"mycluster": cluster}})
    fence = effective(cfg, "mycluster", RUNBOOKS["fence-test"])
    assert (fence["approvers"].value, fence["approvers"].source) == (
        ("S0SENIOR",),
        "policy.runbooks.fence-test",
    )
    other = effective(cfg, "mycluster", RUNBOOKS["cleanup"])
    assert other["approvers"].source == "clusters.mycluster.policy"
