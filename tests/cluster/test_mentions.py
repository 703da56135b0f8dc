"""Names in a message (pure), on a real capture: whole words, a clone instance's suffix, and
the false friends that must not count."""

from __future__ import annotations

from pathlib import Path

import pytest

from habot.cluster.crm_mon import parse_crm_mon
from habot.cluster.mentions import Named, named

STATUS = parse_crm_mon(
    (Path(__file__).parents[1] / "fixtures" / "crm_mon" / "lab_seed_fenced.xml").read_bytes()
)


@pytest.mark.parametrize(
    ("text", "resources", "nodes"),
    [
        ("is `WebSite` down on nodo2?", ("WebSite",), ("nodo2",)),
        ("WebData:1 promoted, then VirtualIP.", ("WebData", "VirtualIP"), ()),
        ("*WARNING*: WebFS failed on nodo1 (monitor)", ("WebFS",), ("nodo1",)),
        ("WebData-clone and WebData", ("WebData-clone", "WebData"), ()),
    ],
)
def test_names_in_the_order_the_text_gives_them(
    text: str, resources: tuple[str, ...], nodes: tuple[str, ...]
) -> None:
    assert named(text, STATUS) == Named(resources, nodes)


@pytest.mark.parametrize(
    "text",
    [
        "WebSiteOld and nodo10 are not ours",  # longer words holding a name
        "website on NODO1",  # Pacemaker's names are case-sensitive
        "lunch?",
        "",
    ],
)
def test_false_friends_name_nothing(text: str) -> None:
    assert not named(text, STATUS)
