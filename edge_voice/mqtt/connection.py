"""aiomqtt client options (auth, TLS, Last Will, identifier) and the reconnect backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import aiomqtt

from edge_voice.config.schema import MqttConfig, TlsConfig
from edge_voice.mqtt.payloads import QOS
from edge_voice.mqtt.topics import Topics

log = logging.getLogger(__name__)
#: paho's packet dumps ("Sending PUBLISH …"): a logger of their own, so DEBUG stays readable.
PACKET_LOGGER: Final = "edge_voice.mqtt.packets"

ONLINE: Final = b"online"
OFFLINE: Final = b"offline"
#: QoS 1 publishes awaiting their PUBACK at once (paho's window; the sender keeps to it).
MAX_IN_FLIGHT: Final = 20
#: Cap on the backoff exponent, so `factor ** attempt` never overflows after days offline.
_MAX_EXPONENT: Final = 32


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff with jitter between connection attempts, retried forever."""

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (`attempt` failures so far, from 0)."""
        ceiling = min(self.max_s, self.initial_s * self.factor ** min(attempt, _MAX_EXPONENT))
        # "Equal jitter": never zero (no hot loop against a dead broker), yet devices that
        # lost the same broker spread their reconnects over half the window.
        return ceiling / 2 + (rng or _RNG).uniform(0, ceiling / 2)


_RNG: Final = random.Random()  # noqa: S311 - not for secrets: only spreads reconnect times


def client_identifier(device_id: str) -> str:
    """A client id unique per process: two processes with one device_id must not kick each other."""
    return f"edge_voice-{device_id}-{secrets.token_hex(3)}"


def last_will(topics: Topics) -> aiomqtt.Will:
    """Retained `offline` on `<base>/availability`, sent by the broker if we vanish."""
    return aiomqtt.Will(topic=topics.availability, payload=OFFLINE, qos=QOS, retain=True)


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """The SSL context for `mqtt.tls` (reads the CA and client certificate files)."""
    context = ssl.create_default_context(
        cafile=str(tls.ca_file.expanduser()) if tls.ca_file else None
    )
    if tls.certfile is not None:
        keyfile = str(tls.keyfile.expanduser()) if tls.keyfile else None
        context.load_cert_chain(str(tls.certfile.expanduser()), keyfile)
    if tls.insecure:
        # Explicitly asked for (self-signed test brokers); the config docs warn about it.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe(cfg: MqttConfig) -> str:
    """Where we connect, for logs: host, port, user and TLS, never the password."""
    tls = "tls" if cfg.tls is not None and cfg.tls.enabled else "plain"
    user = f"{cfg.username}@" if cfg.username else ""
    return f"mqtt://{user}{cfg.host}:{cfg.port} ({tls})"


def make_client(cfg: MqttConfig, topics: Topics, identifier: str) -> aiomqtt.Client:
    """A fresh aiomqtt client for one connection attempt (OSError if the TLS files are bad)."""
    password = cfg.password.get_secret_value() if cfg.password is not None else None
    context = tls_context(cfg.tls) if cfg.tls is not None and cfg.tls.enabled else None
    client = aiomqtt.Client(
        cfg.host,
        cfg.port,
        username=cfg.username,
        password=password,
        identifier=identifier,
        will=last_will(topics),
        clean_session=True,
        keepalive=cfg.keepalive_s,
        tls_context=context,
        logger=logging.getLogger(PACKET_LOGGER),  # its warnings too: still shown at INFO
        # Commands and their answers are tiny packets; with Nagle, our PUBACK of a command
        # holds back the response behind the broker's delayed ACK (~40 ms per round trip).
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        max_inflight_messages=MAX_IN_FLIGHT,
    )
    # aiomqtt warns above 10 pending calls; a full window of publishes is normal here.
    client.pending_calls_threshold = MAX_IN_FLIGHT + 10
    return client


async def _attempt(
    cfg: MqttConfig,
    topics: Topics,
    identifier: str,
    serve: Callable[[aiomqtt.Client], Awaitable[None]],
    where: str,
) -> tuple[bool, str | None]:
    """One connection, served until it ends: whether it connected, and what went wrong."""
    connected = False
    try:
        async with make_client(cfg, topics, identifier) as client:
            connected = True
            await serve(client)
    except aiomqtt.MqttError as exc:
        return connected, f"{where}: {exc}"
    except OSError as exc:  # TLS files that cannot be read; fixing them needs no restart
        return connected, f"cannot set up the connection to {where}: {exc}"
    except Exception:  # a bug in a connect step: log it, back off, keep the device up
        log.exception("MQTT: connection to %s failed unexpectedly", where)
        return connected, f"{where}: unexpected failure"
    return connected, None


def resume_cancellation() -> None:
    """Re-raise a cancellation that Python 3.11's `asyncio.wait_for` (in aiomqtt) swallowed."""
    # wait_for returns the result instead of raising when the awaited ack and the cancel
    # arrive together (fixed in 3.12); a loop that goes on then never ends.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def stay_connected(
    cfg: MqttConfig,
    topics: Topics,
    identifier: str,
    policy: ReconnectPolicy,
    *,
    serve: Callable[[aiomqtt.Client], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Connect and `serve`; after any failure back off and try again, until `stop` is set."""
    where = describe(cfg)
    failures = 0
    while not stop.is_set():
        # One line per retry (the failure's, below): the attempts themselves only at DEBUG.
        level = logging.INFO if failures == 0 else logging.DEBUG
        log.log(level, "MQTT: connecting to %s as %s (attempt %d)", where, identifier, failures + 1)
        connected, problem = await _attempt(cfg, topics, identifier, serve, where)
        if connected:
            failures = 0  # the backoff starts again after a connection that worked
        if stop.is_set():
            return
        delay = policy.delay(failures)
        failures += 1
        log.warning(
            "MQTT: %s; reconnecting in %.1f s (attempt %d)",
            problem or f"{where}: connection ended",
            delay,
            failures + 1,
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await stop.wait()
