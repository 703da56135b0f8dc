"""Power a lab node on after a delay (what virsh start leaves running in the background)."""

from __future__ import annotations

import sys
import time

from habot.lab.layout import LabLayout
from habot.lab.node import LabNode


def main(argv: list[str]) -> int:
    name, delay = argv[0], float(argv[1])
    time.sleep(delay)
    layout = LabLayout.default()
    LabNode(layout, layout.node(name)).boot()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
