"""The shipped broker deployment (mosquitto/): logins only, persistence, the TLS example, and
the password script."""

from __future__ import annotations

import asyncio
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from edge_voice.config.schema import TlsConfig
from edge_voice.mqtt.connection import tls_context
from tests.support.broker import BrokerAddress, free_port
from tests.support.deployed_broker import LOGINS, MOSQUITTO_DIR, DeployedMosquitto, make_passwd
from tests.support.pki import have_openssl, make_pki

pytestmark = pytest.mark.timeout(30)

TLS_EXAMPLE = MOSQUITTO_DIR / "tls.conf.example"


@pytest.fixture
def deployed() -> Iterator[DeployedMosquitto]:
    broker = DeployedMosquitto()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


async def refused(broker: BrokerAddress, **login: str) -> aiomqtt.MqttCodeError:
    """The error of a connection attempt the broker refuses."""
    with pytest.raises(aiomqtt.MqttCodeError) as info:
        async with aiomqtt.Client(broker.host, broker.port, timeout=5, **login):  # type: ignore[arg-type]
            pass
    return info.value


async def round_trip(client: aiomqtt.Client, topic: str) -> bytes:
    """Publish a retained message as the client and read it back."""
    await client.publish(topic, b"online", qos=1, retain=True)
    await client.subscribe(topic, qos=1)
    async with asyncio.timeout(10):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            return message.payload
    raise AssertionError("unreachable")


async def test_anonymous_and_wrong_passwords_are_refused(deployed: DeployedMosquitto) -> None:
    assert "not authori" in str(await refused(deployed.address)).lower()
    await refused(deployed.address, username="edge_voice", password="guess")
    await refused(deployed.address, username="mallory", password="x")
    async with LOGINS["edge_voice"].client(deployed.address) as client:
        assert await round_trip(client, "edge_voice/kitchen/availability") == b"online"


async def test_retained_state_survives_a_broker_restart(deployed: DeployedMosquitto) -> None:
    topic = "edge_voice/kitchen/state"
    async with LOGINS["edge_voice"].client(deployed.address) as client:
        await client.publish(topic, b'{"status":"idle"}', qos=1, retain=True)
    deployed.stop()
    deployed.start()  # persistence: the database in mosquitto/data/ is read again
    assert (deployed.root / "mosquitto" / "data" / "mosquitto.db").exists()
    async with LOGINS["homeassistant"].client(deployed.address) as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                assert message.payload == b'{"status":"idle"}' and message.retain
                break


def test_make_passwd_writes_the_three_logins_and_never_prints_a_password(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    made = make_passwd(passwd)
    assert made.returncode == 0, made.stderr
    assert [line.split(":")[0] for line in passwd.read_text().splitlines()] == [
        "edge_voice",
        "homeassistant",
        "nodered",
    ]
    assert stat.S_IMODE(passwd.stat().st_mode) == 0o600
    text = made.stdout + made.stderr + passwd.read_text()
    assert not any(login.password in text for login in LOGINS.values())


def test_make_passwd_without_a_password_and_terminal_says_which_is_missing(
    tmp_path: Path,
) -> None:
    partial = {user: LOGINS[user] for user in ("edge_voice", "homeassistant")}
    made = make_passwd(tmp_path / "passwd", partial)
    assert made.returncode != 0
    assert "MQTT_PASSWORD_NODERED" in made.stderr
    assert not (tmp_path / "passwd").exists()  # no half-made file
    assert list(tmp_path.iterdir()) == []


def tls_listener(port: int, pki_dir: Path) -> str:
    """The shipped TLS example on `port`, with the test's certificates."""
    pki = make_pki(pki_dir)
    text = TLS_EXAMPLE.read_text(encoding="utf-8")
    replaced = {
        "listener 8883\n": f"listener {port} 127.0.0.1\n",
        "/etc/mosquitto/certs/ca.crt": str(pki.ca),
        "/etc/mosquitto/certs/server.crt": str(pki.cert),
        "/etc/mosquitto/certs/server.key": str(pki.key),
    }
    for old, new in replaced.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return "\n" + text


@pytest.mark.skipif(not have_openssl(), reason="openssl is not installed")
async def test_the_tls_example_serves_the_same_logins_over_tls(tmp_path: Path) -> None:
    port = free_port()
    broker = DeployedMosquitto(extra=tls_listener(port, tmp_path / "pki"))
    broker.start()
    tls = BrokerAddress("127.0.0.1", port)
    try:
        # The context edge_voice builds from `mqtt.tls: {ca_file: ...}`.
        context = tls_context(TlsConfig(ca_file=tmp_path / "pki" / "ca.pem"))
        async with LOGINS["edge_voice"].client(tls, tls_context=context) as client:
            assert await round_trip(client, "edge_voice/kitchen/availability") == b"online"
            # The same ACL: the device cannot declare a tool; the sentinel shows it.
            await client.subscribe("edge_voice/tools/+", qos=1)
            await client.subscribe("edge_voice/kitchen/state", qos=1)
            await client.publish("edge_voice/tools/forged", b"{}", qos=1)
            await client.publish("edge_voice/kitchen/state", b"end", qos=1)
            async with asyncio.timeout(10):
                async for message in client.messages:
                    assert str(message.topic) == "edge_voice/kitchen/state", message.topic
                    break
        with pytest.raises(aiomqtt.MqttCodeError):
            async with aiomqtt.Client(tls.host, tls.port, tls_context=context, timeout=5):
                pass  # anonymous over TLS: refused too
        with pytest.raises(aiomqtt.MqttError):  # a client that does not trust the CA
            async with LOGINS["edge_voice"].client(
                tls, tls_context=ssl.create_default_context(), timeout=5
            ):
                pass
    finally:
        broker.close()
