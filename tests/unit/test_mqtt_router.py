"""The command router without a broker: what each message changes, announces and answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.config.events import ConfigChanged
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore
from edge_voice.events import EventBus
from edge_voice.mqtt.command_router import CommandRouter, Dispatch
from edge_voice.mqtt.payloads import Publication
from edge_voice.mqtt.snapshots import RetainedConfig
from edge_voice.mqtt.topics import Topics
from tests.support.recording_conversation import RecordingConversation

BASE = "edge_voice/kitchen"
#: The one entity whose discovery config names the configured model (its success rate).
SUCCESS_SENSOR = "homeassistant/sensor/edge_voice_kitchen/connection_success/config"


class Rig:
    """A router over a real store (announcing on a bus) and a recording conversation."""

    def __init__(self, tmp_path: Path, **extra: Any) -> None:
        cfg = EdgeVoiceConfig.model_validate(
            {"device_id": "kitchen", "state_dir": str(tmp_path), **extra}
        )
        self.bus = EventBus()
        self.store = ConfigStore(cfg, bus=self.bus)
        self.control = RecordingConversation()
        self.changes: list[ConfigChanged] = []
        self.bus.on(ConfigChanged, self.changes.append)
        self.retained = RetainedConfig(self.store, Topics.for_config(cfg))
        self.retained.discovery()  # what the bridge published at connect
        self.router = CommandRouter(store=self.store, control=self.control, retained=self.retained)

    async def send(self, suffix: str, payload: str | bytes, *, retained: bool = False) -> Dispatch:
        data = payload.encode() if isinstance(payload, str) else payload
        return await self.router.handle(f"{BASE}/{suffix}", data, retained=retained)


def topics_of(publications: Dispatch | list[Publication]) -> list[str]:
    pubs = publications.publications if isinstance(publications, Dispatch) else publications
    return [p.topic.removeprefix(f"{BASE}/") for p in pubs]


def payload(publications: Dispatch | list[Publication], suffix: str) -> Any:
    pubs = publications.publications if isinstance(publications, Dispatch) else publications
    return next(json.loads(p.payload) for p in pubs if p.topic == f"{BASE}/{suffix}")


async def test_a_config_command_is_announced_by_the_store_and_answered(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    dispatch = await rig.send("model/set", '{"model": "gpt-realtime-mini", "transaction": [1]}')
    # The bridge publishes config and the assistant state from the announcement, not the router.
    assert topics_of(dispatch) == ["response"]
    assert payload(dispatch, "response")["transaction"] == [1]
    assert [(c.version, c.source) for c in rig.changes] == [(1, "mqtt:model/set")]
    assert rig.changes[0].diff == {"openai.model": ("gpt-realtime", "gpt-realtime-mini")}
    assert rig.changes[0].config.openai.model == "gpt-realtime-mini"
    assert payload(rig.retained.after_change(), "config")["openai"]["model"] == "gpt-realtime-mini"


async def test_a_request_already_in_effect_announces_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    dispatch = await rig.send("model/set", "gpt-realtime")
    assert payload(dispatch, "response")["status"] == "ok"
    assert rig.store.version == 0 and not rig.changes


async def test_switching_to_the_legacy_model_republishes_only_the_changed_discovery(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    await rig.send("model_selection/set", "legacy")
    pubs = rig.retained.after_change()
    ha = [p for p in pubs if p.topic.startswith("homeassistant/")]
    assert [p.topic for p in ha] == ["homeassistant/select/edge_voice_kitchen/voice/config"]
    assert "cedar" not in json.loads(ha[0].payload)["options"]


async def test_last_good_is_published_when_it_moved(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    assert rig.store.mark_good()  # a conversation completed (the assistant calls this)
    await rig.send("model/set", "gpt-realtime-mini")
    # The success-rate sensor names the configured model, so its discovery moves with it.
    moved = ["config", "config/last_good", SUCCESS_SENSOR]
    assert topics_of(rig.retained.after_change()) == moved
    await rig.send("config/rollback", "")
    assert topics_of(rig.retained.after_change()) == ["config", SUCCESS_SENSOR], "no last_good"
    assert rig.store.effective.openai.model == "gpt-realtime"
    assert rig.store.mark_good()
    await rig.send("voice/set", "marin")
    assert payload(rig.retained.after_change(), "config/last_good")["version"] == 2


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

    def broken(change: ConfigChanged) -> None:
        raise RuntimeError("listener bug")

    rig.bus.on(ConfigChanged, broken)
    dispatch = await rig.send("voice/set", "marin")
    assert payload(dispatch, "response")["status"] == "ok"
    assert rig.store.effective.voice.primary == "marin" and len(rig.changes) == 1


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
