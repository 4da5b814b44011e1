"""mosquitto/acl, loaded by a real broker, grants what docs/MQTT_API.md says each user does."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from tests.support.broker import BrokerAddress, LocalMosquitto

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]
USERS = ("edge_voice", "homeassistant", "nodered")
BASE = "edge_voice/kitchen"


def documented_commands() -> list[str]:
    """Every topic the MQTT API lists as `in` (commands, tool declarations), made concrete."""
    rows = re.findall(
        r"^\| `([^`]+)`(?:, `[^`]+`)? \| in \|", (ROOT / "docs/MQTT_API.md").read_text(), re.M
    )
    topics = [
        row.replace("<base>", BASE)
        .replace("<mqtt.base_topic>", "edge_voice")
        .replace("<name>", "light")
        for row in rows
    ]
    assert len(topics) >= 10, topics  # the table was found
    return topics


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[BrokerAddress]:
    """Mosquitto with the project's ACL file and a password for each of its users."""
    passwd = tmp_path / "passwd"
    for i, user in enumerate(USERS):
        create = ["-c"] if i == 0 else []
        subprocess.run(["mosquitto_passwd", "-b", *create, str(passwd), user, user], check=True)
    broker = LocalMosquitto()
    user = "user root\n" if os.geteuid() == 0 else ""  # root mosquitto drops to its own user
    broker._conf.write_text(
        f"{user}listener {broker.address.port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwd}\nacl_file {ROOT / 'mosquitto/acl'}\npersistence false\n"
        "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
        "log_type information\n"
    )
    broker.start()
    try:
        yield broker.address
    finally:
        broker.close()


async def delivered(broker: BrokerAddress, user: str, topics: list[str]) -> set[str]:
    """Which of `topics`, published by `user`, reach the device (the broker drops the rest)."""
    sentinel = f"{BASE}/function_call/result"
    async with (
        aiomqtt.Client(
            broker.host, broker.port, username="edge_voice", password="edge_voice"
        ) as device,
        aiomqtt.Client(broker.host, broker.port, username=user, password=user) as flow,
    ):
        await device.subscribe("edge_voice/#", qos=1)
        for topic in topics:
            await flow.publish(topic, b"x", qos=1)
        await flow.publish(sentinel, b"end", qos=1)  # in order after the others
        seen: set[str] = set()
        async with asyncio.timeout(10):
            async for message in device.messages:
                if str(message.topic) == sentinel and message.payload == b"end":
                    return seen
                seen.add(str(message.topic))
    raise AssertionError("unreachable")


@pytest.mark.parametrize("user", ["nodered", "homeassistant"])
async def test_flows_and_home_assistant_may_send_every_documented_command(
    acl_broker: BrokerAddress, user: str
) -> None:
    commands = documented_commands()
    assert f"{BASE}/model_selection/set" in commands
    assert await delivered(acl_broker, user, commands) == set(commands)


async def test_the_acl_is_enforced(acl_broker: BrokerAddress) -> None:
    # Node-RED reads the device's traffic but cannot forge it.
    forged = [f"{BASE}/state", f"{BASE}/event/wake"]
    assert await delivered(acl_broker, "nodered", forged) == set()
