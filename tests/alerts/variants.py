"""The lab's config with other alert settings (a source, a log file, fewer nodes)."""

from __future__ import annotations

from typing import Any

from habot.config import HabotConfig


def with_alerts(config: HabotConfig, *, nodes: int | None = None, **changes: Any) -> HabotConfig:
    cluster = config.clusters["mycluster"]
    update: dict[str, Any] = {"alerts": cluster.alerts.model_copy(update=changes)}
    if nodes is not None:
        update["nodes"] = cluster.nodes[:nodes]
    return config.model_copy(update={"clusters": {"mycluster": cluster.model_copy(update=update)}})
