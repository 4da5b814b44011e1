"""An in-process MQTT broker (aMQTT, pure Python) for the offline demo when none answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt

log = logging.getLogger(__name__)


class EmbeddedBrokerUnavailable(RuntimeError):
    """aMQTT is not installed (it is the `demo` extra)."""


def broker_reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout_s):
        return True
    return False


async def anonymous_login_refused(host: str, port: int, timeout_s: float = 3.0) -> str | None:
    """Why the MQTT broker at host:port refuses a login without credentials, or None."""
    try:
        async with aiomqtt.Client(host, port, identifier="edge_voice_probe", timeout=timeout_s):
            pass
    except aiomqtt.MqttError as exc:  # e.g. the shipped mosquitto/ config: "Not authorized"
        return str(exc)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def embedded_broker(
    port: int | None = None, why: str = "no MQTT broker answers"
) -> AsyncIterator[tuple[str, int]]:
    """Run an aMQTT broker on loopback for the duration; yields (host, port).

    `why` says why none of the user's is used, in the error when aMQTT is missing.
    """
    try:
        from amqtt.broker import Broker
    except ImportError as exc:
        raise EmbeddedBrokerUnavailable(
            f"{why} and aMQTT is not installed: "
            "pip install 'edge-voice[demo]', or start Mosquitto (apt-get install mosquitto)"
        ) from exc
    port = port or _free_port()
    config: dict[str, Any] = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    # aMQTT logs every connection at INFO; the demo prints the traffic itself.
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    broker = Broker(config)
    await broker.start()
    log.info("embedded MQTT broker on 127.0.0.1:%d", port)
    try:
        yield "127.0.0.1", port
    finally:
        await _shutdown(broker)


async def _shutdown(broker: Any) -> None:
    """Stop the broker; a CancelledError of its own making does not leave it."""
    try:
        await asyncio.wait_for(broker.shutdown(), 10)
    except asyncio.CancelledError:
        # On Python 3.13 aMQTT 0.11's shutdown cancels the QoS 1 deliveries still awaiting a
        # PUBACK and lets that CancelledError out; only a cancellation of this task goes on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.debug("embedded broker: a delivery was cancelled at shutdown")
    except Exception:  # a broker that fails to stop must not hide the demo's result
        log.debug("embedded broker: shutdown failed", exc_info=True)
