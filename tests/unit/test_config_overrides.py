"""Runtime overrides made visible (origin, file value, start-up block) and removable (reset)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_voice.config.overrides import startup_block, stored_overrides
from edge_voice.config.rules import ChangeCode
from edge_voice.config.store import ConfigStore
from edge_voice.events import EventBus
from tests.unit.config_store_support import (
    PREVIEW,
    assert_unchanged,
    file_config,
    no_secret_in,
    refused,
)

TOPIC = "edge_voice/kitchen/config/reset"
FIRST_TS = dt.datetime(2026, 11, 24, 18, 30, 1, tzinfo=dt.UTC)  # the test clock's first reading


def _keys(store: ConfigStore) -> dict[str, object]:
    return {o.key: o.value for o in store.overrides()}


def test_each_override_names_its_source_time_and_the_file_value(store: ConfigStore) -> None:
    store.set_voice("marin")
    store.apply_patch({"budget": {"daily_usd": 2.5}}, source="mqtt:config/set")
    voice, budget = store.overrides()
    assert (voice.key, voice.value, voice.source, voice.ts) == (
        "voice.primary",
        "marin",
        "mqtt:voice/set",
        FIRST_TS,
    )
    assert voice.file_value == "cedar"  # the default
    assert (budget.key, budget.value, budget.source) == ("budget.daily_usd", 2.5, "mqtt:config/set")
    assert not voice.file_changed and not budget.file_changed
    assert voice.describe() == (
        'voice.primary = "marin" (mqtt:voice/set, 2026-11-24T18:30:01.000Z); '
        f"the config file says {json.dumps(voice.file_value)}"
    )


def test_a_key_set_back_to_the_file_value_is_no_override(store: ConfigStore) -> None:
    file_voice = store.effective.voice.primary
    store.set_voice("marin")
    store.set_voice(file_voice)
    assert store.overrides() == []


def test_overrides_and_their_origin_survive_a_restart(
    make_store: Callable[..., ConfigStore],
) -> None:
    make_store().set_model(PREVIEW)
    [override] = make_store().overrides()
    assert (override.key, override.value, override.source) == (
        "openai.model",
        PREVIEW,
        "mqtt:model/set",
    )
    assert not override.file_changed  # the file did not change between the two starts


def test_an_edit_of_the_file_under_an_override_is_flagged_once(
    make_store: Callable[..., ConfigStore],
) -> None:
    make_store().set_voice("marin")
    edited = file_config(voice={"primary": "ash"})
    [override] = make_store(edited).overrides()
    assert override.file_changed
    assert (override.value, override.file_value, override.file_before) == ("marin", "ash", "cedar")
    assert 'edited since the last start, was "cedar"' in override.describe()
    [later] = make_store(edited).overrides()  # the next start has seen this file already
    assert not later.file_changed


def test_startup_block_is_info_or_warning_and_says_how_to_drop(
    make_store: Callable[..., ConfigStore], state_path: Path
) -> None:
    assert startup_block(make_store().overrides(), state_path, TOPIC) is None
    make_store().set_voice("marin")
    level, text = startup_block(make_store().overrides(), state_path, TOPIC) or (0, "")
    assert level == logging.INFO
    assert text.startswith(f"1 runtime override(s) kept in {state_path} beat the config file:")
    assert 'voice.primary = "marin" (mqtt:voice/set' in text
    assert TOPIC in text and "edge-voice config reset" in text
    edited = make_store(file_config(voice={"primary": "ash"}))
    level, text = startup_block(edited.overrides(), state_path, TOPIC) or (0, "")
    assert level == logging.WARNING
    assert "1 of them hide an edit of the config file" in text


def test_reset_all_drops_every_override_and_announces_the_file_config(
    make_store: Callable[..., ConfigStore],
) -> None:
    bus = EventBus()
    store = make_store(bus=bus)
    queue = bus.subscribe()
    store.set_voice("marin")
    store.set_model_selection("legacy")
    change = store.reset_overrides(source="cli:config reset")
    assert store.overrides() == [] and store.runtime_overrides == {}
    assert store.effective == file_config()
    assert set(change.diff) == {"voice.primary", "openai.model_selection"}
    assert change.version == 3 and change.source == "cli:config reset"
    announced = [queue.get_nowait() for _ in range(queue.qsize())]
    assert announced[-1].version == 3
    assert make_store().overrides() == []  # persisted


def test_reset_of_keys_drops_only_those_and_sections_drop_their_keys(store: ConfigStore) -> None:
    store.set_voice("marin")
    store.apply_patch({"budget": {"daily_usd": 2.5, "action": "refuse"}})
    store.set_model(PREVIEW)
    store.reset_overrides(["voice.primary"])
    assert set(_keys(store)) == {"budget.daily_usd", "budget.action", "openai.model"}
    store.reset_overrides(["budget"])
    assert _keys(store) == {"openai.model": PREVIEW}


def test_reset_without_overrides_changes_nothing(store: ConfigStore) -> None:
    before, version = store.effective, store.version
    assert not store.reset_overrides().changed
    assert not store.reset_overrides(["voice.primary", "models.mine"]).changed
    assert_unchanged(store, before, version)


@pytest.mark.parametrize("key", ["voice.primry", "nope", "openai..model", "openai.model.x", ""])
def test_reset_of_an_unknown_key_is_refused_and_changes_nothing(
    store: ConfigStore, key: str
) -> None:
    store.set_voice("marin")
    before, version = store.effective, store.version
    message = refused(ChangeCode.UNKNOWN_KEY, lambda: store.reset_overrides(["voice", key]))
    assert f"{key!r} is not a config key" in message
    assert_unchanged(store, before, version)


def test_reset_that_would_leave_a_dangling_override_is_refused(store: ConfigStore) -> None:
    store.apply_patch({"models": {"mine": {"like": "gpt-realtime"}}})
    store.set_model("mine")
    before, version = store.effective, store.version
    message = refused(ChangeCode.INVALID_CONFIG, lambda: store.reset_overrides(["models.mine"]))
    assert "do not fit the config file" in message and "drop those together" in message
    assert_unchanged(store, before, version)
    store.reset_overrides(["models", "openai.model"])
    assert store.overrides() == []


def test_stored_overrides_agree_with_the_store_and_never_write(
    make_store: Callable[..., ConfigStore], state_path: Path
) -> None:
    assert stored_overrides(file_config(), state_path).overrides == []
    make_store().set_voice("marin")
    text = state_path.read_text()
    edited = file_config(voice={"primary": "ash"})
    view = stored_overrides(edited, state_path)
    assert state_path.read_text() == text
    assert view.problems == []
    assert [o.describe() for o in view.overrides] == [
        o.describe() for o in make_store(edited).overrides()
    ]
    no_secret_in("\n".join(o.describe() for o in view.overrides))


def test_stored_overrides_report_an_unusable_state_file(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text("{not json")
    view = stored_overrides(file_config(), state_path)
    assert view.overrides == [] and "is unusable" in view.problems[0]
    assert state_path.read_text() == "{not json"  # `run` moves it aside; a check does not
