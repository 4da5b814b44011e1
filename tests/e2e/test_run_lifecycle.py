"""`edge-voice run` against `edge-voice sim` on today's model lineup, both pinned to one date.

The simulator refuses every model past its catalog shutdown (and the beta shape); with the
default config the conversation still completes on a live GA model, and MQTT says why.
"""

from __future__ import annotations

import wave
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
async def sim_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """`edge-voice sim --today <param>` on a free port; its URL."""
    async with sim_process("--today", request.param) as url:
        yield url


@pytest.mark.parametrize(
    ("sim_url", "today", "landed", "replaced", "fallbacks", "chain"),
    [
        (
            "2026-12-02",
            "2026-12-02",
            "gpt-realtime",
            [("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5")],
            [],
            ["gpt-realtime", "gpt-realtime-1.5"],
        ),
        (
            "2027-01-21",
            "2027-01-21",
            "gpt-realtime-2.1",
            [
                ("openai.model", "gpt-realtime", "gpt-realtime-2.1"),
                ("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5"),
            ],
            [("gpt-realtime", "gpt-realtime-2.1", "shut_down")],
            ["gpt-realtime-2.1", "gpt-realtime-1.5"],
        ),
    ],
    indirect=["sim_url"],
    ids=["2026-12-02", "2027-01-21"],
)
async def test_the_default_config_completes_on_the_live_lineup(
    sim_url: str,
    mqtt_broker: BrokerAddress,
    tmp_path: Path,
    today: str,
    landed: str,
    replaced: list[tuple[str, str, str]],
    fallbacks: list[tuple[str, str, str]],
    chain: list[str],
) -> None:
    base_topic = unique_base()
    base = f"{base_topic}/kitchen"
    config = write_device_config(tmp_path, mqtt_broker, sim_url, base_topic)
    reply = tmp_path / "reply.wav"
    async with observer(mqtt_broker, f"{base}/#") as obs:
        done = await run_to_exit(*demo_run(config, f"wav:{reply}", today=today))
        assert done.code == 0, done.err[-2000:]
        # Its goodbye is the last thing the device publishes.
        await obs.expect(f"{base}/availability", lambda m: m.payload == b"offline", within=10)

    def payloads(suffix: str) -> list[dict[str, object]]:
        return [m.json() for m in obs.on(f"{base}/{suffix}")]

    assert [r["model"] for r in payloads("event/response")] == [landed]
    announced = payloads("event/model_replaced")
    assert [(a["role"], a["model"], a["replacement"]) for a in announced] == replaced
    assert [(f["from"], f["to"], f["reason"]) for f in payloads("event/fallback")] == fallbacks
    assert payloads("state")[-1]["model_chain"] == chain
    assert payloads("event/error") == []
    with wave.open(str(reply)) as wav:
        assert wav.getnframes() > 0
    log = done.err
    for role, model, successor in replaced:
        assert f"{role} {model} was shut down" in log
        assert f"to make it permanent: set {role}: {successor}" in log
    assert_each_fact_once(log, expected_info=today == "2026-12-02")


def assert_each_fact_once(log: str, *, expected_info: bool) -> None:
    """The lifecycle block: every fact logged once, no WARNING said twice, expected ones INFO."""
    facts = [line for line in log.splitlines() if "shut down on" in line or "shuts down on" in line]
    assert facts, log
    messages = [line.split(": ", 1)[1] for line in facts]  # without level and logger
    assert len(messages) == len(set(messages)), "\n".join(facts)
    # Each model and interface appears in one line only (no second wording of one fact).
    subjects = [m.split(" was shut down")[0].split(" shuts down")[0] for m in messages]
    assert len(subjects) == len(set(subjects)), "\n".join(facts)
    warnings = [line for line in log.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == len(set(warnings)), "\n".join(warnings)
    legacy = [line for line in facts if "openai.legacy_model gpt-4o-realtime-preview" in line]
    assert len(legacy) == 1
    # While the primary lives, the default legacy model's replacement is what the defaults plan.
    assert legacy[0].startswith("INFO" if expected_info else "WARNING"), legacy[0]
    assert log.count("config migrate") == 1
