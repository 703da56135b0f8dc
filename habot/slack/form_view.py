"""Block Kit for runbook forms (pure): the modal, its menus, what a submission holds, the
errors shown against a field, and the runbook list's Run… buttons — within Block Kit's limits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from habot.runbooks.form import Field, Form
from habot.runbooks.model import ParamType, Runbook
from habot.service import describe
from habot.slack.blocks import Block, code, context, escape, section, truncate

CALLBACK = "habot_form"  # the modal's callback_id
OPEN = "habot_form_open"  # a Run… button (its value: the runbook)
PARAM = "habot_param:"  # an input's action_id: PARAM + the parameter
BLOCK = "p:"  # an input's block_id: BLOCK + the parameter
NOTICE = "habot_notice"
WHEN = "t:run-at"  # the optional time field's block_id (no parameter name holds a hyphen)
WHEN_ACTION = "habot_when"
VIEW_BLOCKS_MAX = 100  # blocks in a modal or a home tab
MESSAGE_BLOCKS_MAX = 50
OPTION_TEXT_MAX = 75
TITLE_MAX = 24
LABEL_MAX = 2000
PLACEHOLDER_MAX = 150
ERROR_MAX = 300
METADATA_MAX = 3000
TITLE = "Run a runbook"
INPUTS_MAX = VIEW_BLOCKS_MAX - 5  # room for the heading, the time, the footer and a notice


class FormTooBig(ValueError):
    """A runbook with more parameters than one modal holds."""


@dataclass(frozen=True, slots=True)
class Origin:
    """What a form is about and where its request goes: in the modal's private_metadata."""

    cluster: str
    runbook: str
    channel: str

    def encode(self) -> str:
        text = json.dumps({"c": self.cluster, "r": self.runbook, "ch": self.channel})
        if len(text) > METADATA_MAX:
            raise FormTooBig("the form's names are too long for Slack")
        return text

    @staticmethod
    def decode(text: str) -> Origin | None:
        try:
            data = json.loads(text)
            return Origin(str(data["c"])[:100], str(data["r"])[:100], str(data["ch"])[:40])
        except (ValueError, KeyError, TypeError):
            return None


def modal(origin: Origin, form: Form) -> dict[str, Any]:
    if len(form.fields) > INPUTS_MAX:
        raise FormTooBig(
            f"{form.runbook.name} has {len(form.fields)} parameters, more than a form holds "
            f"({INPUTS_MAX}); type `/ha runbook {form.runbook.name} key=value …`"
        )
    blocks = [_heading(form.runbook, form.cluster), *(_input(f) for f in form.fields), _when()]
    footer = context(
        f"Submitting posts an approval card with its preview in <#{origin.channel}>; "
        "nothing runs until it is approved (with a time: not before then, and only if the "
        "cluster still plans and previews the same)."
    )
    blocks.append({**footer, "block_id": "habot_footer"})
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": origin.encode(),
        "title": _plain(TITLE, TITLE_MAX),
        "submit": _plain("Ask for approval", TITLE_MAX),
        "close": _plain("Cancel", TITLE_MAX),
        "blocks": blocks,
    }


def waiting(origin: Origin) -> dict[str, Any]:
    """Opened at once (a trigger lasts 3 s), replaced by the form once the cluster is read."""
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": origin.encode(),
        "title": _plain(TITLE, TITLE_MAX),
        "close": _plain("Cancel", TITLE_MAX),
        "blocks": [
            section(
                f":hourglass_flowing_sand: Reading *{escape(origin.cluster or 'the cluster')}* "
                f"to fill the form for *{escape(origin.runbook)}*…"
            )
        ],
    }


def failed(origin: Origin, text: str) -> dict[str, Any]:
    """The modal when no form can be shown: why, and nothing to submit."""
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": origin.encode(),
        "title": _plain(TITLE, TITLE_MAX),
        "close": _plain("Close", TITLE_MAX),
        "blocks": [section(f":warning: {escape(text)}\nNothing was requested.")],
    }


