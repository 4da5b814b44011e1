"""The shipped ducking blueprint is a well-formed HA automation blueprint (the real Home
Assistant loads and runs it in tests/e2e/test_home_assistant_ducking.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edge_voice.conversation.states import Status

BLUEPRINT = (
    Path(__file__).resolve().parents[2]
    / "homeassistant/blueprints/automation/edge_voice/ducking.yaml"
)


class _Input(str):
    """An `!input name` reference."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!input", lambda loader, node: _Input(loader.construct_scalar(node)))


def _inputs_used(node: Any) -> set[str]:
    if isinstance(node, _Input):
        return {str(node)}
    if isinstance(node, dict):
        return set().union(*(_inputs_used(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_inputs_used(v) for v in node))
    return set()


def _load() -> dict[str, Any]:
    data = yaml.load(BLUEPRINT.read_text(encoding="utf-8"), Loader=_Loader)
    assert isinstance(data, dict)
    return data


def test_every_input_is_declared_and_used() -> None:
    data = _load()
    meta = data["blueprint"]
    assert meta["domain"] == "automation" and meta["name"]
    declared = set(meta["input"])
    assert _inputs_used({k: v for k, v in data.items() if k != "blueprint"}) == declared
    assert declared == {"status_sensor", "media_players", "ducked_volume"}
    assert meta["input"]["media_players"]["selector"]["entity"]["multiple"] is True
    assert 0 <= meta["input"]["ducked_volume"]["default"] <= 1


def test_active_states_are_the_services_statuses_but_idle() -> None:
    active = _load()["variables"]["active"]
    assert set(active) == {s.value for s in Status} - {"idle"}


def test_it_lowers_on_activity_and_restores_after() -> None:
    data = _load()
    assert data["trigger"][0]["platform"] == "state"
    (choose,) = data["action"]
    lower, restore = choose["choose"]
    assert [s["service"] for s in lower["sequence"]] == ["scene.create", "media_player.volume_set"]
    assert [s["service"] for s in restore["sequence"]] == ["scene.turn_on"]
    assert data["mode"] == "queued"  # a quick wake-and-idle restores what it lowered
