"""Exponential backoff with jitter, bounded, honouring a server's Retry-After: one for every backend.

A wait is never longer than the wait limit, whatever Retry-After asks, and a
wait that would pass the end of the run fails at once (see `limits`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from calsync.io import limits


@dataclass(frozen=True)
class Retry:
    attempts: int = 6
    base: float = 0.5  # seconds; doubled each attempt, with jitter
    cap: float = 32.0
    sleep: Callable[[float], None] | None = None  # None: time.sleep, looked up when used

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        delay = min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)
        (self.sleep or time.sleep)(limits.bounded_wait(max(delay, retry_after or 0)))
