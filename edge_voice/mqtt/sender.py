"""Publishing the outbox over one connection, several QoS 1 messages awaiting their PUBACK."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiomqtt

from edge_voice.mqtt.outbox import Outbox
from edge_voice.mqtt.payloads import Publication

log = logging.getLogger(__name__)

Publish = Callable[[Publication], Awaitable[None]]
Releaser = Callable[[], None]


class Sender:
    """Takes publications from the outbox in order; up to `window` wait for their PUBACK."""

    # One acknowledged publish at a time capped the bridge at one broker round trip per
    # message: a burst of commands outran it. paho keeps the order on the wire (each publish
    # is written when it is taken) and aiomqtt awaits each PUBACK on its own.

    def __init__(self, outbox: Outbox, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.outbox = outbox
        self.window = window

    async def run(self, publish: Publish) -> None:
        """Publish forever; raise the MqttError of the first publish that fails."""
        slots = asyncio.Semaphore(self.window)
        try:
            async with asyncio.TaskGroup() as group:
                while True:
                    await slots.acquire()
                    try:
                        publication = await self.outbox.take()
                    except BaseException:
                        slots.release()
                        raise
                    group.create_task(self._one(publish, publication, slots.release))
        except* aiomqtt.MqttError as failed:
            raise failed.exceptions[0] from None
        finally:
            # Cancelled or failed: whatever was not acknowledged goes again on the next link.
            self.outbox.requeue()

    async def flush(self, publish: Publish, running: asyncio.Task[None] | None = None) -> None:
        """Publish until the outbox is empty, with the `running` sender or a new one."""
        own = running is None or running.done()
        sender = asyncio.create_task(self.run(publish)) if own or running is None else running
        empty = asyncio.create_task(self.outbox.flushed())
        try:
            await asyncio.wait({sender, empty}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            empty.cancel()
            if own:
                sender.cancel()
            await asyncio.gather(empty, *([sender] if own else []), return_exceptions=True)
        error = None if sender.cancelled() else sender.exception() if sender.done() else None
        if error is not None:
            raise error

    async def _one(self, publish: Publish, publication: Publication, release: Releaser) -> None:
        try:
            await publish(publication)
        except (ValueError, TypeError) as exc:  # unpublishable: retrying would jam the queue
            log.error("MQTT: dropping a message for %s: %s", publication.topic, exc)
        finally:
            release()
        # Only once published (or unpublishable): a publish that failed or was cancelled
        # stays in flight, and `run` requeues it.
        self.outbox.done(publication)
