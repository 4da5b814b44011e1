"""Which model to try next: model selection, a circuit breaker per primary, jittered backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal, get_args

#: The values of `openai.model_selection`, `<base>/model_selection/set` and the HA select.
ModelSelection = Literal["auto", "new", "legacy"]
MODEL_SELECTIONS: Final[tuple[ModelSelection, ...]] = get_args(ModelSelection)


class BreakerState(StrEnum):
    """Circuit-breaker states of the primary model."""

    CLOSED = "closed"  # use the primary
    OPEN = "open"  # the primary failed: use the fallback until the cool-down ends
    HALF_OPEN = "half_open"  # cool-down over: probe the primary once


@dataclass
class CircuitBreaker:
    """Opens when the primary is refused (or drops repeatedly); probes it after a cool-down."""

    cooldown_s: float
    drop_threshold: int = 3
    drop_window_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _opened_at: float | None = None
    _drops: list[float] = field(default_factory=list)

    @property
    def state(self) -> BreakerState:
        """The state now."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self._opened_at >= self.cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def record_failure(self) -> None:
        """The primary was refused or timed out: open (again) from now."""
        self._opened_at = self.clock()

    def record_success(self) -> None:
        """The primary accepted a connection: close (recent drops still count)."""
        self._opened_at = None

    def reset(self) -> None:
        """Forget everything (a different primary model)."""
        self._opened_at = None
        self._drops.clear()

    def record_drop(self) -> bool:
        """A session on the primary dropped; True if that made the breaker open."""
        now = self.clock()
        self._drops = [t for t in self._drops if now - t < self.drop_window_s] + [now]
        if len(self._drops) >= self.drop_threshold:
            self._drops.clear()
            self.record_failure()
            return True
        return False

    def seconds_until_probe(self) -> float:
        """How long until the primary is probed again (0 if closed or due)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown_s - (self.clock() - self._opened_at))


def candidate_models(
    selection: ModelSelection,
    primary: str,
    legacy: str,
    breaker: BreakerState,
    fallbacks: Sequence[str] = (),
) -> list[str]:
    """Models to try, in order, for this selection and breaker state."""
    if selection == "new":
        return [primary]
    if selection == "legacy":
        return [legacy]
    return breaker_order(list(dict.fromkeys([primary, legacy, *fallbacks])), breaker)


def breaker_order(chain: Sequence[str], breaker: BreakerState) -> list[str]:
    """The `auto` chain, with its primary (first) moved last while the breaker is open."""
    if breaker is BreakerState.OPEN and len(chain) > 1:
        return [*chain[1:], chain[0]]
    return list(chain)


@dataclass
class Backoff:
    """Exponential backoff with full jitter, so many devices do not reconnect in step."""

    base_s: float = 1.0
    cap_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; grows until the cap."""
        ceiling = min(self.cap_s, self.base_s * (2**self.attempt))
        self.attempt += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        """Start again from the base delay after a success."""
        self.attempt = 0