def with_notice(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """The submitted form again (same fields, so what was typed stays), a notice on top."""
    kept = [b for b in view.get("blocks", []) if b.get("block_id") != NOTICE]
    notice = {**section(f":warning: {escape(text)}"), "block_id": NOTICE}
    shown = {k: view[k] for k in ("type", "title", "submit", "close", "callback_id") if k in view}
    return {
        **shown,
        "private_metadata": view.get("private_metadata", ""),
        "blocks": [notice, *kept][:VIEW_BLOCKS_MAX],
    }


def submitted(view: Mapping[str, Any]) -> dict[str, str]:
    """parameter -> value, from a view_submission's state; an empty optional field is left out
    (its default applies)."""
    values: dict[str, str] = {}
    state = (view.get("state") or {}).get("values") or {}
    for block_id, actions in state.items():
        if not str(block_id).startswith(BLOCK) or not isinstance(actions, dict):
            continue
        for action in actions.values():
            value = _value_of(action if isinstance(action, dict) else {})
            if value:
                values[str(block_id)[len(BLOCK) :]] = value
    return values


def submitted_when(view: Mapping[str, Any]) -> str:
    """The time field's text ("" when empty: run once approved)."""
    state = (view.get("state") or {}).get("values") or {}
    actions = state.get(WHEN)
    if not isinstance(actions, dict):
        return ""
    action = actions.get(WHEN_ACTION)
    return (_value_of(action) or "") if isinstance(action, dict) else ""


def _when() -> Block:
    return {
        "type": "input",
        "block_id": WHEN,
        "optional": True,
        "label": _plain("When (empty: as soon as approved)", LABEL_MAX),
        "element": {
            "type": "plain_text_input",
            "action_id": WHEN_ACTION,
            "max_length": 60,
            "placeholder": _plain("2026-12-08T02:00Z, or in 2h", PLACEHOLDER_MAX),
        },
        "hint": _plain(
            "A time ahead (ISO 8601 with its zone) or a delay (30m, 2h, PT2H): approvals are "
            "given ahead; at the time habot plans again and runs only if the plan and preview "
            "still hold.",
            LABEL_MAX,
        ),
    }


def _value_of(action: Mapping[str, Any]) -> str | None:
    chosen = action.get("selected_option")
    if isinstance(chosen, dict):
        return str(chosen.get("value") or "") or None
    value = action.get("value")
    return str(value).strip() if value is not None else None


def errors(fields: Mapping[str, str], shown: Sequence[str]) -> dict[str, str]:
    """Slack's `response_action: errors`: each reason against its field's block."""
    return {BLOCK + name: truncate(why, ERROR_MAX) for name, why in fields.items() if name in shown}


def inputs_of(view: Mapping[str, Any]) -> list[str]:
    """The parameters a submitted form showed."""
    return [
        str(b["block_id"])[len(BLOCK) :]
        for b in view.get("blocks", [])
        if b.get("type") == "input" and str(b.get("block_id", "")).startswith(BLOCK)
    ]


def options(names: Sequence[str]) -> list[dict[str, Any]]:
    return [option(n) for n in names]


def option(name: str) -> dict[str, Any]:
    return {"text": _plain(name, OPTION_TEXT_MAX), "value": name}


def runbook_list(runbooks: Sequence[Runbook]) -> list[Block]:
    """`/ha runbook`: each runbook with a Run… button that opens its form."""
    ordered = sorted(runbooks, key=lambda r: r.name)
    room = MESSAGE_BLOCKS_MAX - 2
    blocks: list[Block] = [section("*Runbooks* (`/ha runbook NAME --help` for one)")]
    for rb in ordered[:room]:
        line = describe.runbook_line(rb).split(" — ")[0]
        blocks.append(
            {
                **section(f"{code(line)}\n{escape(rb.summary)}"),
                "accessory": {
                    "type": "button",
                    "text": _plain("Run…", TITLE_MAX),
                    "action_id": OPEN,
                    "value": rb.name,
                },
            }
        )
    if len(ordered) > room:
        blocks.append(context(f"… and {len(ordered) - room} more: `/ha runbook NAME --help`"))
    return blocks


def _heading(rb: Runbook, cluster: str) -> Block:
    flags = describe.approvals_text(rb.approvals_needed) + (
        " · :warning: destructive" if rb.destructive else ""
    )
    text = f"*{escape(rb.name)}* on *{escape(cluster)}*\n{escape(rb.summary)}\n_{flags}_"
    if rb.description:
        text += "\n" + escape(rb.description.strip())
    return {**section(text), "block_id": "habot_heading"}


def _input(f: Field) -> Block:
    block: Block = {
        "type": "input",
        "block_id": BLOCK + f.name,
        "optional": not f.required,
        "label": _plain(f.name, LABEL_MAX),
        "element": _element(f),
    }
    hint = f.help or (f"must match {f.pattern}" if f.pattern else "")
    if hint:
        block["hint"] = _plain(hint, LABEL_MAX)
    return block


def _element(f: Field) -> dict[str, Any]:
    action = PARAM + f.name
    if f.external:
        element: dict[str, Any] = {
            "type": "external_select",
            "action_id": action,
            "min_query_length": 0,
            "placeholder": _plain(f"Type part of a {f.kind.value} name", PLACEHOLDER_MAX),
        }
        if f.initial:
            element["initial_option"] = option(f.initial)
        return element
    if f.typed:  # the person may ask, not view: the cluster's names are not listed to them
        element = {
            "type": "plain_text_input",
            "action_id": action,
            "max_length": 200,
            "placeholder": _plain(f"Type the {f.kind.value}'s name", PLACEHOLDER_MAX),
        }
        if f.initial:
            element["initial_value"] = f.initial
        return element
    if f.is_menu and not f.options:  # an empty menu is refused by Slack: typed, then checked
        return {
            "type": "plain_text_input",
            "action_id": action,
            "max_length": 200,
            "placeholder": _plain(f"no {f.kind.value} to choose from now", PLACEHOLDER_MAX),
        }
    if f.is_menu:
        element = {
            "type": "static_select",
            "action_id": action,
            "placeholder": _plain(f"Choose a {f.kind.value}", PLACEHOLDER_MAX),
            "options": options(f.options),
        }
        if f.initial:
            element["initial_option"] = option(f.initial)
        return element
    if f.kind is ParamType.INT:
        element = {"type": "number_input", "action_id": action, "is_decimal_allowed": False}
        for key, value in (("min_value", f.minimum), ("max_value", f.maximum)):
            if value is not None:
                element[key] = str(value)
        if f.initial:
            element["initial_value"] = f.initial
        return element
    element = {"type": "plain_text_input", "action_id": action, "max_length": 200}
    if f.initial:
        element["initial_value"] = f.initial
    return element


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}
