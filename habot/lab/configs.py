"""The files a lab needs before its nodes boot: configs, keys, stand-ins, the "DRBD" image."""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from habot.lab import processes
from habot.lab.layout import CLUSTER_NAME, HYPERVISOR_URI, LabLayout, NodeSpec
from habot.node import HELPER_PATH

NODE_DIRS = (
    "etc/corosync",
    "etc/haproxy",
    "etc/pacemaker",
    "var/lib/pacemaker/cib",
    "var/lib/pacemaker/pengine",
    "var/lib/pacemaker/blackbox",
    "var/lib/pacemaker/cores",
    "var/lib/corosync",
    "var/log/pacemaker",
    "var/log/corosync",
    "var/log/apache2",
    "var/log/journal",
)
HACLUSTER_DIRS = (
    "var/lib/pacemaker/cib",
    "var/lib/pacemaker/pengine",
    "var/lib/pacemaker/blackbox",
    "var/lib/pacemaker/cores",
    "var/log/pacemaker",
)
DRBD_IMAGE_MIB = 300  # mkfs.gfs2 with two journals needs well over 10 MiB


@dataclass(frozen=True, slots=True)
class LabUser:
    name: str
    gecos: str


HABOT_USER = "habot"
ADMIN = "admin"
# Users only the nodes have (their own /etc/passwd, group and shadow are bind-mounted over the
# host's): habot with the generated sudoers, and a person with full sudo.
LAB_USERS = (LabUser(HABOT_USER, "habot, the Slack bot"), LabUser(ADMIN, "the lab's operator"))


def corosync_conf(layout: LabLayout) -> str:
    nodes = "\n".join(
        f"    node {{\n        ring0_addr: {n.address}\n        name: {n.name}\n"
        f"        nodeid: {n.nodeid}\n    }}"
        for n in layout.nodes
    )
    return f"""totem {{
    version: 2
    cluster_name: {CLUSTER_NAME}
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
}}

nodelist {{
{nodes}
}}

quorum {{
    provider: corosync_votequorum
    two_node: 1
}}

logging {{
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: yes
    syslog_facility: daemon
    timestamp: on
}}
"""


def sshd_config(layout: LabLayout, node: NodeSpec) -> str:
    node_dir = layout.node_dir(node.name)
    return f"""# habot lab: sshd of {node.name}, key-only
Port 22
ListenAddress 0.0.0.0
HostKey {node_dir}/ssh_host_ed25519_key
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# no root logins: habot logs in as `habot` (the generated sudoers), people as `admin` + sudo
PermitRootLogin no
AllowUsers {" ".join(u.name for u in LAB_USERS)}
AuthorizedKeysFile {layout.authorized_keys_dir}/%u
UsePAM no
PidFile /run/sshd.pid
MaxSessions 10
MaxStartups 30:50:100
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def host_pattern(layout: LabLayout, node: NodeSpec) -> str:
    if layout.ssh_port == 22:
        return f"{node.name},{node.ssh_host}"
    return f"[{node.ssh_host}]:{layout.ssh_port}"


def ssh_config(layout: LabLayout) -> str:
    blocks = [
        f"Host {n.name}\n    HostName {n.ssh_host}\n    Port {layout.ssh_port}\n    User {ADMIN}\n"
        f"    IdentityFile {layout.ssh_dir}/id_ed25519\n    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {layout.ssh_dir}/known_hosts\n    StrictHostKeyChecking yes\n"
        f"    HostKeyAlias {n.name}\n"
        for n in layout.nodes
    ]
    return (
        f"# habot lab: ssh -F this-file nodo1 (as {ADMIN}, who has sudo; root cannot log in)\n"
        + "\n".join(blocks)
    )


def habot_config(layout: LabLayout) -> str:
    nodes = "".join(
        f"      - name: {n.name}\n        host: {n.ssh_host}\n"
        f"        port: {layout.ssh_port}\n        user: {HABOT_USER}\n"
        for n in layout.nodes
    )
    hostlist = ",".join(f"{n.name}:{n.domain}" for n in layout.nodes)
    backends = ",".join(f"{n.address}:80" for n in layout.nodes)  # both nodes' apache
    return f"""# habot configuration for the lab cluster (written by `habot lab up`)
# The lab has one operator and no real Slack workspace: anyone may approve, anywhere, and the
# console's operator approves their own requests. habot logs in as the unprivileged `habot`,
# whose sudoers on the nodes is what `habot sudoers` writes.
approvers: anyone
allowed_channels: any
console_single_operator: true
clusters:
  {CLUSTER_NAME}:
    ssh_key: {layout.ssh_dir}/id_ed25519
    known_hosts: {layout.ssh_dir}/known_hosts
    alerts_channel: C0HAALERTS
    nodes:
{nodes}    runbook_params:
      hostlist: "{hostlist}"
      hypervisor_uri: "{HYPERVISOR_URI}"
      address: "{layout.vip}"
      backends: "{backends}"
