"""What tests can see of the simulator: connections and every event in and out, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def redact_key(key: str) -> str:
    """Show an API key the way the real error does: a prefix, stars, the last four."""
    if len(key) < 12:
        return key[:3] + "*" * max(len(key) - 3, 0)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


@dataclass
class ConnectionRecord:
    """One websocket connection as the simulator saw it."""

    id: int
    path: str
    model: str | None
    protocol: str
    #: Request headers, with the Authorization value redacted.
    headers: dict[str, str]
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: Error code of a refusal at connect (invalid_api_key, invalid_model, ...), else None.
    refused: str | None = None
    closed: bool = False

    def sent_types(self) -> list[str]:
        """Types of the server events sent, in order."""
        return [str(e.get("type")) for e in self.sent]


class Observer:
    """The connection records, and a way to wait until a condition on them holds."""

    def __init__(self) -> None:
        self.connections: list[ConnectionRecord] = []
        self._changed: asyncio.Event | None = None

    def notify(self) -> None:
        """Something was recorded: wake the waiters."""
        if self._changed is not None:
            self._changed.set()

    async def wait_for(self, condition: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Return `condition()` once it is truthy; TimeoutError after `timeout` seconds."""
        if self._changed is None:
            self._changed = asyncio.Event()
        changed = self._changed
        async with asyncio.timeout(timeout):
            while True:
                value = condition()
                if value:
                    return value
                changed.clear()
                await changed.wait()
