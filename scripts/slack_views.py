#!/usr/bin/env python3
"""The form and the home tab as habot draws them, from real crm_mon captures: Block Kit JSON
(paste into Block Kit Builder) and the same as plain text (the README's pictures).

    .venv/bin/python scripts/slack_views.py          # rewrite docs/slack/
    .venv/bin/python scripts/slack_views.py --check  # exit 1 when docs/slack/ is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from habot.alerts.lifecycle import Alert  # noqa: E402
from habot.approvals.model import Request  # noqa: E402
from habot.cluster.crm_mon import parse_crm_mon  # noqa: E402
from habot.cluster.health import assess  # noqa: E402
from habot.cluster.live import LiveStatus  # noqa: E402
from habot.runbooks.form import make_form  # noqa: E402
from habot.runbooks.loader import load_all  # noqa: E402
from habot.service.clusters import StatusReport  # noqa: E402
from habot.service.home import Glance, Overview, Waiting  # noqa: E402
from habot.slack import form_view, home_view  # noqa: E402

CAPTURES = ROOT / "tests" / "fixtures" / "crm_mon"
OUT = ROOT / "docs" / "slack"
AT = 1_800_000_000.0  # 2027-01-15 08:00 UTC


def form() -> dict[str, Any]:
    status = parse_crm_mon((CAPTURES / "lab_seed_fenced.xml").read_bytes())
    runbook = load_all()["ban-for"]
    made = make_form(runbook, status, cluster="mycluster", prefill={"resource": "VirtualIP"})
    return form_view.modal(form_view.Origin("mycluster", "ban-for", "COPS"), made)


def home() -> dict[str, Any]:
    status = parse_crm_mon((CAPTURES / "lab_nodo1_stopped.xml").read_bytes())
    report = StatusReport("mycluster", LiveStatus(status, "nodo2", {}), assess(status), 2.0)
    alert = Alert(
        key="node-lost|nodo1",
        cluster="mycluster",
        rule="node-lost",
        severity="critical",
        title="Node nodo1 left the cluster",
        node="nodo1",
        fields=(("node", "nodo1"),),
        first_seen=AT - 540,
        last_seen=AT - 60,
    )
    request = Request(
        id="3f9c1a7b20de",
        cluster="mycluster",
        runbook="cleanup",
        params=(("resource", "WebData-clone"),),
        requester="UASK",
        channel="COPS",
        created=AT - 120,
        expires=AT + 780,
        approvals_needed=1,
        plan_fingerprint="",
        message_ts="1800000000.000100",
    )
    glance = Glance(
        cluster="mycluster",
        report=report,
        unreadable="",
        alerts=(alert,),
        running=(),
        waiting=(Waiting(request, True),),
        alerts_channel="CALERTS",
    )
    return home_view.home(Overview("UBOB", (glance,), AT))


def plain(view: dict[str, Any]) -> str:
    """A view as text: what a person sees, roughly, with controls in brackets."""
    lines: list[str] = []
    if view.get("type") == "modal":
        lines += [f"┌─ {view['title']['text']} ─", ""]
    for block in view["blocks"]:
        kind = block["type"]
        if kind == "header":
            lines += [block["text"]["text"].upper(), ""]
        elif kind == "section":
            text = block["text"]["text"]
            accessory = block.get("accessory")
            if accessory:
                text += f"  [{accessory['text']['text']}]"
            lines += [text, ""]
        elif kind == "input":
            lines += _input(block)
        elif kind == "actions":
            lines += ["  ".join(f"[{e['text']['text']}]" for e in block["elements"]), ""]
        elif kind == "context":
            lines += [" ".join(e["text"] for e in block["elements"]), ""]
        elif kind == "divider":
            lines += ["────────", ""]
    if view.get("type") == "modal":
        buttons = [view[k]["text"] for k in ("close", "submit") if k in view]
        lines += ["  ".join(f"[{b}]" for b in buttons)]
    return "\n".join(lines).rstrip() + "\n"


def _input(block: dict[str, Any]) -> list[str]:
    element = block["element"]
    label = block["label"]["text"] + ("" if block.get("optional") else " *")
    if element["type"] in ("static_select", "external_select"):
        chosen = (element.get("initial_option") or {}).get("text", {}).get("text", "")
        offered = ", ".join(o["value"] for o in element.get("options", [])[:8])
        shown = f"[{chosen or element['placeholder']['text']} ▾]"
        if offered:
            shown += f"  ({offered})"
    else:
        typed = element.get("initial_value") or element.get("placeholder", {}).get("text", "")
        shown = f"[{typed}]"
    hint = block.get("hint", {}).get("text", "")
    return [f"{label}", f"  {shown}", *([f"  {hint}"] if hint else []), ""]


def files() -> dict[Path, str]:
    made = {}
    for name, view in (("form-ban-for", form()), ("home", home())):
        made[OUT / f"{name}.json"] = json.dumps(view, indent=2, ensure_ascii=False) + "\n"
        made[OUT / f"{name}.txt"] = plain(view)
    return made


def main(argv: list[str]) -> int:
    stale = [p for p, text in files().items() if not p.exists() or p.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run scripts/slack_views.py)")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in files().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
