"""The broker fixture is a real Mosquitto: a message goes out and comes back through it."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt
import pytest

from tests.support.broker import BrokerAddress, LocalMosquitto

pytestmark = pytest.mark.broker


async def _roundtrip(address: BrokerAddress, topic: str, payload: bytes) -> aiomqtt.Message:
    async with aiomqtt.Client(address.host, address.port, identifier=f"t-{uuid.uuid4().hex}") as c:
        await c.subscribe(topic, qos=1)
        await c.publish(topic, payload, qos=1)
        async with asyncio.timeout(10):
            async for message in c.messages:
                return message
    raise AssertionError("no message")


async def test_publish_and_receive_through_real_broker(mqtt_broker: BrokerAddress) -> None:
    topic = f"edge_voice_test/{uuid.uuid4().hex}/ping"
    message = await _roundtrip(mqtt_broker, topic, b'{"hello": "broker"}')
    assert str(message.topic) == topic
    assert message.payload == b'{"hello": "broker"}'
    assert message.qos == 1


async def test_retained_message_survives_for_a_new_subscriber(mqtt_broker: BrokerAddress) -> None:
    topic = f"edge_voice_test/{uuid.uuid4().hex}/state"
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as pub:
        await pub.publish(topic, b"online", qos=1, retain=True)
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as sub:
        await sub.subscribe(topic, qos=1)
        async with asyncio.timeout(10):
            message = await anext(aiter(sub.messages))
    assert message.retain is True
    assert message.payload == b"online"


async def test_restartable_broker_drops_and_accepts_clients(
    restartable_broker: LocalMosquitto,
) -> None:
    address = restartable_broker.address
    restartable_broker.stop()
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(address.host, address.port, timeout=5):
            pass
    restartable_broker.start()
    message = await _roundtrip(address, "edge_voice_test/after_restart", b"back")
    assert message.payload == b"back"


async def test_a_local_broker_serves_many_connections_and_keeps_its_log(
    restartable_broker: LocalMosquitto,
) -> None:
    # Each connection logs two lines: with the log pipe left unread, the broker stalled after
    # a few hundred connections (a whole test session's worth).
    address = restartable_broker.address
    for n in range(800):
        async with aiomqtt.Client(
            address.host, address.port, identifier=f"many-{n:04d}", timeout=5
        ):
            pass
    message = await _roundtrip(address, "edge_voice_test/after_many", b"still here")
    assert message.payload == b"still here"
    restartable_broker.stop()  # the log is complete once the broker is gone
    assert "many-0799" in restartable_broker.log_path.read_text(encoding="utf-8")
