"""The command router without a broker: what each message changes and publishes, in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigChange, ConfigStore
from edge_voice.events import ServiceState
from edge_voice.mqtt.command_router import CommandRouter, Dispatch
from edge_voice.mqtt.snapshots import RetainedConfig, state_after_change
from edge_voice.mqtt.topics import Topics
from tests.support.recording_conversation import RecordingConversation

BASE = "edge_voice/kitchen"


class Rig:
    """A router over a real store and a recording conversation."""

    def __init__(self, tmp_path: Path, **extra: Any) -> None:
        cfg = EdgeVoiceConfig.model_validate(
            {"device_id": "kitchen", "state_dir": str(tmp_path), **extra}
        )
        self.store = ConfigStore(cfg)
        self.control = RecordingConversation()
        self.changes: list[ConfigChange] = []
        self.state: ServiceState | None = None
        retained = RetainedConfig(self.store, Topics.for_config(cfg))
        retained.discovery()  # what the bridge published at connect
        self.router = CommandRouter(
            store=self.store,
            control=self.control,
            retained=retained,
            current_state=lambda: self.state,
            on_config_change=self.changes.append,
        )

    async def send(self, suffix: str, payload: str | bytes, *, retained: bool = False) -> Dispatch:
        data = payload.encode() if isinstance(payload, str) else payload
        return await self.router.handle(f"{BASE}/{suffix}", data, retained=retained)


#: The one entity whose discovery config names the configured model (its success rate).
SUCCESS_SENSOR = "homeassistant/sensor/edge_voice_kitchen/connection_success/config"


def topics_of(dispatch: Dispatch) -> list[str]:
    return [p.topic.removeprefix(f"{BASE}/") for p in dispatch.publications]


def payload(dispatch: Dispatch, suffix: str) -> Any:
    return next(
        json.loads(p.payload) for p in dispatch.publications if p.topic == f"{BASE}/{suffix}"
    )


async def test_a_config_command_publishes_config_state_then_the_response(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    dispatch = await rig.send("model/set", '{"model": "gpt-realtime-mini", "transaction": [1]}')
    assert topics_of(dispatch) == ["config", SUCCESS_SENSOR, "state", "response"]
    assert payload(dispatch, "response")["transaction"] == [1]
    assert payload(dispatch, "state")["model"] == "gpt-realtime-mini"
    assert [c.version for c in rig.changes] == [1]


async def test_switching_to_the_legacy_model_republishes_only_the_changed_discovery(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    dispatch = await rig.send("model_selection/set", "legacy")
    ha = [p.topic for p in dispatch.publications if p.topic.startswith("homeassistant/")]
    assert ha == ["homeassistant/select/edge_voice_kitchen/voice/config"]
    assert "cedar" not in json.loads(dispatch.publications[1].payload)["options"]


async def test_last_good_is_published_when_it_moved(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    assert rig.store.mark_good()  # a conversation completed (the service calls this)
    first = await rig.send("model/set", "gpt-realtime-mini")
    assert topics_of(first) == ["config", "config/last_good", SUCCESS_SENSOR, "state", "response"]
    back = await rig.send("config/rollback", "")
    assert topics_of(back) == ["config", SUCCESS_SENSOR, "state", "response"], "no last_good"
    assert rig.store.effective.openai.model == "gpt-realtime"
    assert rig.store.mark_good()
    again = await rig.send("voice/set", "marin")
    assert payload(again, "config/last_good")["version"] == 2


@pytest.mark.parametrize(
    ("suffix", "body", "code"),
    [
        ("voice/set", "robot", "unknown_value"),
        ("config/set", '{"mqtt": {"host": "evil"}}', "forbidden"),
        ("config/rollback", "legacy-ish", "unknown_value"),
        ("config/rollback", "last_good", "invalid_value"),  # nothing to roll back yet
        ("nonsense/set", "x", "unknown_command"),
    ],
)
async def test_refusals_publish_response_and_error_event_and_change_nothing(
    tmp_path: Path, suffix: str, body: str, code: str
) -> None:
    rig = Rig(tmp_path)
    dispatch = await rig.send(suffix, body)
    assert topics_of(dispatch) == ["response", "event/error"]
    assert payload(dispatch, "response")["status"] == "error"
    assert payload(dispatch, "event/error")["code"] == code
    assert rig.store.version == 0 and not rig.changes


async def test_a_retained_command_is_answered_once(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    first = await rig.send("model/set", "gpt-realtime-mini", retained=True)
    assert payload(first, "event/error")["code"] == "retained_command"
    assert (await rig.send("model/set", "gpt-realtime-mini", retained=True)).publications == []
    assert rig.store.version == 0


async def test_a_failing_listener_does_not_undo_the_answer(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    def broken(change: ConfigChange) -> None:
        raise RuntimeError("listener bug")

    rig.router._on_config_change = broken
    dispatch = await rig.send("voice/set", "marin")
    assert payload(dispatch, "response")["status"] == "ok"


async def test_ha_status_arbitration_and_foreign_topics(tmp_path: Path) -> None:
    rig = Rig(tmp_path, wakeword={"arbitration_group": "up"})
    assert (await rig.router.handle("homeassistant/status", b"online")).ha_online
    assert not (await rig.router.handle("homeassistant/status", b"offline")).ha_online
    claim = b'{"device_id": "hall", "score": 0.5, "ts": "2026-01-01T00:00:00Z"}'
    got = await rig.router.handle("edge_voice/arbitration/up", claim)
    assert got.claim is not None and got.claim.device_id == "hall"
    bad = await rig.router.handle("edge_voice/arbitration/up", b"{")
    assert bad.claim is None and bad.publications == []
    assert (await rig.router.handle("elsewhere/x", b"1")).publications == []


async def test_tools_resync_announces_once_and_drops_what_vanished(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    tool = '{"description": "d", "parameters": {"type": "object"}}'
    await rig.router.handle("edge_voice/tools/a", tool.encode())
    await rig.router.handle("edge_voice/tools/b", tool.encode())
    assert set(rig.control.tools) == {"a", "b"} and rig.control.tool_updates == 2
    rig.router.tools.begin_resync()  # a reconnect: only `a` is still retained
    await rig.router.handle("edge_voice/tools/a", tool.encode())
    rig.router.tools_resynced()
    assert set(rig.control.tools) == {"a"} and rig.control.tool_updates == 3


def test_state_after_change_keeps_the_conversation_and_shows_the_voice_in_use() -> None:
    cfg = EdgeVoiceConfig.model_validate(
        {"openai": {"model_selection": "legacy"}, "voice": {"primary": "cedar"}}
    )
    busy = ServiceState(
        status="responding",
        model="gpt-realtime",
        active_model="gpt-realtime",
        model_selection="auto",
        voice="cedar",
        connected=True,
        fallback_active=False,
    )
    state = state_after_change(busy, cfg)
    assert (state.status, state.active_model, state.model_selection) == (
        "responding",
        "gpt-realtime",
        "legacy",
    )
    assert state.voice == "alloy", "cedar is not on the legacy model: the fallback voice"
    assert state.pending == {"model_selection": "legacy", "voice": "alloy"}
    idle = state_after_change(None, cfg)
    assert (idle.status, idle.connected, idle.pending) == ("idle", False, {})
