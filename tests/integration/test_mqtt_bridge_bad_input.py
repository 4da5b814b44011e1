"""Bad input changes nothing, is answered with an error and `event/error`; the device goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_voice.conversation.states import Status
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import build_device, make_config, running

pytestmark = pytest.mark.broker

#: (topic suffix, payload, expected code, a phrase of the message); `TX` marks a transaction.
CASES: list[tuple[str, bytes, str, str]] = [
    ("model/set", b'{"model": "gpt-realtime", "transaction": "TX"', "malformed_json", "malformed"),
    ("model/set", b'{"model": 5, "transaction": "TX"}', "wrong_type", "model"),
    ("model/set", b'{"model": "gpt-9", "transaction": "TX"}', "unknown_value", "unknown model"),
    ("model/set", b"\xff\xfe", "not_utf8", "UTF-8"),
    ("model/set", b"", "missing_field", "empty"),
    ("voice/set", b'{"voice": "robot", "transaction": "TX"}', "unknown_value", "unknown voice"),
    ("model_selection/set", b"sometimes", "unknown_value", "auto"),
    ("config/set", b'{"voice": {"speed": 9}, "transaction": "TX"}', "invalid_value", "speed"),
    ("config/set", b'{"voice": {"pitch": 2}, "transaction": "TX"}', "unknown_field", "pitch"),
    (
        "config/set",
        b'{"openai": {"base_url": "wss://evil"}, "transaction": "TX"}',
        "forbidden",
        "base_url",
    ),
    ("config/set", b'{"colour": "red", "transaction": "TX"}', "unknown_field", "colour"),
    (
        "config/set",
        b'{"budget": {"daily_usd": -1}, "transaction": "TX"}',
        "invalid_value",
        "daily_usd",
    ),
    ("config/rollback", b'{"target": "yesterday", "transaction": "TX"}', "unknown_value", "target"),
    (
        "function_call/result",
        b'{"call_id": "c9", "output": "x", "transaction": "TX"}',
        "unknown_call",
        "c9",
    ),
    ("function_call/result", b"[1, 2]", "not_an_object", "object"),
    ("conversation/start", b"later", "unknown_value", "start"),
    (
        "modle/set",
        b'{"model": "gpt-realtime", "transaction": "TX"}',
        "unknown_command",
        "not a command",
    ),
    (
        "config/rolback",
        b'{"target": "last_good", "transaction": "TX"}',
        "unknown_command",
        "config/rolback: not a command",
    ),
    ("say/it", b"hello", "unknown_command", "say/it: not a command"),
    ("model/set", b'{"model": "' + b"x" * 70_000 + b'"}', "payload_too_large", "limit"),
]


async def test_every_bad_input_is_answered_and_changes_nothing(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await obs.status(device, "idle")  # the assistant's state at start
        for n, (suffix, payload, code, phrase) in enumerate(CASES):
            tx = f"bad-{n}"
            topic = f"{topics.base}/{suffix}"
            await obs.publish(topic, payload.replace(b'"TX"', f'"{tx}"'.encode()))
            answer = await obs.answer(device, topic)
            event = (await obs.expect(topics.event("error"))).json()
            assert answer["status"] == "error", (suffix, answer)
            assert phrase.lower() in answer["error"].lower(), (suffix, answer["error"])
            assert "mqtt:" not in answer["error"], answer["error"]  # the prefix said once
            assert (event["code"], event["source_topic"]) == (code, topic), (suffix, event)
            if b"TX" in payload and code != "malformed_json":
                assert answer["transaction"] == event["transaction"] == tx, suffix
        # Nothing was re-published (a state or config would have come before the answers), and
        # no conversation started.
        assert len(obs.on(topics.state)) == 1 and not obs.on(topics.config_last_good)
        assert all(m.json()["version"] == 0 for m in obs.on(topics.config))
        assert device.assistant.status is Status.IDLE
        # Still alive and unchanged: a good command works and is version 1.
        answer = await obs.request(device, "model/set", {"model": "gpt-realtime-mini"})
        assert answer["status"] == "ok"
        await obs.expect(topics.state, lambda m: m.json()["model"] == "gpt-realtime-mini")
    assert device.store.version == 1 and len(device.changes) == 1


async def test_a_voice_the_model_lacks_is_refused_listing_the_allowed_voices(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    cfg = make_config(
        mqtt_broker,
        tmp_path,
        base=unique_base(),
        openai={"model_selection": "legacy"},
        voice={"primary": "ash"},
    )
    device = build_device(cfg)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        answer = await obs.request(device, "voice/set", {"voice": "cedar"})
        assert answer["status"] == "error"
        assert (
            "has no voice 'cedar'" in answer["error"] and "allowed: alloy, ash" in answer["error"]
        )
    assert device.store.effective.voice.primary == "ash"


async def test_retained_commands_are_ignored_and_answered_once(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base = unique_base()
    device = build_device(make_config(mqtt_broker, tmp_path, base=base))
    topic = f"{device.topics.base}/model/set"
    async with observer(mqtt_broker, f"{base}/#") as obs:
        await obs.publish(topic, '{"model": "gpt-realtime-mini", "transaction": 42}', retain=True)
        try:
            async with running(device):
                answer = (await obs.expect(device.topics.response)).json()
                assert (answer["status"], answer["transaction"]) == ("error", 42)
                assert "retained" in answer["error"]
                event = (await obs.expect(device.topics.event("error"))).json()
                assert event["code"] == "retained_command"
                # A live command after it still works; the retained one changed nothing.
                ok = await obs.request(device, "model_selection/set", {"model_selection": "new"})
                assert ok["status"] == "ok"
            assert device.store.effective.openai.model == "gpt-realtime"
            assert len(obs.on(device.topics.response)) == 2
        finally:
            await obs.publish(topic, b"", retain=True)


async def test_our_own_outgoing_topics_are_never_answered(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    own = [
        topics.state,
        topics.metrics,
        topics.availability,
        topics.config,
        topics.config_last_good,
        topics.response,
        topics.event("transcript"),
        f"{topics.base}/event/anything",
    ]
    typo = f"{topics.base}/config/rolback"
    async with observer(mqtt_broker, topics.response) as obs, running(device):
        for topic in own:
            await obs.publish(topic, '{"transaction": "mine"}')
        await obs.publish(typo, "last_good")
        # Handled in order: had any of ours been answered, its answer would come first (the
        # observer also sees its own publication on `response`: it has no `status`).
        first = (await obs.expect(topics.response, lambda m: "status" in m.json())).json()
        assert (first["topic"], first["status"]) == (typo, "error")
        assert typo in first["error"]
    answers = [m.json() for m in obs.on(topics.response)]
    assert [a["topic"] for a in answers if "status" in a] == [typo]
