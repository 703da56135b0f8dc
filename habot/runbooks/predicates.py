"""Runbook predicates with their {{ parameters }} rendered (the checks themselves are in
habot.cluster.predicates, shared with the alert rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from habot.cluster.predicates import Predicate, ResourceOn, ResourcePair
from habot.runbooks.render import render


def render_predicate(pred: Predicate, context: Mapping[str, Any]) -> Predicate:
    def value(v: object) -> object:
        if isinstance(v, str):
            return render(v, context)
        if isinstance(v, ResourcePair):
            return v.model_copy(
                update={
                    "resource": render(v.resource, context),
                    "with_resource": render(v.with_resource, context),
                }
            )
        if isinstance(v, ResourceOn):
            return v.model_copy(
                update={
                    "resource": render(v.resource, context),
                    "node": render(v.node, context) if v.node else None,
                }
            )
        return v

    return pred.model_copy(update={k: value(v) for k, v in pred if v is not None})
