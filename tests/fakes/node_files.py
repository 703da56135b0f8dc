"""Real files a config names: an SSH client key and a known_hosts file (what `habot serve`
and `habot config check` read before anything else)."""

from __future__ import annotations

from pathlib import Path

import asyncssh


def ssh_files(directory: Path) -> tuple[Path, Path]:
    """(client key, known_hosts) in `directory`: an ed25519 key, and a host key for
    127.0.0.2 (the lab's nodo1 address on the host)."""
    key, known_hosts = directory / "id_ed25519", directory / "known_hosts"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    host = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    known_hosts.write_text(f"127.0.0.2 {host}")
    return key, known_hosts


def cluster_yaml(directory: Path) -> str:
    """A one-node cluster whose key and known_hosts exist."""
    key, known_hosts = ssh_files(directory)
    return (
        "clusters:\n  mycluster:\n"
        f"    ssh_key: {key}\n    known_hosts: {known_hosts}\n"
        "    nodes:\n      - {name: nodo1, host: 127.0.0.2}\n"
    )
