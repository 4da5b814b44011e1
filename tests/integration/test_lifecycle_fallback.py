"""The default config against a service that refuses what is past its shutdown, on any date.

The simulator follows its calendar (`SimConfig(today=...)`): models past their catalog
shutdown get `model_not_found` + close 4000, the beta shape `beta_api_shape_disabled`. The
service is the real one (`build_service(today=...)`) on a real broker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from edge_voice.audio.sinks import parse_sink
from edge_voice.models.features import VoicePreference
from edge_voice.models.migration import (
    ConnectAttempt,
    FallbackEvent,
    MigrationEvent,
    MigrationSettings,
    ModelMigration,
    realtime_opener,
)
from edge_voice.realtime.errors import ModelRefusedError
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.service import build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import API_KEY, REQUEST, Device, make_config, running

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
BASE = SessionSettings(model="gpt-realtime", voice="cedar", instructions="Be brief.")


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0, today=request.param)) as server:
        yield server


def device_on(
    broker: BrokerAddress, sim: RealtimeSimulator, tmp: Path, today: dt.date, **openai: object
) -> Device:
    """The real service with the default models, living on `today` like the simulator."""
    cfg = make_config(broker, tmp / "state", base=unique_base(), sim=sim, openai=openai)
    service = build_service(cfg, api_key=SecretStr(API_KEY), sink=parse_sink("null"), today=today)
    return Device(service, sim=sim)


async def converse(obs: Observer, device: Device) -> dict[str, object]:
    """One conversation (started over MQTT) to its end; the response event, then stop."""
    assert (await obs.request(device, "conversation/start", {}))["status"] == "ok"
    await device.mic.play(REQUEST)
    response = await obs.expect(device.topics.event("response"), within=20)
    await obs.status(device, "idle", after=response, within=20)
    # Close the warm session: the next conversation connects (and plans) again.
    assert (await obs.request(device, "conversation/stop", {}))["status"] == "ok"
    payload: dict[str, object] = response.json()
    return payload


DATES = [
    # (today, model the conversation lands on, replaced (role, model, replacement), chain)
    (
        dt.date(2026, 5, 7),
        "gpt-realtime",
        [("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5")],
        ["gpt-realtime", "gpt-realtime-1.5"],
    ),
    (
        dt.date(2026, 5, 12),
        "gpt-realtime",
        [("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5")],
        ["gpt-realtime", "gpt-realtime-1.5"],
    ),
    (
        dt.date(2026, 12, 2),
        "gpt-realtime",
        [("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5")],
        ["gpt-realtime", "gpt-realtime-1.5"],
    ),
    (
        dt.date(2027, 1, 20),
        "gpt-realtime-2.1",
        [
            ("openai.model", "gpt-realtime", "gpt-realtime-2.1"),
            ("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5"),
        ],
        ["gpt-realtime-2.1", "gpt-realtime-1.5"],
    ),
    (
        dt.date(2027, 1, 21),
        "gpt-realtime-2.1",
        [
            ("openai.model", "gpt-realtime", "gpt-realtime-2.1"),
            ("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5"),
        ],
        ["gpt-realtime-2.1", "gpt-realtime-1.5"],
    ),
]


@pytest.mark.parametrize(
    ("sim", "today", "landed", "replaced", "chain"),
    [(d[0], *d) for d in DATES],
    indirect=["sim"],
    ids=[d[0].isoformat() for d in DATES],
)
async def test_the_default_config_completes_on_a_live_model_and_says_why_once(
    sim: RealtimeSimulator,
    mqtt_broker: BrokerAddress,
    tmp_path: Path,
    today: dt.date,
    landed: str,
    replaced: list[tuple[str, str, str]],
    chain: list[str],
) -> None:
    device = device_on(mqtt_broker, sim, tmp_path, today)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        first = await converse(obs, device)
        second = await converse(obs, device)
        await obs.barrier(device)
    assert first["model"] == landed and second["model"] == landed
    # No failed connect for a model the catalog knows is dead, on either conversation.
    assert [(c.model, c.refused) for c in sim.connections] == [(landed, None), (landed, None)]
    announced = [m.json() for m in obs.on(topics.event("model_replaced"))]
    assert [(a["role"], a["model"], a["replacement"]) for a in announced] == replaced
    assert all(a["fix"] == f"set {a['role']}: {a['replacement']}" for a in announced)
    fallbacks = [m.json() for m in obs.on(topics.event("fallback"))]
    if landed == "gpt-realtime":
        assert fallbacks == []
    else:
        assert [(f["from"], f["to"], f["reason"]) for f in fallbacks] == [
            ("gpt-realtime", landed, "shut_down")
        ]
    state = obs.on(topics.state)[-1].json()
    assert state["model_chain"] == chain
    assert state["fallback_active"] is (landed != "gpt-realtime")


KEY = "sk-test-lifecycle-0001"


def migration(
    sim: RealtimeSimulator, events: list[MigrationEvent], today: dt.date, **settings: object
) -> ModelMigration:  # type: ignore[type-arg]
    return ModelMigration(
        MigrationSettings(voice=VoicePreference("cedar", "alloy"), **settings),  # type: ignore[arg-type]
        realtime_opener(KEY, sim.url, connect_timeout_s=5),
        on_event=events.append,
        today=lambda: today,
    )


@pytest.mark.parametrize("sim", [dt.date(2026, 12, 2)], indirect=True)
async def test_a_refusal_the_catalog_did_not_expect_falls_back_and_the_breaker_holds(
    sim: RealtimeSimulator,
) -> None:
    sim.config.not_found_models.add("gpt-realtime")
    events: list[MigrationEvent] = []
    mig = migration(sim, events, dt.date(2026, 12, 2))
    for _ in range(2):
        result = await mig.connect(BASE)
        assert result.model.name == "gpt-realtime-1.5"
        await result.session.close()
    assert [e for e in events if isinstance(e, FallbackEvent)] == [
        FallbackEvent("gpt-realtime", "gpt-realtime-1.5", "model_not_found")
    ]
    # The second conversation went straight to the fallback: one failed connect in all.
    attempts = [(e.model, e.ok) for e in events if isinstance(e, ConnectAttempt)]
    assert attempts == [
        ("gpt-realtime", False),
        ("gpt-realtime-1.5", True),
        ("gpt-realtime-1.5", True),
    ]
    assert mig.fallback_active


@pytest.mark.parametrize("sim", [dt.date(2027, 1, 21)], indirect=True)
async def test_new_keeps_a_pinned_dead_primary_and_the_error_names_the_fix(
    sim: RealtimeSimulator,
) -> None:
    events: list[MigrationEvent] = []
    mig = migration(sim, events, dt.date(2027, 1, 21), model_selection="new")
    with pytest.raises(ModelRefusedError) as refused:
        await mig.connect(BASE)
    assert str(refused.value).endswith(
        "(gpt-realtime was shut down on 2027-01-20; "
        "set openai.model: gpt-realtime-2.1 (or model_selection: auto))"
    )
    assert [c.model for c in sim.connections] == ["gpt-realtime"]  # tried as pinned
    assert mig.settings.model_selection == "new" and not mig.fallback_active


@pytest.mark.parametrize("sim", [dt.date(2026, 12, 2)], indirect=True)
async def test_legacy_pinned_on_a_dead_model_errors_clearly_and_the_service_keeps_running(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = device_on(mqtt_broker, sim, tmp_path, dt.date(2026, 12, 2), model_selection="legacy")
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        for _ in range(2):  # refused again the second time: still running, still clear
            assert (await obs.request(device, "conversation/start", {}))["status"] == "ok"
            error = (await obs.expect(topics.event("error"), within=10)).json()
            assert error["code"] == "beta_api_shape_disabled"  # the preview speaks beta
            assert (
                "(gpt-4o-realtime-preview was shut down on 2026-05-07; "
                "set openai.legacy_model: gpt-realtime-1.5 (or model_selection: auto))"
            ) in error["message"]
            await obs.status(device, "idle")
        await obs.barrier(device)
        assert device.bridge.connected
    state = obs.on(topics.state)[-1].json()
    assert state["model_selection"] == "legacy"
    assert state["model_chain"] == ["gpt-4o-realtime-preview"]
    assert state["fallback_active"] is False
    assert obs.on(topics.event("model_replaced")) == []  # legacy replaces nothing
    assert obs.on(topics.event("response")) == []
    metrics = obs.on(topics.metrics)[-1].json()
    assert metrics["cost_total_usd"] == 0


@pytest.mark.parametrize("sim", [dt.date(2027, 1, 21)], indirect=True)
async def test_a_dead_cheaper_model_is_replaced_for_the_budget_and_its_warm_session_kept(
    sim: RealtimeSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_voice.conversation.states import Status
    from edge_voice.events import ResponseCompleted
    from edge_voice.models import lifecycle
    from edge_voice.models.lifecycle import Replacement
    from tests.support.assistant_rig import build_rig, demo_wav, frames_of
    from tests.support.assistant_rig import make_config as rig_config

    monkeypatch.setattr(lifecycle, "calendar_today", lambda: dt.date(2027, 1, 21))
    cfg = rig_config(sim.url, tmp_path, tools=[], budget={"daily_usd": 0.01})
    rig = build_rig(cfg, tmp_path / "reply.wav")
    rig.assistant.metrics.record_response("earlier", "gpt-realtime-2.1", {"input": 500})
    wav = demo_wav("hey_jarvis_kitchen_light.wav")

    async def user() -> AsyncIterator[bytes]:
        async for frame in frames_of(wav, silence_s=0):
            yield frame
        while not (rig.assistant.status is Status.IDLE and rig.assistant.completed_in_conversation):
            yield bytes(2560)
            await asyncio.sleep(0.02)  # a quiet room while the answer plays (pacing, not sync)
        async for frame in frames_of(wav):
            yield frame

    async with asyncio.timeout(40):
        await rig.assistant.run(user(), exit_on_eof=True)
    responses = [r.model for r in rig.of(ResponseCompleted)]
    assert responses == ["gpt-realtime-2.1-mini", "gpt-realtime-2.1-mini"]
    assert [c.model for c in sim.connections] == ["gpt-realtime-2.1-mini"]  # the warm one kept
    replaced = [e for e in rig.migration_events if isinstance(e, Replacement)]
    assert [(r.role, r.model, r.replacement) for r in replaced] == [
        ("budget.cheaper_model", "gpt-realtime-mini", "gpt-realtime-2.1-mini"),
        ("openai.legacy_model", "gpt-4o-realtime-preview", "gpt-realtime-1.5"),
    ]
