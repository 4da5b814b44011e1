"""The sender: outbox order, at most `window` publishes awaiting their PUBACK, requeue on loss."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from edge_voice.mqtt.outbox import Outbox
from edge_voice.mqtt.payloads import Publication
from edge_voice.mqtt.sender import Sender


def event(n: int) -> Publication:
    return Publication("b/event/transcript", str(n).encode(), retain=False)


class Broker:
    """A publish function whose PUBACKs the test releases (the link itself is not under test)."""

    def __init__(self) -> None:
        self.started: list[bytes] = []
        self.acked = asyncio.Event()
        self.full = asyncio.Event()  # `window` publishes wait for their PUBACK
        self.window = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_on: bytes | None = None

    async def publish(self, publication: Publication) -> None:
        self.started.append(publication.payload)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight == self.window:
            self.full.set()
        try:
            if publication.payload == self.fail_on:
                raise aiomqtt.MqttError("connection lost")
            if publication.payload == b"bad":
                raise ValueError("unpublishable")
            await self.acked.wait()
        finally:
            self.in_flight -= 1


async def test_a_window_of_publishes_in_outbox_order_and_flush_waits_for_all() -> None:
    outbox = Outbox(max_pending=100)
    outbox.set_connected(True)
    for n in range(50):
        outbox.put(event(n))
    broker = Broker()
    broker.window = 8
    flushed = asyncio.create_task(Sender(outbox, window=8).flush(broker.publish))
    await asyncio.wait_for(broker.full.wait(), 5)
    assert broker.started == [str(n).encode() for n in range(8)]
    broker.acked.set()
    await asyncio.wait_for(flushed, 5)
    assert broker.started == [str(n).encode() for n in range(50)]
    assert broker.most_in_flight == 8 and len(outbox) == 0


async def test_a_lost_link_raises_and_requeues_what_was_not_acknowledged() -> None:
    outbox = Outbox(max_pending=100)
    outbox.set_connected(True)
    for n in range(5):
        outbox.put(event(n))
    broker = Broker()
    broker.fail_on = b"3"
    with pytest.raises(aiomqtt.MqttError):
        await asyncio.wait_for(Sender(outbox, window=4).run(broker.publish), 5)
    assert len(outbox) == 5, "none was acknowledged: all go again, in order"
    broker.fail_on, broker.started = None, []
    broker.acked.set()
    await asyncio.wait_for(Sender(outbox, window=4).flush(broker.publish), 5)
    assert broker.started == [str(n).encode() for n in range(5)]


async def test_an_unpublishable_message_is_dropped_not_retried() -> None:
    outbox = Outbox(max_pending=10)
    outbox.set_connected(True)
    outbox.put(Publication("b/event/error", b"bad", retain=False))
    outbox.put(event(1))
    broker = Broker()
    broker.acked.set()
    await asyncio.wait_for(Sender(outbox, window=2).flush(broker.publish), 5)
    assert broker.started == [b"bad", b"1"] and len(outbox) == 0
