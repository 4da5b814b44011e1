"""Subscribe and know when the broker has delivered every retained message: a sentinel of ours.

The broker queues all retained messages of a SUBSCRIBE before it handles the client's next
packet, so when a message we publish right after subscribing comes back to us, everything
retained has arrived. This bounds the start-up scans by an event instead of a guessed delay.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence

import aiomqtt

from edge_voice.mqtt.payloads import QOS

log = logging.getLogger(__name__)


def payload_bytes(message: aiomqtt.Message) -> bytes:
    """The payload as bytes (paho always gives bytes; the type admits more)."""
    payload = message.payload
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


async def subscribe_and_replay(
    client: aiomqtt.Client,
    filters: Sequence[str],
    *,
    scan: Sequence[str] = (),
    sync_prefix: str,
    timeout_s: float,
    handle: Callable[[aiomqtt.Message], Awaitable[None]],
) -> dict[str, bytes]:
    """Subscribe, `handle` messages until the retained replay ends; `scan` matches → found."""
    # Retained messages matching a `scan` filter are collected (topic → payload) instead of
    # handled, and the `scan` subscriptions end with the replay. Without the sentinel after
    # `timeout_s`, the replay is taken as complete, with a warning.
    sentinel = f"{sync_prefix}{secrets.token_hex(8)}"
    await client.subscribe([(f, QOS) for f in (*filters, *scan, sentinel)])
    await client.publish(sentinel, b"sync", qos=QOS)
    found: dict[str, bytes] = {}
    try:
        async with asyncio.timeout(timeout_s):
            async for message in client.messages:
                if message.topic.value == sentinel:
                    break
                if any(message.topic.matches(f) for f in scan):
                    if message.retain:
                        found[message.topic.value] = payload_bytes(message)
                    continue
                await handle(message)
    except TimeoutError:
        log.warning("MQTT: the retained messages did not all arrive in %.1f s", timeout_s)
    # Back to exactly `filters`: the scans and the sentinel were for this replay only.
    await client.unsubscribe([*scan, sentinel])
    return found


async def resubscribe(client: aiomqtt.Client, old: Sequence[str], new: Sequence[str]) -> None:
    """Move a live connection from the `old` filters to the `new` ones (QoS 1)."""
    try:
        gone = [f for f in old if f not in new]
        if gone:
            await client.unsubscribe(gone)
        await client.subscribe([(f, QOS) for f in new if f not in old])
    except aiomqtt.MqttError as exc:  # the next connection subscribes afresh anyway
        log.warning("MQTT: could not update the subscriptions: %s", exc)