"""


def write_all(layout: LabLayout) -> None:
    """Lay out a fresh lab directory (node state is recreated on every `up`)."""
    for sub in ("nodes", "ssh", "shared", "home", "authorized_keys"):
        shutil.rmtree(layout.root / sub, ignore_errors=True)
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o755)
    layout.id_file.write_text(f"{layout.lab}\n")  # the lab's programs find their lab by it
    layout.shell_file.write_text(f"{layout.shell}\n")  # and its shell (until `lab down`)
    _ssh_keys(layout)
    _shared(layout)
    authkey = secrets.token_bytes(256)
    pacemaker_key = secrets.token_bytes(256)
    layout.config_file.write_text(habot_config(layout))
    users = _users(layout)
    for node in layout.nodes:
        _node(layout, node, authkey, pacemaker_key)
        _accounts(layout, node, users)
    (layout.ssh_dir / "ssh_config").write_text(ssh_config(layout))


def _users(layout: LabLayout) -> dict[str, int]:
    """UIDs for the lab's users (free on this machine), each with a home of its own."""
    taken = {p.pw_uid for p in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    uids = [u for u in range(61000, 62000) if u not in taken][: len(LAB_USERS)]
    found = {}
    for user, uid in zip(LAB_USERS, uids, strict=True):
        home = layout.root / "home" / user.name
        home.mkdir(parents=True, mode=0o700)
        os.chown(home, uid, uid)
        found[user.name] = uid
    return found


def _accounts(layout: LabLayout, node: NodeSpec, uids: dict[str, int]) -> None:
    """The node's /etc/passwd, group and shadow (the host's, plus the lab's users) and its
    /etc/sudoers.d: habot's rules as `habot sudoers` prints them, full sudo for the admin."""
    etc = layout.node_dir(node.name) / "fs/etc"
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    shadow = Path("/etc/shadow").read_text()
    for user in LAB_USERS:
        uid = uids[user.name]
        home = layout.root / "home" / user.name
        passwd += f"{user.name}:x:{uid}:{uid}:{user.gecos}:{home}:/bin/sh\n"
        group += f"{user.name}:x:{uid}:\n"
        shadow += f"{user.name}:*:20000:0:99999:7:::\n"  # `*`: no password, keys only
    for name, text, mode in (("passwd", passwd, 0o644), ("group", group, 0o644)):
        (etc / name).write_text(text)
        (etc / name).chmod(mode)
    (etc / "shadow").write_text(shadow)
    (etc / "shadow").chmod(0o640)
    shutil.chown(etc / "shadow", "root", "shadow")
    sudoers_d = etc / "sudoers.d"
    sudoers_d.mkdir(mode=0o755)
    # habot-node, its rules and the sudoers line, as `habot node-files` writes them for any
    # cluster; the node sees the directory at habot-node's installed path (node-setup.sh)
    helper_dir = layout.node_dir(node.name) / "fs/libexec-habot"
    processes.run(
        [
            sys.executable,
            "-m",
            "habot",
            "node-files",
            str(helper_dir),
            "--config",
            str(layout.config_file),
        ]
    )
    helper_dir.chmod(0o755)
    rules = (helper_dir / "habot.sudoers").read_text()
    (helper_dir / "habot.sudoers").unlink()
    Path(HELPER_PATH).parent.mkdir(parents=True, exist_ok=True)  # the mount point
    for name, text in ((HABOT_USER, rules), (ADMIN, f"{ADMIN} ALL=(ALL) NOPASSWD: ALL\n")):
        (sudoers_d / name).write_text(text)
        (sudoers_d / name).chmod(0o440)
        processes.run(["visudo", "-cqf", str(sudoers_d / name)])


def _ssh_keys(layout: LabLayout) -> None:
    layout.ssh_dir.mkdir(mode=0o700)
    key = layout.ssh_dir / "id_ed25519"
    processes.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "habot-lab", "-f", str(key)]
    )
    keys = layout.authorized_keys_dir  # sshd reads it as the user: root-owned, readable
    keys.mkdir(mode=0o755)
    for user in LAB_USERS:
        (keys / user.name).write_text(Path(f"{key}.pub").read_text())
        (keys / user.name).chmod(0o644)


