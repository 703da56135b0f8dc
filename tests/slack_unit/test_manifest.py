"""The Slack app manifest declares exactly what habot uses: a scope for each Web API method
habot calls (found in its source), the shortcuts and event its listeners handle, and the
README says why each scope is there."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from habot.slack import form_view, shortcuts

ROOT = Path(__file__).parents[2]
MANIFEST = yaml.safe_load((ROOT / "slack-app-manifest.yaml").read_text())
# Slack's documented bot scope for each method habot calls; views.* and auth.test need none.
METHOD_SCOPES = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},  # in channels habot is a member of (it must be)
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "conversations_members": {"channels:read", "groups:read"},
    "conversations_info": {"channels:read", "groups:read"},
    "files_upload_v2": {"files:write"},
    "usergroups_list": {"usergroups:read"},
    "usergroups_users_list": {"usergroups:read"},
    "users_info": {"users:read"},
    "views_open": set(),
    "views_update": set(),
    "views_publish": set(),
}
COMMANDS = {"commands"}  # the slash command and the message shortcuts


def called() -> set[str]:
    methods = set()
    for path in (ROOT / "habot").rglob("*.py"):
        methods |= set(re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\(", path.read_text()))
    return methods


def test_every_scope_is_one_a_method_habot_calls_needs_and_none_is_missing() -> None:
    methods = called()
    assert methods - set(METHOD_SCOPES) == set(), "a method without its scope in this table"
    needed = set().union(*(METHOD_SCOPES[m] for m in methods)) | COMMANDS
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_the_features_are_the_listeners() -> None:
    features = MANIFEST["features"]
    assert {s["callback_id"] for s in features["shortcuts"]} == {shortcuts.WHY, shortcuts.REMEDY}
    assert all(s["type"] == "message" for s in features["shortcuts"])
    assert features["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    interactivity = MANIFEST["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["message_menu_options_url"].endswith("/slack/events")
    assert form_view.CALLBACK  # the modal's callback needs no manifest entry


def test_the_readme_says_why_each_scope_is_there() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| Scope or feature |") :].split("\n\n", 1)[0]
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in table, scope
    for feature in ("Home tab", "Ask habot why", "Run the remedy…", "app_home_opened"):
        assert feature in table, feature
