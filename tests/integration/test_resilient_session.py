"""The resilient link over real sockets: drops, expiry and renewal keep the conversation."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.conversation.resilient_session import (
    LinkRestored,
    RealtimeUnstableError,
    ReplayLimits,
    ResilientSession,
    can_retry,
)
from edge_voice.models.fallback import Backoff
from edge_voice.models.features import VoicePreference
from edge_voice.models.migration import (
    AllModelsFailedError,
    FallbackEvent,
    MigrationEvent,
    MigrationSettings,
    ModelMigration,
    realtime_opener,
)
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import AuthenticationError, QuotaError
from edge_voice.realtime.session_builders import SessionSettings
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator

KEY = "sk-test-resilient-0001"
NEW, OLD = "gpt-realtime", "gpt-4o-realtime-preview"
SETTINGS = SessionSettings(model=NEW, voice="marin", instructions="Be brief.")


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0, api_keys={KEY})) as server:
        yield server


def link(
    sim: RealtimeSimulator, events: list[MigrationEvent] | None = None, **kw: Any
) -> ResilientSession:
    migration = ModelMigration(
        MigrationSettings(voice=VoicePreference("marin", "alloy")),
        realtime_opener(kw.pop("key", KEY), sim.url, connect_timeout_s=5),
        on_event=(events if events is not None else []).append,
    )
    return ResilientSession(migration, SETTINGS, backoff=Backoff(base_s=0.01, cap_s=0.05), **kw)


async def next_of(stream: AsyncIterator[ev.RealtimeEvent | LinkRestored], wanted: type[Any]) -> Any:
    async for event in stream:
        if isinstance(event, wanted):
            return event
    raise AssertionError(f"stream ended before {wanted.__name__}")


def replayed(sim: RealtimeSimulator, connection: int) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in sim.connections[connection].received
        if e["type"] == "conversation.item.create"
    ]


async def test_drop_mid_answer_reconnects_replays_and_resumes(sim: RealtimeSimulator) -> None:
    conv = link(sim)
    await conv.connect()
    stream = conv.events()
    await conv.send_text("What time is it?")
    await conv.create_response()
    first = await next_of(stream, ev.TranscriptDone)
    assert first.text == "It's a quarter past ten."
    await next_of(stream, ev.ResponseDone)

    sim.config.drop_after_audio_deltas = 1  # the next answer is cut off after its first chunk
    await conv.send_text("Thank you.")
    await conv.create_response()
    restored = await next_of(stream, LinkRestored)
    sim.config.drop_after_audio_deltas = None
    assert restored == LinkRestored(NEW, "closed_1011", 3, True)
    items = await sim.wait_for(lambda: replayed(sim, 1)[:3] if len(replayed(sim, 1)) >= 3 else None)
    assert [(i["role"], i["content"][0]["type"], i["content"][0]["text"]) for i in items] == [
        ("user", "input_text", "What time is it?"),
        ("assistant", "output_text", "It's a quarter past ten."),
        ("user", "input_text", "Thank you."),
    ]
    await sim.wait_for_received("response.create", count=3)  # two asked, one resumed
    done = await next_of(stream, ev.TranscriptDone)
    assert done.text == "You're welcome."  # the user did not have to start over
    await conv.close()


async def test_abrupt_drop_without_close_frame_also_recovers(sim: RealtimeSimulator) -> None:
    sim.config.drop_after_audio_deltas = 1
    sim.config.drop_mode = "abort"
    conv = link(sim)
    await conv.connect()
    stream = conv.events()
    await conv.send_text("What time is it?")
    await conv.create_response()
    restored = await next_of(stream, LinkRestored)
    assert restored.reason == "closed_1006" and restored.response_resumed
    await conv.close()


async def test_session_expiry_is_handled_not_fatal(sim: RealtimeSimulator) -> None:
    sim.config.session_max_s = 0.3
    conv = link(sim)
    await conv.connect()
    stream = conv.events()
    await conv.send_text("What time is it?")
    await conv.create_response()
    await next_of(stream, ev.ResponseDone)
    sim.config.session_max_s = 3600
    restored = await next_of(stream, LinkRestored)
    assert restored.reason == "session_expired"
    assert restored.response_resumed is False
    items = await sim.wait_for(lambda: replayed(sim, 1) if len(replayed(sim, 1)) >= 2 else None)
    assert [i["role"] for i in items] == ["user", "assistant"]
    await conv.close()


async def test_a_warm_session_expiring_at_its_full_age_is_renewed_every_time_uncounted(
    sim: RealtimeSimulator,
) -> None:
    # An idle warm session (idle_timeout_s past the hour) meets the server's limit every hour:
    # routine, so it never uses up the reconnects of a conversation (0 allowed here).
    conv = link(sim, renew_after_s=0.0, limits=ReplayLimits(max_reconnects=0))
    await conv.connect()
    stream = conv.events()
    for n in range(1, 4):
        await sim.wait_for(lambda n=n: sim.connection_count == n or None)
        assert sim.expire_sessions() == 1
        restored = await next_of(stream, LinkRestored)
        assert restored.reason == "session_expired" and not restored.response_resumed
    assert sim.connection_count == 4
    await conv.close()


async def test_warm_session_is_renewed_before_the_limit(sim: RealtimeSimulator) -> None:
    conv = link(sim, renew_after_s=0.0)
    await conv.connect()
    await conv.send_text("What time is it?")
    await conv.create_response()
    await next_of(conv.events(), ev.ResponseDone)
    assert conv.due_for_renewal
    restored = await conv.renew()
    assert restored.reason == "renewal" and restored.replayed_items == 2
    assert sim.connection_count == 2
    await sim.wait_for(lambda: sim.connections[0].closed)
    await conv.close()


async def test_repeated_drops_fall_back_to_the_legacy_model(sim: RealtimeSimulator) -> None:
    events: list[MigrationEvent] = []
    conv = link(sim, events)
    await conv.connect()
    stream = conv.events()
    sim.config.drop_after_audio_deltas = 1
    for _ in range(3):
        await conv.send_text("What time is it?")
        await conv.create_response()
        restored = await next_of(stream, LinkRestored)
    assert restored.model == OLD  # the third drop opened the breaker
    assert FallbackEvent(NEW, OLD, "repeated_drops") in events
    assert sim.connections[-1].protocol == "beta"
    last = len(sim.connections) - 1
    items = await sim.wait_for(lambda: replayed(sim, last) or None)
    assert items[0]["content"][0]["type"] == "input_text"
    await conv.close()


async def test_bad_key_stops_at_once_without_a_retry_storm(sim: RealtimeSimulator) -> None:
    conv = link(sim, key="sk-wrong-key-0000", max_connect_attempts=5)
    with pytest.raises(AuthenticationError):
        await conv.connect()
    assert sim.connection_count == 1


async def test_a_timed_out_model_is_not_waited_for_again(sim: RealtimeSimulator) -> None:
    sim.config.stall_models.update({NEW, OLD})
    migration = ModelMigration(
        MigrationSettings(), realtime_opener(KEY, sim.url, connect_timeout_s=0.2)
    )
    conv = ResilientSession(
        migration, SETTINGS, max_connect_attempts=5, backoff=Backoff(base_s=0.01, cap_s=0.02)
    )
    with pytest.raises(AllModelsFailedError) as info:
        await conv.connect()
    assert "connect_timeout" in str(info.value)
    assert [c.model for c in sim.connections] == [NEW, OLD]  # one timeout each, not five


async def test_a_fast_transient_failure_is_retried_with_backoff() -> None:
    with socket.socket() as probe:  # a port nobody listens on yet: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with contextlib.AsyncExitStack() as stack:
        delays: list[float] = []

        async def sleep(delay: float) -> None:  # the backoff: the server comes up meanwhile
            delays.append(delay)
            if len(delays) == 2:
                await stack.enter_async_context(RealtimeSimulator(SimConfig(port=port)))

        migration = ModelMigration(
            MigrationSettings(),
            realtime_opener(KEY, f"ws://127.0.0.1:{port}/v1/realtime", connect_timeout_s=5),
        )
        conv = ResilientSession(migration, SETTINGS, backoff=Backoff(base_s=0.01), sleep=sleep)
        result = await conv.connect()
        assert result.model.name == NEW and len(delays) == 2
        await conv.close()


async def test_replay_limits_count_per_conversation(sim: RealtimeSimulator) -> None:
    conv = link(sim, limits=ReplayLimits(max_reconnects=1))
    await conv.connect()
    stream = conv.events()
    sim.config.drop_after_audio_deltas = 1
    for _ in range(2):  # one drop in each of two conversations on the same warm link
        await conv.begin_conversation()
        await conv.send_text("What time is it?")
        await conv.create_response()
        await next_of(stream, LinkRestored)
    await conv.send_text("What time is it?")  # a second drop in the second conversation
    await conv.create_response()
    with pytest.raises(RealtimeUnstableError) as info:
        await next_of(stream, LinkRestored)
    assert info.value.code == "realtime_unstable"
    assert "max_reconnects is 1" in str(info.value)
    assert sim.connection_count == 3
    await conv.close()


def test_quota_is_never_retried() -> None:
    assert not can_retry(QuotaError("You exceeded your current quota", code="insufficient_quota"))