def _shared(layout: LabLayout) -> None:
    shared = layout.shared_dir
    files = resources.files("habot.lab") / "files"
    for sub in ("bin", "ocf"):
        _copy_tree(Path(str(files / sub)), shared / sub, layout)
    # the real pgrep and pkill, where the nodes' stand-ins (bin/pgrep, bin/pkill) call them
    procps = shared / "procps"
    procps.mkdir()
    shutil.copy2("/usr/bin/pgrep", procps / "pgrep")  # Debian's procps
    (procps / "pkill").symlink_to("pgrep")  # procps acts as pkill when called by that name
    meta = shared / "meta"
    meta.mkdir()
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf"}
    for agent in ("heartbeat/Filesystem", "pacemaker/controld"):
        real = f"/usr/lib/ocf/resource.d/{agent}"
        xml = processes.run([real, "meta-data"], env=env).stdout
        (meta / f"{agent.split('/')[1]}.xml").write_text(xml)
    hosts = "127.0.0.1\tlocalhost\n" + "".join(f"{n.address}\t{n.name}\n" for n in layout.nodes)
    (shared / "hosts").write_text(hosts)
    make_drbd_image(layout)


def _copy_tree(source: Path, target: Path, layout: LabLayout) -> None:
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text().replace("@LAB@", str(layout.root))
        text = text.replace("@PYTHON@", sys.executable)
        text = text.replace("@VOLUMES@", str(layout.volumes_dir))
        text = text.replace("@META@", str(layout.shared_dir / "meta"))
        dest.write_text(text)
        dest.chmod(0o755)


def make_drbd_image(layout: LabLayout) -> None:
    """The "DRBD device" both nodes see: a sparse file with the seed's ext4 and its index page."""
    image = layout.drbd_image
    with image.open("wb") as f:
        f.truncate(DRBD_IMAGE_MIB * 1024 * 1024)
    processes.run(["mkfs.ext4", "-q", "-F", "-L", "webdata", str(image)])
    uuid = processes.run(["blkid", "-o", "value", "-s", "UUID", str(image)]).stdout.strip()
    volume = layout.volumes_dir / uuid
    volume.mkdir(parents=True)
    (volume / "index.html").write_text("<h1>habot lab: WebFS (ext4 on /dev/drbd1)</h1>\n")


def filesystem_type(image: Path) -> str:
    found = processes.run(["blkid", "-o", "value", "-s", "TYPE", str(image)], check=False)
    return found.stdout.strip()


def _node(layout: LabLayout, node: NodeSpec, authkey: bytes, pacemaker_key: bytes) -> None:
    node_dir = layout.node_dir(node.name)
    fs = node_dir / "fs"
    for sub in NODE_DIRS:
        (fs / sub).mkdir(parents=True)
    hacluster = pwd.getpwnam("hacluster")
    for sub in HACLUSTER_DIRS:
        os.chown(fs / sub, hacluster.pw_uid, hacluster.pw_gid)
        (fs / sub).chmod(0o770 if sub.startswith("var/log") else 0o750)
    (node_dir / "pids").mkdir()
    (fs / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
    (fs / "etc/corosync/corosync.conf").write_text(corosync_conf(layout))
    _secret(fs / "etc/corosync/authkey", authkey, 0, 0)
    _secret(fs / "etc/pacemaker/authkey", pacemaker_key, hacluster.pw_uid, hacluster.pw_gid)
    _seed_cib(fs / "var/lib/pacemaker/cib/cib.xml", hacluster.pw_uid, hacluster.pw_gid)
    processes.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            node.name,
            "-f",
            str(node_dir / "ssh_host_ed25519_key"),
        ]
    )
    (node_dir / "sshd_config").write_text(sshd_config(layout, node))
    public = (node_dir / "ssh_host_ed25519_key.pub").read_text().split()
    with (layout.ssh_dir / "known_hosts").open("a") as known:
        known.write(f"{host_pattern(layout, node)} {public[0]} {public[1]}\n")
        if layout.ssh_port != 22:  # ssh looks the alias up, asyncssh the [host]:port
            known.write(f"{node.name} {public[0]} {public[1]}\n")


def _secret(path: Path, data: bytes, uid: int, gid: int) -> None:
    path.write_bytes(data)
    path.chmod(0o400)
    os.chown(path, uid, gid)


def _seed_cib(path: Path, uid: int, gid: int) -> None:
    """An empty CIB with dc-deadtime=5s: the first DC election takes ~3 s instead of ~22 s."""
    path.write_text(processes.run(["cibadmin", "--empty"]).stdout)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CIB_file": str(path)}
    processes.run(["crm_attribute", "-t", "crm_config", "-n", "dc-deadtime", "-v", "5s"], env=env)
    os.chown(path, uid, gid)
    path.chmod(0o600)
