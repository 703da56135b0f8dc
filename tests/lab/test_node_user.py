"""Least privilege, on the lab's real sshd, sudo and installed habot-node: habot logs in as
`habot`, never root; what the runbooks run passes the node's rules (every runbook test on the
lab runs this way), and anything else — a command outside them, two words of a rule merged
into one argument, a symlink planted for root to write through, allowed pieces put together
into another command — is refused by the node itself, not only by habot."""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

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


def test_a_symlink_planted_in_a_directory_on_the_way_is_never_written_through(lab: Lab) -> None:
    """The index step (`habot-node write-new`), aimed through a directory link someone
    planted under /var/www to /etc/sudoers.d, and through a directory www-data may write:
    refused, and nothing is written anywhere."""
    (step,) = [s.run for s in load_all()["gfs2-activate"].steps if s.name == "index page"]
    assert step is not None
    assert step[:2] == ("habot-node", "write-new")
    page = step[3]
    lab.exec("nodo1", ["sh", "-c", SETUP_WWW])
    try:
        for directory in ("/var/www/planted", "/var/www/html/team/site"):
            args = shlex.join(
                ["sudo", "-n", "--", HELPER_PATH, "write-new", f"{directory}/index.html", page]
            )
            done = as_habot(lab, args)
            assert done.returncode == EXIT_REFUSED, done.stdout + done.stderr
            assert "refused" in done.stderr
        listed = lab.exec("nodo1", ["ls", "-A", "/etc/sudoers.d", "/var/www/target"]).stdout
        assert "index.html" not in listed
    finally:
        lab.exec("nodo1", ["sh", "-c", UNDO_WWW])


SETUP_WWW = (
    "mkdir -p /var/www/target /var/www/html/team && ln -sfn /etc/sudoers.d /var/www/planted && "
    "chown www-data /var/www/html/team && su -s /bin/sh www-data -c "
    "'ln -sfn /var/www/target /var/www/html/team/site'"
)
UNDO_WWW = "rm -rf /var/www/target /var/www/html/team /var/www/planted"


AGENT = "/var/log/pacemaker/habot-events.jsonl"
# a haclient member (nobody, with haclient as a supplementary group): what the README's ACL
# route makes of the node user, and what any member of that group is
AS_MEMBER = (
    'setpriv --reuid=65534 --regid=65534 --groups="$(getent group haclient | cut -d: -f3)" sh -c'
)
SAVE = f"mv {AGENT} {AGENT}.saved; mv {AGENT}.1 {AGENT}.1.saved 2>/dev/null; true"
RESTORE = (
    f"rm -f {AGENT} {AGENT}.1; mv {AGENT}.saved {AGENT}; "
    f"mv {AGENT}.1.saved {AGENT}.1 2>/dev/null; true"
)


def test_a_log_planted_as_a_link_by_a_haclient_member_is_never_read(lab: Lab) -> None:
    """/var/log/pacemaker is hacluster's, and every haclient member may write in it: a link
    to /etc/shadow planted as habot's agent file (or its rotation) is never read by root for
    the node user (hard links: tests/node/test_helper_files.py)."""
    plant = f"ln -s /etc/shadow {AGENT}; ln -s /etc/shadow {AGENT}.1"
    lab.exec("nodo1", ["sh", "-c", f"{SAVE}; {AS_MEMBER} {shlex.quote(plant)}"])
    try:
        for verb in (f"log stat {AGENT}", f"log read {AGENT} 0 4096", f"log read {AGENT}.1 0 4096"):
            done = as_habot(lab, f"sudo -n -- {HELPER_PATH} {verb}")
            assert "root:" not in done.stdout, verb
            assert "symbolic link; refused" in done.stderr, verb
        # the old reads, as rules no longer hold them
        for argv in (f"exec stat -L -c '%n %i %s' {AGENT}", f"exec dd if={AGENT} status=none"):
            done = as_habot(lab, f"sudo -n -- {HELPER_PATH} {argv}")
            assert done.returncode == EXIT_REFUSED
            assert "root:" not in done.stdout
    finally:
        lab.exec("nodo1", ["sh", "-c", RESTORE])


def test_a_haclient_member_cannot_forge_the_agents_records(lab: Lab) -> None:
    """A member may delete the agent's file and write one of its own in its place: habot-node
    refuses a file that is not its directory's owner's (hacluster's), and says so — the
    alerts channel then hears that the source cannot be read, never the forged records."""
    forged = f"echo {shlex.quote(FORGED_RECORD)} > {AGENT}"
    lab.exec("nodo1", ["sh", "-c", f"{SAVE}; {AS_MEMBER} {shlex.quote(forged)}"])
    try:
        done = as_habot(lab, f"sudo -n -- {HELPER_PATH} log read {AGENT} 0 4096")
        assert done.returncode == EXIT_REFUSED
        assert "not by its directory's owner; refused" in done.stderr
        assert "nodo2" not in done.stdout
    finally:
        lab.exec("nodo1", ["sh", "-c", RESTORE])


