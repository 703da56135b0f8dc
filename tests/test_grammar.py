"""`/ha` text into commands (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from habot.commands.grammar import Help, Status, parse
from habot.errors import UsageError


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


@given(st.text(max_size=300))
def test_anything_typed_is_a_command_or_a_usage_error(text: str) -> None:
    try:
        command = parse(text)
    except UsageError:
        return
    assert isinstance(command, Help | Status)
