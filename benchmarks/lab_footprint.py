"""The lab's idle cost: CPU (share of one core over a window) and memory (PSS, RSS) of every
process in its nodes, plus the time `habot lab up` takes. Run as root with the lab down:
`.venv/bin/python -m benchmarks.lab_footprint`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from habot.lab import processes
from habot.lab.lab import Lab
from habot.lab.layout import LabLayout

WINDOW_S = 20.0
TICKS = os.sysconf("SC_CLK_TCK")


def node_pids(lab: Lab) -> list[int]:
    pids = []
    for node in lab.nodes():
        anchor = node.anchor()
        ns = processes.namespace_of(anchor, "mnt") if anchor else None
        if ns:
            pids += processes.pids_in_namespace(ns)
    return pids


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def memory_kib(pids: list[int], field: str) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def main() -> None:
    lab = Lab(LabLayout.default())
    if lab.is_up():
        lab.down(lambda _: None, grace=0)
    started = time.monotonic()
    lab.up(lambda _: None)
    up_s = time.monotonic() - started
    time.sleep(5)  # let the first transitions settle
    pids = node_pids(lab)
    before = cpu_ticks(pids)
    time.sleep(WINDOW_S)
    cpu = (cpu_ticks(pids) - before) / TICKS / WINDOW_S * 100
    print("| lab measure | result |")
    print("|---|---|")
    print(f"| `habot lab up` (both nodes online, seed loaded) | {up_s:.1f} s |")
    print(f"| idle CPU, {len(pids)} processes, {WINDOW_S:g} s window | {cpu:.1f} % of one core |")
    print(
        f"| idle memory | {memory_kib(pids, 'Pss') / 1024:.0f} MiB PSS, "
        f"{memory_kib(pids, 'Rss') / 1024:.0f} MiB RSS |"
    )


if __name__ == "__main__":
    main()
