"""A clock the test holds: real time plus a skew it can move forward (injected, never patched)."""

from __future__ import annotations

import time


class SkewedClock:
    def __init__(self, start: float | None = None) -> None:
        self.skew = 0.0 if start is None else start - time.time()

    def __call__(self) -> float:
        return time.time() + self.skew

    def advance(self, seconds: float) -> None:
        self.skew += seconds
