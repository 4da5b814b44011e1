"""`edge-voice run` against `edge-voice sim` without a key, then with one: hint, exit, HA sensor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.broker import BrokerAddress
from tests.support.cli_process import (
    demo_run,
    run_to_exit,
    sim_process,
    write_device_config,
)
from tests.support.mqtt_observer import observer, unique_base

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    """`edge-voice sim` (any non-empty key) on a free port; its URL."""
    async with sim_process() as url:
        yield url


async def test_no_key_hints_exits_non_zero_and_raises_the_problem_sensor(
    sim_url: str, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base_topic = unique_base()
    base = f"{base_topic}/kitchen"
    config = write_device_config(tmp_path, mqtt_broker, sim_url, base_topic)
    discovery = "homeassistant/binary_sensor/edge_voice_kitchen/api_key_problem/config"
    run = demo_run(config, today=None)  # the simulator's calendar: today's
    async with observer(mqtt_broker, f"{base}/#", discovery) as obs:
        done = await run_to_exit(*run, key=None)
        await obs.expect(f"{base}/availability", lambda m: m.payload == b"offline", within=10)
    assert done.code == 1, done.err[-2000:]
    log = done.err
    assert "error: all 1 connection attempts failed" in log
    assert "WARNING edge_voice.conversation.assistant: invalid_api_key: " in log
    (error,) = [m.json() for m in obs.on(f"{base}/event/error")]
    assert error["code"] == "invalid_api_key"
    assert error["message"].endswith(
        "(no API key was sent: set OPENAI_API_KEY or openai.api_key_file "
        "(the simulator accepts any non-empty key unless started with --api-key))"
    )
    problems = [m.json()["api_key_problem"] for m in obs.on(f"{base}/state")]
    assert problems[-1] is True  # (null before the attempt may be published or not, by timing)
    assert obs.on(discovery)[-1].json()["device_class"] == "problem"

    # With any non-empty key the simulator answers: the sensor goes off, the exit is 0.
    async with observer(mqtt_broker, f"{base}/#") as obs:
        done = await run_to_exit(*run, key="sk-any-non-empty")
        await obs.expect(f"{base}/availability", lambda m: m.payload == b"offline", within=10)
    assert done.code == 0, done.err[-2000:]
    assert [m.json() for m in obs.on(f"{base}/event/error")] == []
    assert [m.json()["api_key_problem"] for m in obs.on(f"{base}/state")][-1] is False
