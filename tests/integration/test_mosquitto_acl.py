"""mosquitto/acl in the shipped broker config: each login can publish only what its job needs.

Every topic of docs/MQTT_API.md's table (made concrete), plus the other topics the ACL names,
is published by each login; two subscribers that may read them record what arrives. A sentinel
the publisher may send comes last: once it is in, everything refused is known never to arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest

from tests.support.broker import BrokerAddress
from tests.support.deployed_broker import LOGINS, DeployedMosquitto

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]
BASE = "edge_voice/kitchen"
#: A topic each login may publish and both recorders read: the last of its messages.
SENTINEL = {
    "edge_voice": f"{BASE}/state",
    "homeassistant": f"{BASE}/conversation/stop",
    "nodered": f"{BASE}/function_call/result",
}
#: Topics beyond docs/MQTT_API.md's table, and the one login that may publish each.
OTHER_TOPICS = {
    f"{BASE}/_sync/0a1b2c": "edge_voice",
    "homeassistant/sensor/edge_voice_kitchen/cost_total/config": "edge_voice",
    "homeassistant/status": "homeassistant",
    "node-red/edge_voice/availability": "nodered",
    "zigbee2mqtt/kitchen/set": "nodered",
}


def documented_topics() -> dict[str, str]:
    """Every topic of the MQTT API table, made concrete, with its direction (in, out, in/out)."""
    rows = re.findall(
        r"^\| `([^`]+)` \| (in|out|in/out) \|", (ROOT / "docs/MQTT_API.md").read_text(), re.M
    )
    topics = {
        topic.replace("<base>", BASE)
        .replace("<mqtt.base_topic>", "edge_voice")
        .replace("<name>", "light")
        .replace("<group>", "downstairs"): direction
        for topic, direction in rows
    }
    assert len(topics) >= 25, topics  # the table was found
    return topics


def writers(topic: str, direction: str) -> set[str]:
    """Who may publish `topic` of the MQTT API: the device its outputs, the flows the tools and
    function results, Home Assistant and the flows every other command."""
    if direction != "in":
        return {"edge_voice"}  # its outputs and its arbitration claims
    if "/tools/" in topic or topic.endswith("/function_call/result"):
        return {"nodered"}
    return {"homeassistant", "nodered"}


def allowed(user: str) -> set[str]:
    """The topics of `every_topic` that `user` may publish."""
    documented = {t for t, d in documented_topics().items() if user in writers(t, d)}
    return documented | {t for t, who in OTHER_TOPICS.items() if who == user}


def every_topic() -> list[str]:
    """The documented topics and the others the ACL names."""
    return [*documented_topics(), *OTHER_TOPICS]


@pytest.fixture(scope="module")
def deployed() -> Iterator[BrokerAddress]:
    """The shipped broker config with a password file made by mosquitto/make-passwd."""
    broker = DeployedMosquitto()
    broker.start()
    try:
        yield broker.address
    finally:
        broker.close()


@contextlib.asynccontextmanager
async def recorder(
    broker: BrokerAddress, user: str, filters: tuple[str, ...]
) -> AsyncIterator[aiomqtt.Client]:
    """A client of `user`, subscribed to `filters` (the SUBACK is in before the block)."""
    async with LOGINS[user].client(broker) as client:
        for topic_filter in filters:
            await client.subscribe(topic_filter, qos=1)
        yield client


async def _until_sentinel(client: aiomqtt.Client, sentinel: str, seen: set[str]) -> None:
    async for message in client.messages:
        if str(message.topic) == sentinel and message.payload == b"end":
            return
        seen.add(str(message.topic))


async def delivered(broker: BrokerAddress, user: str, topics: list[str]) -> set[str]:
    """Which of `topics`, published by `user`, reach a subscriber allowed to read them."""
    sentinel = SENTINEL[user]
    seen: set[str] = set()
    async with (
        # edge_voice reads edge_voice/# and homeassistant/#, nodered reads the rest.
        recorder(broker, "edge_voice", ("edge_voice/#", "homeassistant/#")) as device,
        recorder(broker, "nodered", ("node-red/#", "zigbee2mqtt/#", sentinel)) as flows,
        LOGINS[user].client(broker) as publisher,
    ):
        for topic in topics:
            await publisher.publish(topic, b"x", qos=1)
        await publisher.publish(sentinel, b"end", qos=1)  # in order after the others
        async with asyncio.timeout(10):
            await asyncio.gather(
                _until_sentinel(device, sentinel, seen), _until_sentinel(flows, sentinel, seen)
            )
    return seen - {sentinel}


@pytest.mark.parametrize("user", sorted(LOGINS))
async def test_each_login_publishes_exactly_what_its_job_needs(
    deployed: BrokerAddress, user: str
) -> None:
    assert await delivered(deployed, user, every_topic()) == allowed(user) - {SENTINEL[user]}


def test_the_expected_rights_are_the_jobs() -> None:
    # Home Assistant sends commands but can neither declare a tool nor answer a function call;
    # only the device publishes its state, events, config and discovery.
    assert f"{BASE}/model_selection/set" in allowed("homeassistant")
    assert not {"edge_voice/tools/light", f"{BASE}/tools/light"} & allowed("homeassistant")
    assert f"{BASE}/function_call/result" not in allowed("homeassistant")
    assert {"edge_voice/tools/light", f"{BASE}/function_call/result"} <= allowed("nodered")
    device_only = {f"{BASE}/state", f"{BASE}/config", f"{BASE}/event/wake"}
    assert device_only <= allowed("edge_voice") - allowed("nodered") - allowed("homeassistant")


async def test_home_assistant_cannot_declare_tools_or_answer_calls(
    deployed: BrokerAddress,
) -> None:
    forged = ["edge_voice/tools/unlock_door", f"{BASE}/tools/unlock_door"]
    forged.append("edge_voice/hall/function_call/result")
    assert await delivered(deployed, "homeassistant", forged) == set()
    assert await delivered(deployed, "nodered", forged) == set(forged)  # the same, allowed


async def test_nobody_reads_the_broker_statistics(deployed: BrokerAddress) -> None:
    for user, login in LOGINS.items():
        async with login.client(deployed) as client:
            # $SYS/broker/version is retained: a reader gets it right after its SUBACK.
            await client.subscribe("$SYS/broker/version", qos=1)
            await client.subscribe(SENTINEL[user], qos=1)
            await client.publish(SENTINEL[user], b"end", qos=1)
            async with asyncio.timeout(10):
                async for message in client.messages:
                    assert str(message.topic) == SENTINEL[user], (user, message.topic)
                    break
