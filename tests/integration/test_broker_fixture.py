"""The broker fixture is a real Mosquitto: a message goes out and comes back through it."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt
import paho.mqtt.client as mqtt
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


#: Each connection logs ~230 bytes; a 64 KiB stderr pipe nobody read stalled the broker at ~280.
LOGGED_CONNECTIONS = 1000


def _publish_once(address: BrokerAddress, n: int) -> bool:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fixture-probe-{n:05d}")
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        info = client.publish("edge_voice_test/probe", b"x", qos=1)
        info.wait_for_publish(timeout=5)
        return info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def test_the_broker_serves_however_much_it_has_logged(restartable_broker: LocalMosquitto) -> None:
    address = restartable_broker.address
    served = [n for n in range(LOGGED_CONNECTIONS) if _publish_once(address, n)]
    assert len(served) == LOGGED_CONNECTIONS
    assert restartable_broker.log_text().count("New client connected") >= LOGGED_CONNECTIONS
