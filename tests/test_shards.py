"""The lab lanes' split: every module in exactly one part, the parts about as long."""

from __future__ import annotations

import pytest

from tests import shards


def test_every_module_lands_in_one_part_longest_first() -> None:
    modules = {"a": 300, "b": 250, "c": 210, "d": 160, "e": 80, "f": 20, "g": 20}
    parts = shards.split(modules, 3)
    assert sorted(m for part in parts for m in part) == sorted(modules)
    loads = [sum(modules[m] for m in part) for part in parts]
    assert [part[0] for part in parts] == ["a", "b", "c"]
    assert max(loads) - min(loads) <= 80, loads


def test_one_part_is_everything() -> None:
    assert shards.split({"x": 1, "y": 2}, 1) == [["y", "x"]]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", ""])
def test_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(pytest.UsageError, match="--shard takes I/K"):
        shards.parse(text)


def test_good_shard() -> None:
    assert shards.parse("2/3") == (2, 3)
