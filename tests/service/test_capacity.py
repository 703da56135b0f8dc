"""What one replica holds: config check's warning past what was measured, the way out it
names (replicas with HABOT_MAX_CLUSTERS), and the open files serve asks for."""

from __future__ import annotations

import subprocess
import sys

from habot.config import ClusterConfig
from habot.service import capacity


def clusters(count: int, interval_s: float = 30, nodes: int = 2) -> list[ClusterConfig]:
    one = ClusterConfig.model_validate(
        {
            "ssh_key": "/k",
            "known_hosts": "/h",
            "nodes": [{"name": f"n{i}", "host": f"127.0.0.{i + 2}"} for i in range(nodes)],
            "alerts": {"interval_s": interval_s},
        }
    )
    return [one] * count


def test_what_was_measured_warns_of_nothing() -> None:
    assert capacity.warnings(clusters(1000), 0, 4096) == []
    assert capacity.warnings(clusters(30, interval_s=1), 0, None) == []  # 60 a second


def test_more_than_was_measured_names_the_replicas_it_takes() -> None:
    (said,) = capacity.warnings(clusters(1100), 0, None)
    assert "1100 clusters (2200 nodes)" in said
    assert "73.3 node-polls a second" in said
    assert "run 2 replicas with HABOT_MAX_CLUSTERS=550" in said
    # the same count polled every second: 2,200 a second
    (said,) = capacity.warnings(clusters(1100, interval_s=1), 0, None)
    assert "run 33 replicas with HABOT_MAX_CLUSTERS=34" in said


def test_a_replica_bounded_by_max_clusters_is_judged_on_its_share() -> None:
    assert capacity.warnings(clusters(1100), 550, None) == []
    assert len(capacity.warnings(clusters(1100), 1001, None)) == 1


def test_open_files_past_the_hard_limit_are_said() -> None:
    (said,) = capacity.warnings(clusters(500), 0, 1024)  # 1,000 nodes: ~1,256 files
    assert "1000 nodes need about 1256 open files" in said
    assert "hard limit (ulimit -Hn) is 1024" in said
    assert capacity.warnings(clusters(300), 0, 1024) == []


def test_the_soft_limit_is_raised_as_far_as_the_hard_one_allows() -> None:
    code = (
        "import resource\n"
        "from habot.service import capacity\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 700))\n"
        "print(capacity.raise_open_files(500), resource.getrlimit(resource.RLIMIT_NOFILE))\n"
        "print(capacity.raise_open_files(5000), resource.getrlimit(resource.RLIMIT_NOFILE))\n"
        "print(capacity.raise_open_files(10))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:3] == ["500 (500, 700)", "700 (700, 700)", "700"]
