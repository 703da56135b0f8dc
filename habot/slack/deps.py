"""What every Slack listener is given: the use cases, the tracked jobs, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from habot.alerts.rules import Catalogue
from habot.jobs import Jobs
from habot.service.alert_actions import AlertActions
from habot.service.alert_poller import Poller
from habot.service.clusters import Ops
from habot.service.forms import Forms
from habot.service.maintenance import Maintenance
from habot.service.workflow import Workflow


@dataclass(frozen=True)
class Deps:
    ops: Ops
    jobs: Jobs
    workflow: Workflow
    clock: Callable[[], float] = time.time
    catalogue: Catalogue = field(default_factory=lambda: Catalogue(()))
    poller: Poller | None = None  # delivers alert cards after a button changed an alert
    # Called after anything the home tab shows changed (a request, a decision, a run's end).
    changed: Callable[[], None] = lambda: None

    @property
    def alerts(self) -> AlertActions:
        return AlertActions(self.workflow, self.catalogue, self.poller, self.clock)

    @property
    def maintenance(self) -> Maintenance:
        return Maintenance(self.workflow)

    @property
    def forms(self) -> Forms:
        return Forms(self.workflow)
