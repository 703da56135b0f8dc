"""`/ha why` and `/ha whatif`: their grammar, and their usage messages."""

from __future__ import annotations

import pytest

from habot.commands.grammar import WhatIf, WhyResource, parse
from habot.errors import UsageError


def test_why_and_whatif_parse() -> None:
    assert parse("why WebSite") == WhyResource("WebSite")
    assert parse("why WebSite other") == WhyResource("WebSite", "other")
    assert parse("whatif node-fail nodo2") == WhatIf("node-fail", "nodo2")
    assert parse("whatif standby nodo1 mycluster") == WhatIf("standby", "nodo1", "mycluster")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("why", "usage: `/ha why RESOURCE [CLUSTER]`"),
        ("why -x", "is not a valid resource name"),
        ("whatif reboot nodo2", "usage: `/ha whatif node-fail NODE"),
        ("whatif node-fail", "usage: `/ha whatif node-fail NODE"),
        ("whatif standby --all", "is not a valid node name"),
    ],
)
def test_their_usage(text: str, said: str) -> None:
    with pytest.raises(UsageError, match=said.replace("[", r"\[").replace("`", "`")):
        parse(text)
