"""Pure helpers for job progress and retries: percentages, throttling, backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable


def percent(done: int, total: int | None) -> int | None:
    """``done`` of ``total`` as a whole percentage in 0-100; None when the total is unknown."""
    if not total or total < 0:
        return None
    return max(0, min(100, int(100 * done / total)))


def retry_delay(
    attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after attempt ``attempt`` (1-based) failed.

    Exponential (base, 2 base, 4 base, ...) up to ``cap``, with "equal jitter": a random half of
    the step is added to a fixed half, so workers that failed together do not retry together,
    and no retry comes sooner than half the step.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    step = min(cap, base * 2 ** min(attempt - 1, 62))
    return step / 2 + rand() * step / 2


class Throttle:
    """Says yes at most once per ``interval`` seconds of ``clock`` (the first call: yes)."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True
