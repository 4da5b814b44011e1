"""ConfigStore across restarts: persistence, secrets, versions, history, retained adoption."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_voice.config.loading import config_to_dict, load_config, validate_config
from edge_voice.config.rules import ChangeCode, ConfigChangeError
from edge_voice.config.state_location import STATE_FILE_NAME
from edge_voice.config.store import ConfigStore
from edge_voice.models.catalog import default_catalog
from tests.unit.config_store_support import (
    API_KEY,
    PASSWORD,
    PREVIEW,
    assert_unchanged,
    file_config,
    no_secret_in,
    refused,
)

# --- persistence -------------------------------------------------------------------------


def test_changes_survive_a_restart(
    make_store: Callable[..., ConfigStore], state_path: Path
) -> None:
    store = make_store()
    store.set_model(PREVIEW)
    store.mark_good()
    store.apply_patch({"voice": {"primary": "ash"}, "tools": [{"name": "lights"}]})
    again = make_store()
    assert again.effective == store.effective
    assert again.version == store.version == 2
    assert again.last_good == store.last_good
    assert again.public_last_good() == store.public_last_good()
    assert [c.to_dict() for c in again.history()] == [c.to_dict() for c in store.history()]
    assert again.load_warnings == ()
    assert not again.can_adopt


def test_state_file_holds_only_runtime_overrides(store: ConfigStore, state_path: Path) -> None:
    store.set_model(PREVIEW)
    data = json.loads(state_path.read_text())
    assert data["overrides"] == {"openai": {"model": PREVIEW}}
    assert data["version"] == 1
    assert store.runtime_overrides == {"openai": {"model": PREVIEW}}


def test_default_state_path_is_in_the_state_dir(tmp_path: Path) -> None:
    cfg = file_config(state_dir=str(tmp_path / "sd"))
    store = ConfigStore(cfg)
    assert store.state_path == tmp_path / "sd" / "runtime_state.json"
    assert store.state_path.exists()


def test_file_edits_apply_to_keys_never_changed_at_runtime(
    make_store: Callable[..., ConfigStore],
) -> None:
    make_store().set_model(PREVIEW)
    edited = file_config(openai={"model": "gpt-realtime-mini", "instructions": "Be terse."})
    store = make_store(edited)
    assert store.effective.openai.model == PREVIEW  # runtime override > file
    assert store.effective.openai.instructions == "Be terse."  # untouched key follows the file
    # the retained config changed, so its version moves on, and the history says why
    assert store.version == 2
    last = store.history()[-1]
    assert last.source == "startup"
    assert last.diff == {"openai.instructions": (file_config().openai.instructions, "Be terse.")}


def test_a_key_set_back_to_the_file_value_follows_the_file_again(
    make_store: Callable[..., ConfigStore],
) -> None:
    store = make_store()
    store.set_model(PREVIEW)
    store.set_model("gpt-realtime")
    assert store.runtime_overrides == {}
    edited = make_store(file_config(openai={"model": "gpt-realtime-mini"}))
    assert edited.effective.openai.model == "gpt-realtime-mini"


def test_precedence_runtime_over_env_over_file(tmp_path: Path, state_path: Path) -> None:
    yaml_file = tmp_path / "config.yaml"
    yaml_file.write_text("device_id: kitchen\nvoice:\n  primary: sage\nbudget:\n  daily_usd: 1\n")
    env = {"EDGE_VOICE__VOICE__PRIMARY": "verse", "EDGE_VOICE__BUDGET__DAILY_USD": "3"}
    store = ConfigStore(load_config(yaml_file, env=env), state_path)
    assert store.effective.voice.primary == "verse"
    store.set_voice("ash")
    again = ConfigStore(load_config(yaml_file, env=env), state_path)
    assert again.effective.voice.primary == "ash"  # runtime > env
    assert again.effective.budget.daily_usd == 3  # env > file


def test_an_override_that_no_longer_validates_is_dropped_with_a_warning(
    make_store: Callable[..., ConfigStore],
    state_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with_model = file_config(models={"house-model": {"like": "gpt-realtime-mini"}})
    store = make_store(with_model)
    store.set_model("house-model")
    store.set_voice("marin")
    store.mark_good()
    with caplog.at_level(logging.WARNING):
        again = make_store(file_config())  # the file no longer has house-model
    assert again.effective.openai.model == "gpt-realtime"
    assert again.effective.voice.primary == "marin"  # the valid override stays
    assert again.last_good is not None
    assert again.last_good.openai.model == "gpt-realtime"
    assert any("dropped runtime override openai.model" in w for w in again.load_warnings)
    assert any("dropped last known good override openai.model" in w for w in again.load_warnings)
    assert "house-model" in caplog.text
    assert again.version == 3
    assert json.loads(state_path.read_text())["overrides"] == {"voice": {"primary": "marin"}}


def test_overrides_that_depend_on_each_other_survive_pruning(
    make_store: Callable[..., ConfigStore],
) -> None:
    first = file_config(models={"cheap": {"like": "gpt-realtime-mini"}})
    store = make_store(first)
    store.apply_patch(
        {
            "models": {"house-model": {"like": "gpt-realtime"}},
            "openai": {"model": "house-model"},
            "budget": {"cheaper_model": "cheap"},
        }
    )
    again = make_store(file_config())  # "cheap" is gone: only budget.cheaper_model fails
    assert again.effective.openai.model == "house-model"
    assert again.effective.budget.cheaper_model == "gpt-realtime-mini"
    assert [w for w in again.load_warnings if "budget.cheaper_model" in w]
    assert len(again.load_warnings) == 1


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"format": 1, "version": "many"}',
        b'{"format": 99, "version": 1}',
        b"",
    ],
)
def test_a_corrupt_state_file_is_kept_aside_and_the_file_config_used(
    make_store: Callable[..., ConfigStore],
    state_path: Path,
    content: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        store = make_store()
    assert store.effective == file_config()
    assert store.version == 0
    assert store.can_adopt
    assert len(store.load_warnings) == 1
    assert "unusable" in store.load_warnings[0]
    assert "unusable" in caplog.text
    aside = list(state_path.parent.glob(f"{STATE_FILE_NAME}.corrupt-*"))
    assert [p.read_bytes() for p in aside] == [content]
    assert aside[0].name == f"{STATE_FILE_NAME}.corrupt-20261124T183001Z"
    # a fresh, valid state file replaces it, and the store works
    assert json.loads(state_path.read_text())["version"] == 0
    store.set_model(PREVIEW)
    assert make_store().effective.openai.model == PREVIEW


def test_an_unreadable_state_path_does_not_crash(
    make_store: Callable[..., ConfigStore], state_path: Path
) -> None:
    state_path.mkdir(parents=True)  # a directory where the file should be
    store = make_store()
    assert store.effective == file_config()
    assert store.load_warnings


def test_a_state_file_cannot_smuggle_in_local_only_settings(
    make_store: Callable[..., ConfigStore], state_path: Path
) -> None:
    make_store()
    data = json.loads(state_path.read_text())
    data["overrides"] = {"mqtt": {"host": "evil.example"}, "voice": {"primary": "sage"}}
    state_path.write_text(json.dumps(data))
    store = make_store()
    assert store.effective.mqtt.host == "broker.lan"
    assert store.effective.voice.primary == "sage"
    assert any("mqtt" in w and "config file" in w for w in store.load_warnings)


def test_a_failed_write_keeps_the_change_and_reports_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = ConfigStore(file_config(), blocker / STATE_FILE_NAME)
    assert store.persist_error is not None
    store.set_model(PREVIEW)
    assert store.effective.openai.model == PREVIEW
    assert store.persist_error is not None
    assert "cannot write" in store.persist_error


# --- secrets -----------------------------------------------------------------------------


def test_secrets_never_reach_the_state_file_diffs_or_history(
    store: ConfigStore, state_path: Path
) -> None:
    store.set_model(PREVIEW)
    store.mark_good()
    store.apply_patch({"openai": {"instructions": "Hi"}, "voice": {"primary": "ash"}})
    store.rollback()
    store.rollback("legacy")
    with pytest.raises(ConfigChangeError) as info:
        store.apply_patch({"openai": {"api_key": API_KEY, "model": "x"}})
    no_secret_in(str(info.value))
    text = state_path.read_text()
    no_secret_in(text)
    assert "api_key" not in json.loads(text)["snapshot"]["openai"]
    no_secret_in(json.dumps([c.to_dict() for c in store.history()], default=str))
    no_secret_in(repr(store.history()))
    no_secret_in(json.dumps(store.runtime_overrides))


def test_validation_errors_do_not_echo_secrets(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.INVALID_CONFIG,
        lambda: store.apply_patch({"openai": {"apikey": API_KEY}, "voice": {"speed": PASSWORD}}),
    )
    assert "openai.apikey: unknown key" in message
    no_secret_in(message)


# --- versions and history ----------------------------------------------------------------


def test_versions_grow_across_operations_and_restarts(
    make_store: Callable[..., ConfigStore],
) -> None:
    store = make_store()
    seen = [store.version]
    store.set_model(PREVIEW)
    seen.append(store.version)
    store.mark_good()
    store.set_voice("ash")
    seen.append(store.version)
    store.rollback()
    seen.append(store.version)
    again = make_store()
    again.rollback("legacy")
    seen.append(again.version)
    assert seen == [0, 1, 2, 3, 4]
    assert [c.version for c in again.history()] == [1, 2, 3, 4]


def test_history_is_bounded(make_store: Callable[..., ConfigStore], state_path: Path) -> None:
    store = make_store(history_size=5)
    for i in range(8):
        store.apply_patch({"conversation": {"follow_up_s": float(i + 1)}})
    assert [c.version for c in store.history()] == [4, 5, 6, 7, 8]
    assert len(json.loads(state_path.read_text())["history"]) == 5
    assert [c.version for c in make_store(history_size=5).history()] == [4, 5, 6, 7, 8]


def test_default_history_keeps_fifty(store: ConfigStore) -> None:
    for i in range(55):
        store.apply_patch({"conversation": {"follow_up_s": float(i + 1)}})
    assert len(store.history()) == 50
    assert store.history()[-1].version == 55


# --- retained config adoption ------------------------------------------------------------


def test_a_fresh_device_adopts_the_retained_config(
    make_store: Callable[..., ConfigStore], tmp_path: Path
) -> None:
    other = ConfigStore(file_config(), tmp_path / "other.json")
    other.set_model(PREVIEW)
    other.set_voice("ash")
    retained = other.public_config()
    retained["mqtt"]["host"] = "elsewhere.lan"  # locked: the file's value stays
    retained["device_id"] = "someone"
    retained["ts"] = "2026-11-24T18:00:00.000Z"

    store = make_store()
    assert store.can_adopt
    change = store.adopt_retained(retained, adopt=True)
    assert change is not None
    assert change.source == "mqtt:config (retained)"
    assert change.version == 3  # continues after the retained version 2
    assert store.effective.openai.model == PREVIEW
    assert store.effective.voice.primary == "ash"
    assert store.effective.mqtt.host == "broker.lan"
    assert store.effective.device_id == "kitchen"
    assert store.effective.openai.api_key is not None
    assert store.runtime_overrides == {"openai": {"model": PREVIEW}, "voice": {"primary": "ash"}}
    assert not store.can_adopt
    assert store.adopt_retained(retained, adopt=True) is None


def test_adopting_says_so_in_a_warning_naming_the_keys_and_the_switch(
    make_store: Callable[..., ConfigStore], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = ConfigStore(file_config(), tmp_path / "other.json")
    other.set_voice("ash")
    store = make_store()
    with caplog.at_level(logging.WARNING, logger="edge_voice.config"):
        assert store.adopt_retained(other.public_config(), adopt=True) is not None
    [said] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "adopted the retained config (version 1" in said and "file: voice.primary;" in said
    assert "mqtt.adopt_retained_config: false" in said


def test_not_adopting_the_file_wins_and_its_config_supersedes_the_retained_one(
    make_store: Callable[..., ConfigStore], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = ConfigStore(file_config(), tmp_path / "other.json")
    other.set_model(PREVIEW)
    other.set_voice("ash")  # the retained config is version 2
    store = make_store()
    with caplog.at_level(logging.INFO, logger="edge_voice.config"):
        change = store.adopt_retained(other.public_config(), adopt=False)
    assert change is not None and not change.changed
    assert change.source == "config file (over the retained config)"
    assert change.version == store.version == 3  # consumers never see the version go back
    assert store.effective == file_config()
    assert store.runtime_overrides == {}
    assert store.public_config()["version"] == 3
    assert not store.can_adopt
    said = [r.getMessage() for r in caplog.records if "not adopting" in r.getMessage()]
    assert len(said) == 1 and "openai.model, voice.primary" in said[0], said
    assert "mqtt.adopt_retained_config: true adopts it" in said[0]
    # Persisted: the next start is a device with state, whatever the broker holds.
    assert not make_store().can_adopt


def test_a_device_with_state_ignores_the_retained_config(
    make_store: Callable[..., ConfigStore],
) -> None:
    make_store()
    store = make_store()
    assert not store.can_adopt
    assert store.adopt_retained({"openai": {"model": PREVIEW}, "version": 9}, adopt=True) is None
    assert store.effective == file_config()


def test_no_adoption_after_a_local_change(store: ConfigStore) -> None:
    store.set_voice("ash")
    assert store.adopt_retained({"openai": {"model": PREVIEW}, "version": 9}, adopt=True) is None
    assert store.effective.openai.model == "gpt-realtime"


def test_an_invalid_retained_config_is_refused(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.INVALID_CONFIG,
        lambda: store.adopt_retained({"openai": {"model": "gone-model"}, "version": 3}, adopt=True),
    )
    assert "gone-model" in message
    assert store.version == 0
    assert store.can_adopt  # a later, valid retained message may still come


def test_retained_config_equal_to_ours_with_an_older_version(store: ConfigStore) -> None:
    assert store.adopt_retained({**store.public_config(), "version": 0}, adopt=True) is None
    assert store.version == 0


# --- property: any sequence of operations ------------------------------------------------

_MODELS = [*default_catalog().names(), "no-such-model"]
_VOICES = [*default_catalog().all_voices(), "auto", "nova"]
_PATCHES = st.one_of(
    st.sampled_from(
        [
            {"openai": {"model": PREVIEW}},
            {"openai": {"modle": "x"}},
            {"mqtt": {"host": "evil"}},
            {"openai": {"api_key": API_KEY}},
            {"voice": {"primary": "marin"}, "openai": {"model_selection": "legacy"}},
            {"models": {"house": {"like": "gpt-realtime"}}, "openai": {"model": "house"}},
            {"tools": [{"name": "lights"}]},
            {"tools": [{"name": "bad name"}]},
            {"openai": {"temperature": 0.8}},
            {"budget": {"daily_usd": None}},
        ]
    ),
    st.builds(
        lambda v: {"voice": {"speed": v}},
        st.floats(0, 2) | st.sampled_from([float("nan"), float("inf")]),
    ),
    st.builds(lambda v: {"budget": {"daily_usd": v}}, st.none() | st.floats(-1, 10)),
    st.builds(
        lambda v: {"wakeword": {"models": v}},
        st.lists(st.sampled_from(["hey_jarvis", "alexa", "bogus"]), max_size=3),
    ),
)
_OPS = st.one_of(
    st.tuples(st.just("set_model"), st.sampled_from(_MODELS)),
    st.tuples(st.just("set_voice"), st.sampled_from(_VOICES)),
    st.tuples(st.just("set_model_selection"), st.sampled_from(["auto", "new", "legacy", "x"])),
    st.tuples(st.just("apply_patch"), _PATCHES),
    st.tuples(st.just("rollback"), st.sampled_from(["last_good", "legacy", "bogus"])),
    st.tuples(st.just("mark_good"), st.none()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_OPS, max_size=12))
def test_any_sequence_keeps_a_valid_config_equal_to_the_persisted_one(
    ops: list[tuple[str, Any]],
) -> None:
    cfg = file_config()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / STATE_FILE_NAME
        store = ConfigStore(cfg, path)
        for name, arg in ops:
            before, version = store.effective, store.version
            try:
                if name == "mark_good":
                    store.mark_good()
                else:
                    getattr(store, name)(arg)
            except ConfigChangeError as exc:
                assert_unchanged(store, before, version)
                no_secret_in(exc.message)
            assert store.version >= version
            effective = store.effective
            assert validate_config(config_to_dict(effective, secrets="reveal")) == effective
            reloaded = ConfigStore(cfg, path)
            assert reloaded.effective == effective
            assert reloaded.version == store.version
            assert reloaded.last_good == store.last_good
            assert reloaded.load_warnings == ()
        no_secret_in(path.read_text())
