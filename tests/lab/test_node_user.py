"""Least privilege, on the lab's real sshd, sudo and installed habot-node: habot logs in as
`habot`, never root; what the runbooks run passes the node's rules (every runbook test on the
lab runs this way), and anything else — a command outside them, two words of a rule merged
into one argument, a symlink planted for root to write through, allowed pieces put together
into another command — is refused by the node itself, not only by habot."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import replace

import pytest

from habot.cluster.live import read_status
from habot.config import HabotConfig
from habot.lab.lab import Lab
from habot.node import EXIT_REFUSED, HELPER_PATH
from habot.runbooks.loader import load_all
from habot.ssh.asyncssh_transport import AsyncsshTransport
from habot.ssh.transport import NodeAddress

pytestmark = pytest.mark.lab


@pytest.fixture
def nodo1(lab_config: HabotConfig) -> NodeAddress:
    return lab_config.clusters["mycluster"].nodes[0].address()


def resources(lab: Lab) -> str:
    return lab.exec("nodo1", ["cibadmin", "--query", "--scope", "resources"]).stdout


def test_the_lab_config_logs_in_as_habot_and_root_cannot_log_in(
    lab: Lab, lab_config: HabotConfig
) -> None:
    nodes = lab_config.clusters["mycluster"].nodes
    assert {n.address().runs_as for n in nodes} == {"habot via sudo"}
    config = str(lab.layout.ssh_dir / "ssh_config")
    refused = subprocess.run(
        ["ssh", "-F", config, "-o", "BatchMode=yes", "-l", "root", "nodo1", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 255
    assert "Permission denied" in refused.stderr


async def test_the_status_read_passes_the_nodes_sudoers(
    transport: AsyncsshTransport, lab_config: HabotConfig
) -> None:
    nodes = [n.address() for n in lab_config.clusters["mycluster"].nodes]
    live = await read_status(transport, "mycluster", nodes, timeout=30)
    assert {n.name for n in live.status.nodes} == {"nodo1", "nodo2"}
    assert live.status.cluster_name == "mycluster"


@pytest.mark.parametrize(
    "argv",
    [
        ("pcs", "resource", "delete", "VirtualIP"),
        ("pcs", "resource", "move", "VirtualIP", "nodo2", "--force"),
        ("pcs", "property", "set", "stonith-enabled=false"),
        ("cibadmin", "--delete", "--xml-text", "<primitive id='VirtualIP'/>"),
        ("sh", "-c", "id"),
    ],
    ids=lambda a: " ".join(a)[:40],
)
async def test_a_command_outside_the_runbooks_is_refused_by_the_node(
    lab: Lab, transport: AsyncsshTransport, nodo1: NodeAddress, argv: tuple[str, ...]
) -> None:
    before = resources(lab)
    result = await transport.run(nodo1, argv, timeout=30)
    assert result.exit_status == EXIT_REFUSED
    assert "the node refused it: habot-node on nodo1 does not allow" in result.stderr_text
    assert "habot node-files" in result.stderr_text
    assert resources(lab) == before


def as_habot(lab: Lab, script: str) -> subprocess.CompletedProcess[str]:
    """A shell as the node user, on nodo1 (what a stolen key gets), from its own home."""
    return lab.exec("nodo1", ["su", "-s", "/bin/sh", "-c", f"cd && {script}", "habot"], check=False)


@pytest.mark.parametrize(
    "words",
    [
        # the attacks on the old per-command rules, word for word: a rule's words merged
        "/usr/sbin/pcs '-f /run/habot.AAAAAAAAAA/cib.xml' resource clone WebSite",
        "/usr/sbin/pcs 'resource move' VirtualIP nodo2",
        "/usr/sbin/pcs cluster cib-push /run/habot.AAAAAAAAAA/cib.xml --config",
        "/usr/bin/mktemp -d /run/habot.XXXXXXXXXX",
        "/usr/bin/sh -c 'crm_mon --one-shot --inactive --output-as=xml; cibadmin --query'",
        "/usr/sbin/cibadmin --query",
    ],
)
def test_sudo_allows_nothing_but_the_helper(lab: Lab, words: str) -> None:
    done = as_habot(lab, f"sudo -n -- {words}")
    assert done.returncode == 1
    assert "a password is required" in done.stderr or "not allowed" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        "exec pcs '-f /run/habot.AAAAAAAAAA/cib.xml' resource clone WebSite",
        "exec pcs 'resource cleanup' VirtualIP",
        "exec pcs resource 'cleanup VirtualIP'",
        "exec stonith_admin '--reboot nodo2'",
        "exec pcs resource cleanup VirtualIP --force",
        "exec sh -c 'id' habot-index /var/www/html",
        "exec journalctl --flush",
        'cib push \'[["resource","delete","WebSite"]]\'',
        'cib push \'[["cluster","cib-push","/tmp/x","--config"]]\'',
        "status extra",
    ],
)
def test_the_helper_refuses_merged_words_and_composed_steps(lab: Lab, args: str) -> None:
    before = resources(lab)
    done = as_habot(lab, f"sudo -n -- {HELPER_PATH} {args}")
    assert done.returncode == EXIT_REFUSED, done.stdout + done.stderr
    assert done.stderr.startswith("habot-node: refused")
    assert resources(lab) == before


def test_a_symlink_planted_in_the_users_directory_is_never_written_through(lab: Lab) -> None:
    """The index step's own script, aimed at a directory the node user owns where it planted
    index.html as a symlink: refused (only /var/www), and the target is never written."""
    (script,) = [s.run for s in load_all()["gfs2-activate"].steps if s.name == "index page"]
    assert script is not None
    target = "/etc/habot-planted-target"
    lab.exec("nodo1", ["rm", "-f", target], check=False)
    home = lab.exec("nodo1", ["su", "-s", "/bin/sh", "-c", "echo $HOME", "habot"]).stdout.strip()
    sudo = ["sudo", "-n", "--", HELPER_PATH, "exec", *script[:3], script[3], home]
    done = as_habot(lab, f"ln -sf {target} index.html && {shlex.join(sudo)}")
    assert done.returncode == EXIT_REFUSED, done.stderr
    assert lab.exec("nodo1", ["test", "-e", target], check=False).returncode != 0


def test_the_status_read_is_one_step_that_prints_no_secret(lab: Lab) -> None:
    """`habot-node status` prints crm_mon, the constraints and the cluster name — never the
    whole CIB with the fence devices' passwords."""
    done = as_habot(lab, f"sudo -n -- {HELPER_PATH} status")
    assert done.returncode == 0, done.stderr
    assert "<pacemaker-result" in done.stdout
    assert "--habot-section--" in done.stdout
    assert "<nvpair" not in done.stdout  # no instance attribute (a password) of any resource
    assert "<primitive" not in done.stdout


async def test_without_sudo_the_node_user_cannot_touch_the_cluster(
    lab: Lab, transport: AsyncsshTransport, nodo1: NodeAddress
) -> None:
    direct = replace(nodo1, sudo=False)
    before = resources(lab)
    deleted = await transport.run(
        direct,
        ["/usr/sbin/cibadmin", "--delete", "--xml-text", "<primitive id='VirtualIP'/>"],
        timeout=30,
    )
    assert deleted.exit_status != 0
    read = await transport.run(direct, ["/usr/sbin/crm_mon", "--one-shot"], timeout=30)
    assert read.exit_status != 0
    whoami = await transport.run(direct, ["id", "-un"], timeout=30)
    assert whoami.stdout_text.strip() == "habot"
    assert resources(lab) == before
