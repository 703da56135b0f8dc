"""The seed's starting cluster: the "IP Failover + Apache2 + DRBD" exercise, before fencing.

Applied the way the seed applies changes: `pcs cluster cib FILE`, `pcs -f FILE ...`, then one
`pcs cluster cib-push FILE --config`. stonith-enabled stays true with no fencing device, so the
scheduler logs "Resource start-up disabled since no STONITH resources have been defined".

On a crmsh lab (`habot lab up --shell crmsh`) the same cluster is one `crm configure load
update` of the same objects, as a SUSE operator would load it. crmsh checks a configuration
before it commits and refuses one that cannot start anything (no fencing device while
stonith-enabled is true: the seed's very state), so that one commit is forced (`-F`): the
lab's, never habot's.
"""

from __future__ import annotations

from habot.lab.layout import DRBD_DEVICE, LabLayout
from habot.node import AGENT_FILE, AGENT_PATH

AGENT_ALERT = ("alert", "create", f"path={AGENT_PATH}", "id=habot", "meta", "timeout=10s")
AGENT_RECIPIENT = (
    "alert",
    "recipient",
    "add",
    "habot",
    f"value={AGENT_FILE}",
    "id=habot-recipient",
)


def seed_commands(layout: LabLayout) -> list[list[str]]:
    shadow = str(layout.root / "seed_cfg.xml")
    f = ["pcs", "-f", shadow]
    edits = [
        [
            "resource",
            "create",
            "VirtualIP",
            "ocf:heartbeat:IPaddr2",
            f"ip={layout.vip}",
            "cidr_netmask=24",
            "op",
            "monitor",
            "interval=30s",
        ],
        [
            "resource",
            "create",
            "WebSite",
            "ocf:heartbeat:apache",
            "configfile=/etc/apache2/apache2.conf",
            "statusurl=http://localhost/server-status",
            "op",
            "monitor",
            "interval=1min",
        ],
        ["constraint", "colocation", "add", "WebSite", "with", "VirtualIP", "INFINITY"],
        ["constraint", "order", "VirtualIP", "then", "WebSite"],
        [
            "resource",
            "create",
            "WebData",
            "ocf:linbit:drbd",
            "drbd_resource=wwwdata",
            "op",
            "monitor",
            "interval=60s",
        ],
        [
            "resource",
            "promotable",
            "WebData",
            "promoted-max=1",
            "promoted-node-max=1",
            "clone-max=2",
            "clone-node-max=1",
            "notify=true",
        ],
        [
            "resource",
            "create",
            "WebFS",
            "ocf:heartbeat:Filesystem",
            f"device={DRBD_DEVICE}",
            "directory=/var/www/html",
            "fstype=ext4",
        ],
        [
            "constraint",
            "colocation",
            "add",
            "WebFS",
            "with",
            "Promoted",
            "WebData-clone",
            "INFINITY",
        ],
        ["constraint", "order", "promote", "WebData-clone", "then", "start", "WebFS"],
        ["constraint", "colocation", "add", "WebSite", "with", "WebFS", "INFINITY"],
        ["constraint", "order", "WebFS", "then", "WebSite"],
        ["property", "set", "stonith-enabled=true"],
        # not the seed's: habot's alert agent (installed beside habot-node), as the
        # alert-agent runbook registers it
        [*AGENT_ALERT],
        [*AGENT_RECIPIENT],
    ]
    return [
        ["pcs", "cluster", "cib", shadow],
        *([*f, *e] for e in edits),
        ["pcs", "cluster", "cib-push", shadow, "--config"],
    ]


def crmsh_seed(layout: LabLayout) -> str:
    """The seed's configuration as `crm configure load update` reads it (crmsh names every
    constraint, and 4.4 adds no operation the command does not give)."""
    return (
        "\n".join(
            [
                f"primitive VirtualIP ocf:heartbeat:IPaddr2 params ip={layout.vip} cidr_netmask=24 "
                "op monitor interval=30s",
                "primitive WebSite ocf:heartbeat:apache params "
                "configfile=/etc/apache2/apache2.conf statusurl=http://localhost/server-status "
                "op monitor interval=1min",
                "colocation website-with-ip inf: WebSite VirtualIP",
                "order apache-after-ip Mandatory: VirtualIP WebSite",
                "primitive WebData ocf:linbit:drbd params drbd_resource=wwwdata "
                "op monitor interval=60s",
                "clone WebData-clone WebData meta promotable=true promoted-max=1 "
                "promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true",
                f"primitive WebFS ocf:heartbeat:Filesystem params device={DRBD_DEVICE} "
                "directory=/var/www/html fstype=ext4 op monitor interval=20s",
                "colocation fs-on-drbd inf: WebFS WebData-clone:Promoted",
                "order WebFS-after-WebData Mandatory: WebData-clone:promote WebFS:start",
                "colocation WebSite-with-WebFS inf: WebSite WebFS",
                "order WebSite-after-WebFS Mandatory: WebFS WebSite",
                "property stonith-enabled=true",
                f"alert habot {AGENT_PATH} meta timeout=10s to {AGENT_FILE}",
            ]
        )
        + "\n"
    )
