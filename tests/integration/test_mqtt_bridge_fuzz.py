"""Fuzzed commands on every command topic of a real service on a real broker.

Hypothesis draws the payloads (random bytes, huge, deeply nested JSON, wrong types, unicode edge
cases, invalid UTF-8); the device gets them one by one, then all at once as a storm. Every
command is answered on `<base>/response` (none with `internal_error`), what was refused changes
neither the config nor the retained `config`, and the process's memory stays bounded.
The unit-level properties of the parsers are in tests/unit/test_mqtt_parsing_properties.py.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from edge_voice.mqtt.command_router import INTERNAL_ERROR
from edge_voice.mqtt.topics import REQUEST_KINDS, WAKEWORD_KINDS
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import Device, build_device, make_config, running
from tests.unit.test_mqtt_parsing_properties import json_values, payload_bytes

pytestmark = [pytest.mark.broker, pytest.mark.timeout(180)]

#: Fixed-topic commands, the wake word commands, and two typos: all answered on `response`.
ANSWERED = (
    sorted(k.value for k in REQUEST_KINDS)
    + [f"wakeword/hey_jarvis/{s}/set" for s in WAKEWORD_KINDS]
    + ["wakeword/nobody/threshold/set", "modle/set"]
)
#: Routed but not answered (declarations, claims); fuzzed for "no crash" only.
UNANSWERED = ["tools/fuzz_tool"]

#: Strings JSON can carry that UTF-8 cannot (lone surrogates), and other awkward code points.
EDGE_TEXT = st.sampled_from(
    ["\ud800", "\udfff", "a\udc80b", "\x00", "\ufeff", "\u202e", "\U0010ffff", "🎙️", "e\u0301"]
)
INVALID_UTF8 = st.sampled_from(
    [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b'{"a": "\x80"}']
)


def _nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


FIELDS = ["model", "voice", "target", "call_id", "output", "transaction", "voice", "openai"]
payloads = st.one_of(
    payload_bytes,
    INVALID_UTF8,
    st.tuples(st.binary(max_size=20), INVALID_UTF8, st.binary(max_size=20)).map(b"".join),
    st.builds(_nested, st.integers(10, 200_000), st.sampled_from(["list", "dict"])),
    st.integers(60_000, 300_000).map(lambda n: b'{"model": "' + b"x" * n + b'"}'),
    st.dictionaries(st.sampled_from(FIELDS), EDGE_TEXT | json_values, min_size=1, max_size=3).map(
        lambda d: json.dumps(d).encode()  # ensure_ascii: lone surrogates as \\ud800 escapes
    ),
    EDGE_TEXT.map(lambda t: json.dumps(t).encode()),
)
topics = st.sampled_from(ANSWERED + UNANSWERED)


def draw_examples(count: int, seed_value: int) -> list[tuple[str, bytes]]:
    """`count` (topic suffix, payload) pairs drawn by hypothesis (seeded: the same every run)."""
    drawn: list[tuple[str, bytes]] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(topics, payloads)
    def collect(topic: str, payload: bytes) -> None:
        drawn.append((topic, payload))

    collect()
    return drawn


def rss_mb() -> float:
    """This process's resident memory (the device runs in it), in MB."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _config_snapshot(device: Device) -> dict[str, Any]:
    return device.store.effective.model_dump(mode="json")


async def _retained(broker: BrokerAddress, topic: str) -> Any:
    """What a new subscriber gets on `topic` (the device's retained value), parsed."""
    async with observer(broker, topic) as fresh:
        return (await fresh.expect(topic, lambda m: m.retain)).json()


#: Commands that may not change the config when they succeed.
NOT_CONFIG = {"conversation/start", "conversation/stop", "function_call/result"}


async def test_each_fuzzed_command_is_answered_and_a_refused_one_changes_nothing(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    base = device.topics.base
    examples = draw_examples(300, 14)
    async with observer(mqtt_broker, f"{base}/#") as obs, running(device):
        await obs.status(device, "idle")
        before = _config_snapshot(device)
        retained_before = await _retained(mqtt_broker, device.topics.config)
        changed = False
        for suffix, payload in examples:
            topic = f"{base}/{suffix}"
            await obs.publish(topic, payload)
            if suffix in UNANSWERED:
                await obs.barrier(device)
                continue
            answer = await obs.answer(device, topic)
            assert answer.get("code") != INTERNAL_ERROR, (suffix, payload[:200], answer)
            if answer["status"] == "ok":  # a valid command (rare): the new normal
                before = _config_snapshot(device)
                changed = changed or suffix not in NOT_CONFIG
                continue
            assert _config_snapshot(device) == before, (suffix, payload[:200], answer)
        await obs.barrier(device)
        if not changed:
            assert await _retained(mqtt_broker, device.topics.config) == retained_before
        assert device.service.bridge.connected


async def test_a_fuzzed_storm_is_answered_in_full_with_memory_bounded(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    base = device.topics.base
    storm = [(s, p) for s, p in draw_examples(1500, 41) if s in ANSWERED and len(p) < 60_000]
    async with observer(mqtt_broker, device.topics.response) as obs, running(device):
        rss: list[float] = []
        for n in range(3):
            rss.append(rss_mb())
            started = time.monotonic()
            await asyncio.gather(*(obs.publish(f"{base}/{s}", p) for s, p in storm))
            answers = await obs.expect_count(device.topics.response, len(storm) * (n + 1), 30)
            elapsed = time.monotonic() - started
            assert len(answers) == len(storm) * (n + 1)  # none dropped, none doubled
            assert not [a for a in answers if a.json().get("code") == INTERNAL_ERROR]
            print(f"storm {n}: {len(storm)} commands answered in {elapsed:.2f}s")
        rss.append(rss_mb())
        assert device.bridge.dropped == 0
        # The first storm warms caches; the later ones must not keep growing the process.
        assert rss[-1] - rss[1] < 40, rss
        reply = await obs.request(device, "voice/set", {"voice": "alloy"})
        assert reply["status"] == "ok", reply
