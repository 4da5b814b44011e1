"""ModelMigration over real sockets: the real client against the simulator, refusing like OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.models.features import Degradation, VoicePreference
from edge_voice.models.migration import (
    AllModelsFailedError,
    ConnectAttempt,
    FallbackEvent,
    MigrationEvent,
    MigrationSettings,
    ModelMigration,
    ModelRecovered,
    realtime_opener,
)
from edge_voice.realtime.errors import AuthenticationError, ModelRefusedError
from edge_voice.realtime.session import RealtimeSession
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

KEY = "sk-test-migration-0001"
NEW, OLD = "gpt-realtime", "gpt-4o-realtime-preview"
MCP = {"type": "mcp", "server_label": "home", "server_url": "https://mcp.example/sse"}
LIGHT = {
    "type": "function",
    "name": "set_light",
    "description": "",
    "parameters": {"type": "object"},
}
BASE = SessionSettings(
    model=NEW, voice="cedar", instructions="Be brief.", tools=(LIGHT,), mcp_servers=(MCP,)
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0, api_keys={KEY})) as server:
        yield server


def migration(
    sim: RealtimeSimulator,
    events: list[MigrationEvent],
    key: str = KEY,
    clock: FakeClock | None = None,
    **settings: object,
) -> ModelMigration[RealtimeSession]:
    return ModelMigration(
        MigrationSettings(voice=VoicePreference("cedar", "alloy"), **settings),  # type: ignore[arg-type]
        realtime_opener(key, sim.url, connect_timeout_s=5),
        on_event=events.append,
        clock=clock or FakeClock(),
    )


def session_updates(sim: RealtimeSimulator, model: str) -> list[dict[str, object]]:
    return [
        e["session"]
        for c in sim.connections
        if c.model == model
        for e in c.received
        if e.get("type") == "session.update"
    ]


async def test_primary_by_default_with_new_voice_and_features(sim: RealtimeSimulator) -> None:
    events: list[MigrationEvent] = []
    result = await migration(sim, events).connect(BASE)
    try:
        assert result.model.name == NEW and result.fallback is None
        sent = session_updates(sim, NEW)[0]
        assert sent["audio"]["output"]["voice"] == "cedar"  # type: ignore[index]
        assert [t["type"] for t in sent["tools"]] == ["function", "mcp"]  # type: ignore[union-attr]
        assert [e for e in events if isinstance(e, FallbackEvent)] == []
        assert [(e.model, e.ok) for e in events if isinstance(e, ConnectAttempt)] == [(NEW, True)]
    finally:
        await result.session.close()


async def test_refused_primary_falls_back_with_mapped_voice_and_fewer_features(
    sim: RealtimeSimulator,
) -> None:
    sim.config.refuse_models.add(NEW)
    events: list[MigrationEvent] = []
    mig = migration(sim, events)
    result = await mig.connect(BASE)
    try:
        assert result.model.name == OLD
        assert result.fallback == FallbackEvent(NEW, OLD, "invalid_model")
        assert mig.fallback_active and mig.active_model == OLD
        assert [c.refused for c in sim.connections] == ["invalid_model", None]
        assert sim.connections[1].protocol == "beta"
        sent = session_updates(sim, OLD)[0]
        assert sent["voice"] == "alloy"  # cedar does not exist on the preview: configured fallback
        assert [t["name"] for t in sent["tools"]] == ["set_light"]  # type: ignore[union-attr]
        assert "audio" not in sent and sent["input_audio_format"] == "pcm16"
        dropped = {e.feature for e in events if isinstance(e, Degradation)}
        assert {"mcp", "async_functions", "image_input"} <= dropped
    finally:
        await result.session.close()


async def test_http_403_at_the_upgrade_falls_back(sim: RealtimeSimulator) -> None:
    sim.config.forbid_models.add(NEW)
    events: list[MigrationEvent] = []
    result = await migration(sim, events).connect(BASE)
    try:
        assert result.fallback == FallbackEvent(NEW, OLD, "http_403")
    finally:
        await result.session.close()


async def test_voice_error_from_the_server_falls_back(sim: RealtimeSimulator) -> None:
    # A proxy model we believe has cedar, but the server only serves the old voices.
    from edge_voice.config.loading import validate_config

    ours = validate_config({"models": {"proxy-rt": {"like": NEW}}}).catalog()
    theirs = validate_config(
        {"models": {"proxy-rt": {"like": NEW, "voices": list(default_catalog().get(OLD).voices)}}}
    ).catalog()
    sim.catalog = theirs
    events: list[MigrationEvent] = []
    mig = ModelMigration(
        MigrationSettings(model="proxy-rt", voice=VoicePreference("cedar", "alloy")),
        realtime_opener(KEY, sim.url, connect_timeout_s=5),
        catalog=ours,
        on_event=events.append,
    )
    result = await mig.connect(BASE)
    try:
        assert result.model.name == OLD
        assert result.fallback is not None and result.fallback.reason == "invalid_value"
    finally:
        await result.session.close()


async def test_primary_probed_again_after_cooldown(sim: RealtimeSimulator) -> None:
    clock = FakeClock()
    events: list[MigrationEvent] = []
    mig = migration(sim, events, clock=clock, fallback_cooldown_s=300)
    sim.config.refuse_models.add(NEW)
    first = await mig.connect(BASE)
    await first.session.close()
    sim.config.refuse_models.clear()  # the primary is back, but the breaker is still open
    clock.now += 100
    second = await mig.connect(BASE)
    await second.session.close()
    assert second.model.name == OLD and second.fallback is None
    assert [c.model for c in sim.connections] == [NEW, OLD, OLD]
    clock.now += 200  # cool-down over: the next connection probes the primary
    third = await mig.connect(BASE)
    try:
        assert third.model.name == NEW
        assert not mig.fallback_active
        assert ModelRecovered(NEW, OLD) in events
    finally:
        await third.session.close()


async def test_bad_key_is_reported_not_fixed_by_falling_back(sim: RealtimeSimulator) -> None:
    events: list[MigrationEvent] = []
    mig = migration(sim, events, key="sk-wrong-key-9999")
    assert mig.api_key_problem is None  # nothing tried yet
    with pytest.raises(AuthenticationError) as info:
        await mig.connect(BASE)
    assert info.value.close_code == 3000
    assert "sk-wrong-key-9999" not in str(info.value) + repr(info.value)
    assert str(info.value).endswith(
        "(the API key was refused: check OPENAI_API_KEY or openai.api_key_file "
        "(a simulator started with --api-key accepts only those keys))"
    )
    assert mig.api_key_problem is True
    assert [c.model for c in sim.connections] == [NEW]  # no second model was tried
    assert not [e for e in events if isinstance(e, FallbackEvent)]
    # The endpoint accepts the key now (as after fixing it on the account): the problem is gone.
    assert sim.config.api_keys is not None
    sim.config.api_keys.add("sk-wrong-key-9999")
    result = await mig.connect(BASE)
    await result.session.close()
    assert mig.api_key_problem is False


async def test_new_selection_never_uses_the_legacy_model(sim: RealtimeSimulator) -> None:
    sim.config.refuse_models.add(NEW)
    with pytest.raises(ModelRefusedError) as info:
        await migration(sim, [], model_selection="new").connect(BASE)
    assert info.value.code == "invalid_model"
    assert [c.model for c in sim.connections] == [NEW]


async def test_legacy_selection_goes_straight_to_the_legacy_model(sim: RealtimeSimulator) -> None:
    mig = migration(sim, [], model_selection="legacy")
    result = await mig.connect(BASE)
    try:
        assert result.model.name == OLD and not mig.fallback_active
        assert [c.model for c in sim.connections] == [OLD]
    finally:
        await result.session.close()


async def test_every_model_refused_reports_each_reason(sim: RealtimeSimulator) -> None:
    sim.config.refuse_models.add(NEW)
    sim.config.beta_disabled = True  # today's real service: no beta shape, no preview model
    with pytest.raises(AllModelsFailedError) as info:
        await migration(sim, []).connect(BASE)
    assert [(m, e.code) for m, e in info.value.failures] == [
        (NEW, "invalid_model"),
        (OLD, "beta_api_shape_disabled"),
    ]


async def test_a_model_that_refused_is_no_fallback_target_until_the_cooldown_ends(
    sim: RealtimeSimulator,
) -> None:
    clock = FakeClock()
    events: list[MigrationEvent] = []
    mig = migration(sim, events, clock=clock, fallback_cooldown_s=300)
    sim.config.refuse_models.add(NEW)
    sim.config.not_found_models.add(OLD)
    for _ in range(2):
        with pytest.raises(AllModelsFailedError) as info:
            await mig.connect(BASE)
        clock.now += 100
    # The second time the refusal is remembered, named, and not announced as a way out.
    assert {m: e.code for m, e in info.value.failures} == {
        NEW: "invalid_model",
        OLD: "model_not_found",
    }
    assert [c.model for c in sim.connections] == [NEW, OLD, OLD]
    assert [e for e in events if isinstance(e, FallbackEvent)] == [
        FallbackEvent(NEW, OLD, "invalid_model")
    ]
    clock.now += 100  # cool-down over: the primary is probed, and a candidate again
    sim.config.refuse_models.clear()
    result = await mig.connect(BASE)
    await result.session.close()
    assert result.model.name == NEW


async def test_disable_new_features_sends_none_of_them(sim: RealtimeSimulator) -> None:
    semantic = SessionSettings(
        model=NEW, voice="marin", turn_detection="semantic_vad", mcp_servers=(MCP,)
    )
    result = await migration(sim, [], disable_new_features=True).connect(semantic)
    try:
        sent = session_updates(sim, NEW)[0]
        assert sent["audio"]["input"]["turn_detection"]["type"] == "server_vad"  # type: ignore[index]
        assert [t["type"] for t in sent.get("tools", [])] == []  # type: ignore[attr-defined]
    finally:
        await result.session.close()


async def test_repeated_drops_of_the_primary_open_the_breaker(sim: RealtimeSimulator) -> None:
    events: list[MigrationEvent] = []
    mig = migration(sim, events)
    assert mig.report_drop(NEW) is None
    assert mig.report_drop(NEW) is None
    assert mig.report_drop(NEW) == FallbackEvent(NEW, OLD, "repeated_drops")
    result = await mig.connect(BASE)
    try:
        assert result.model.name == OLD
    finally:
        await result.session.close()


async def test_connect_timeout_on_the_primary_falls_back(sim: RealtimeSimulator) -> None:
    sim.config.stall_models.add(NEW)  # upgrade accepted, then silence
    events: list[MigrationEvent] = []
    mig = ModelMigration(
        MigrationSettings(voice=VoicePreference("cedar", "alloy")),
        realtime_opener(KEY, sim.url, connect_timeout_s=0.5),
        on_event=events.append,
    )
    result = await mig.connect(BASE)
    try:
        assert result.fallback == FallbackEvent(NEW, OLD, "connect_timeout")
        assert result.model.name == OLD
    finally:
        await result.session.close()


async def test_attempts_and_fallbacks_reach_the_metrics(sim: RealtimeSimulator) -> None:
    from edge_voice.metrics.migration_listener import metrics_listener
    from edge_voice.metrics.performance import PerformanceMetrics

    metrics = PerformanceMetrics()
    sim.config.refuse_models.add(NEW)
    mig = ModelMigration(
        MigrationSettings(), realtime_opener(KEY, sim.url), on_event=metrics_listener(metrics)
    )
    result = await mig.connect(BASE)
    await result.session.close()
    assert metrics.success_rate(NEW) == 0.0
    assert metrics.success_rate(OLD) == 1.0
    assert metrics.success_rate() == 0.5
    assert metrics.snapshot().fallbacks == 1
    assert metrics.latency("session_ready").last is not None
