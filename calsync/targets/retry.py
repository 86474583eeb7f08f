"""Exponential backoff with jitter, bounded, honouring a server's Retry-After: one for every backend.

A wait is never longer than the wait limit, whatever Retry-After asks, and a
wait that would pass the end of the run fails at once (see `limits`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from calsync.io import limits

# The HTTP statuses every backend retries (Google, CalDAV, intervals.icu): too many
# requests, and the server errors that say "try again" (RFC 9110, Google's errors guide).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class Again(Exception):
    """An attempt worth repeating; `final` is what is raised when no attempt is left."""

    def __init__(self, final: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after  # the server's Retry-After, in seconds, if it gave one


@dataclass(frozen=True)
class Retry:
    attempts: int = 6
    base: float = 0.5  # seconds; doubled each attempt, with jitter
    cap: float = 32.0
    sleep: Callable[[float], None] | None = None  # None: time.sleep, looked up when used

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        delay = min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)
        (self.sleep or time.sleep)(limits.bounded_wait(max(delay, retry_after or 0)))

    def run(
        self,
        attempt: Callable[[bool], T],
        landed: Callable[[], T | None] | None = None,
    ) -> T:
        """The one retry loop: `attempt(last)` until it returns, waiting after each `Again`.

        `landed`, for a request that is not idempotent, looks before each retry whether
        the failed attempt took effect after all, and returns its result (None: send it
        again)."""
        for number in range(self.attempts):
            last = number == self.attempts - 1
            try:
                return attempt(last)
            except Again as again:
                if last:
                    raise again.final from None
                self.wait(number, again.retry_after)
            if landed is not None and (result := landed()) is not None:
                return result
        raise AssertionError("unreachable")
