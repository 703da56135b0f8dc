"""docs/slack/ holds the form and the home tab exactly as habot draws them today (JSON for
Block Kit Builder, text for the README): regenerated here and compared."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.fakes.slack_server import block_kit_problems

ROOT = Path(__file__).parents[2]


def test_the_documented_views_are_the_ones_habot_draws() -> None:
    spec = importlib.util.spec_from_file_location(
        "slack_views", ROOT / "scripts" / "slack_views.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, text in module.files().items():
        assert path.read_text() == text, f"{path.name} is stale: run scripts/slack_views.py"
    assert block_kit_problems(module.form()) == []
    assert block_kit_problems(module.home()) == []
    readme = (ROOT / "README.md").read_text()
    for name in ("form-ban-for.txt", "home.txt"):
        assert (ROOT / "docs" / "slack" / name).read_text() in readme, name