FORGED_RECORD = '{"kind":"node","node":"nodo2","desc":"lost","host":"nodo1"}'


FORGE = """#include <syslog.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void forge(void) {
    syslog(LOG_ERR, "Node nodo2 state is now lost FORGED-%s");
    sleep(1);  /* long enough for journald to read /proc/PID/exe: _EXE is the daemon's */
    exit(0);
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc makes the forger's library")
def test_a_local_user_running_a_daemons_program_is_never_read(lab: Lab, tmp_path: Path) -> None:
    """Any local user may run /usr/lib/pacemaker/pacemaker-controld with LD_PRELOAD and log
    as it: journald then records the daemon's own `_EXE`. habot-node's selection requires
    root or hacluster beside the program, so the forgery is not read — and the same words
    from root (the false friend) are."""
    mark = secrets.token_hex(4)
    source = tmp_path / "forge.c"
    source.write_text(FORGE % mark)
    library = Path("/tmp") / f"habot-forge-{mark}.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    library.chmod(0o755)
    since = int(lab.exec("nodo1", ["date", "+%s"]).stdout) - 1
    try:
        forged = f"LD_PRELOAD={library} /usr/lib/pacemaker/pacemaker-controld"
        lab.exec("nodo1", ["su", "-s", "/bin/sh", "nobody", "-c", forged])
        lab.exec(
            "nodo1", ["logger", "-p", "daemon.err", "-t", "pacemaker-controld", f"ROOT-{mark}"]
        )
        raw = lab.exec(
            "nodo1",
            [
                "journalctl",
                "-o",
                "json",
                f"--since=@{since}",
                "_EXE=/usr/lib/pacemaker/pacemaker-controld",
            ],
        ).stdout
        assert f"FORGED-{mark}" in raw  # journald did record it, with the daemon's _EXE
        read = as_habot(lab, f"sudo -n -- {HELPER_PATH} journal --since=@{since}")
        assert read.returncode == 0, read.stderr
        assert f"ROOT-{mark}" in read.stdout
        assert f"FORGED-{mark}" not in read.stdout
    finally:
        library.unlink()


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


COLLEAGUE = '<rsc_location id="colleague-prefers" rsc="VirtualIP" node="nodo1" score="10"/>'


def test_a_push_keeps_what_a_colleague_changed_after_the_pull(lab: Lab) -> None:
    """A shadow-CIB step pulls, edits (each pcs edit ~0.4 s), then pushes: a constraint an
    operator adds in between stays — the push applies only habot's own difference from what
    it pulled (the old push replaced the configuration and silently dropped it)."""
    edits = [
        ["resource", "unmanage", "WebFS"],
        *(["resource", verb, "WebSite", "nodo2"] for verb in ("ban", "clear", "ban", "clear")),
    ]
    push = f"sudo -n -- {HELPER_PATH} cib push {shlex.quote(json.dumps(edits))}"
    pushed: list[subprocess.CompletedProcess[str]] = []
    worker = threading.Thread(target=lambda: pushed.append(as_habot(lab, push)))
    worker.start()
    try:
        pulled = wait_for_pull(lab)
        lab.exec(
            "nodo1", ["cibadmin", "--create", "--scope", "constraints", "--xml-text", COLLEAGUE]
        )
        worker.join(timeout=120)
        assert pulled  # the colleague's change came after habot's pull, before its push
        assert worker.is_alive() is False
        (done,) = pushed
        assert done.returncode == 0, done.stderr
        constraints = lab.exec("nodo1", ["cibadmin", "--query", "--scope", "constraints"]).stdout
        assert 'id="colleague-prefers"' in constraints  # kept
        resources = lab.exec("nodo1", ["cibadmin", "--query", "--scope", "resources"]).stdout
        assert 'name="is-managed" value="false"' in resources  # habot's own change, pushed
    finally:
        worker.join(timeout=120)
        lab.exec("nodo1", ["pcs", "resource", "manage", "WebFS"], check=False)
        lab.exec(
            "nodo1",
            ["cibadmin", "--delete", "--scope", "constraints", "--xml-text", COLLEAGUE],
            check=False,
        )


def wait_for_pull(lab: Lab) -> bool:
    """True once habot-node's private copy of the pulled CIB exists on nodo1."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = lab.exec("nodo1", ["sh", "-c", "ls /run/habot-cib.*/original.xml"], check=False)
        if found.returncode == 0:
            return True
        time.sleep(0.05)
    return False
