"""ConfigStore operations: changes validated as a whole, rollback, last known good, payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from edge_voice.config.rules import (
    RUNTIME_LOCKED,
    ChangeCode,
    model_for_next_session,
    voices_for_next_session,
)
from edge_voice.config.store import ConfigStore
from edge_voice.models.catalog import default_catalog
from edge_voice.mqtt.commands import CommandError, ErrorCode
from edge_voice.mqtt.parsing import parse_command
from edge_voice.mqtt.topics import CommandKind, Route
from tests.unit.config_store_support import (
    API_KEY,
    GA_ONLY_VOICES,
    PASSWORD,
    PREVIEW,
    assert_unchanged,
    file_config,
    no_secret_in,
    refused,
)

# --- set_model ---------------------------------------------------------------------------


def test_set_model_changes_the_model_and_reports_the_diff(store: ConfigStore) -> None:
    change = store.set_model("gpt-realtime-mini")
    assert store.effective.openai.model == "gpt-realtime-mini"
    assert (change.version, store.version) == (1, 1)
    assert change.source == "mqtt:model/set"
    assert change.diff == {"openai.model": ("gpt-realtime", "gpt-realtime-mini")}
    assert change.changed
    assert store.history() == [change]
    assert change.to_dict()["diff"] == {
        "openai.model": {"old": "gpt-realtime", "new": "gpt-realtime-mini"}
    }


def test_set_model_unknown_is_refused_with_the_known_models(store: ConfigStore) -> None:
    before = store.effective
    message = refused(ChangeCode.UNKNOWN_MODEL, lambda: store.set_model("gpt-5-realtime"))
    assert "unknown model 'gpt-5-realtime'" in message
    assert "gpt-realtime-mini" in message
    assert PREVIEW in message
    assert_unchanged(store, before, 0)
    assert store.history() == []


def test_set_model_accepts_a_model_added_in_the_config_file(
    make_store: Callable[..., ConfigStore],
) -> None:
    store = make_store(file_config(models={"house-model": {"like": "gpt-realtime-mini"}}))
    store.set_model("house-model")
    assert store.effective.openai.model == "house-model"


def test_set_model_lacking_the_voice_is_accepted_and_the_mapping_explained(
    store: ConfigStore,
) -> None:
    # Voices are mapped per connection (design §3): cedar stays preferred for when the model
    # offers it again, and the note says what the next session will use.
    assert store.effective.voice.primary == "cedar"
    change = store.set_model(PREVIEW)
    assert store.effective.voice.primary == "cedar"
    assert change.note is not None
    assert "no voice cedar" in change.note
    assert "alloy" in change.note


def test_setting_the_current_value_changes_nothing(store: ConfigStore) -> None:
    change = store.set_model("gpt-realtime")
    assert not change.changed
    assert change.diff == {}
    assert change.version == store.version == 0
    assert store.history() == []


# --- set_model_selection -----------------------------------------------------------------


def test_set_model_selection(store: ConfigStore) -> None:
    change = store.set_model_selection("legacy")
    assert store.effective.openai.model_selection == "legacy"
    assert change.source == "mqtt:model_selection/set"
    assert change.diff == {"openai.model_selection": ("auto", "legacy")}
    assert model_for_next_session(store.effective) == PREVIEW


def test_set_model_selection_invalid_is_refused_with_the_allowed_values(
    store: ConfigStore,
) -> None:
    message = refused(ChangeCode.INVALID_CONFIG, lambda: store.set_model_selection("newest"))
    assert "openai.model_selection" in message
    assert "'auto', 'new' or 'legacy'" in message
    assert_unchanged(store, file_config(), 0)


# --- set_voice ---------------------------------------------------------------------------


def test_set_voice(store: ConfigStore) -> None:
    change = store.set_voice("marin")
    assert store.effective.voice.primary == "marin"
    assert change.diff == {"voice.primary": ("cedar", "marin")}
    assert change.note is None  # gpt-realtime has marin: nothing to explain


def test_set_voice_auto_is_accepted_on_any_model(store: ConfigStore) -> None:
    store.set_model_selection("legacy")
    store.set_voice("auto")
    assert store.effective.voice.primary == "auto"


def test_set_voice_unknown_is_refused_with_the_known_voices(store: ConfigStore) -> None:
    message = refused(ChangeCode.UNKNOWN_VOICE, lambda: store.set_voice("nova"))
    assert "unknown voice 'nova'" in message
    assert "marin" in message
    assert "alloy" in message
    assert store.version == 0


@pytest.mark.parametrize("voice", GA_ONLY_VOICES)
def test_set_voice_not_on_the_legacy_model_is_refused_with_its_voices(
    store: ConfigStore, voice: str
) -> None:
    store.set_model_selection("legacy")
    before = store.effective
    message = refused(ChangeCode.VOICE_NOT_ON_MODEL, lambda: store.set_voice(voice))
    allowed = list(default_catalog().get(PREVIEW).voices)
    assert PREVIEW in message
    assert f"no voice {voice!r}" in message
    assert f"allowed: {', '.join(allowed)}, or auto" in message
    assert voices_for_next_session(store.effective) == allowed
    assert_unchanged(store, before, 1)


def test_set_voice_is_checked_against_the_primary_model_unless_legacy(
    make_store: Callable[..., ConfigStore],
) -> None:
    # model_selection auto uses openai.model for the next session, not the legacy model.
    store = make_store(file_config(openai={"model": PREVIEW, "legacy_model": "gpt-realtime"}))
    refused(ChangeCode.VOICE_NOT_ON_MODEL, lambda: store.set_voice("marin"))
    store.set_model_selection("legacy")
    store.set_voice("marin")
    assert store.effective.voice.primary == "marin"


# --- apply_patch -------------------------------------------------------------------------


def test_patch_deep_merges_and_keeps_the_rest_of_a_section(store: ConfigStore) -> None:
    change = store.apply_patch({"voice": {"primary": "marin"}, "budget": {"daily_usd": 2.5}})
    cfg = store.effective
    assert (cfg.voice.primary, cfg.voice.fallback, cfg.voice.auto_select) == (
        "marin",
        "alloy",
        True,
    )
    assert cfg.budget.daily_usd == 2.5
    assert cfg.budget.action == "switch_model"
    assert change.source == "mqtt:config/set"
    assert change.diff == {
        "budget.daily_usd": (None, 2.5),
        "voice.primary": ("cedar", "marin"),
    }
    assert change.version == 1  # one patch, one version


def test_patch_lists_replace_as_a_whole(make_store: Callable[..., ConfigStore]) -> None:
    store = make_store(file_config(wakeword={"models": ["hey_jarvis", "alexa"]}))
    store.apply_patch({"wakeword": {"models": ["okay_nabu"]}})
    assert store.effective.wakeword.models == ["okay_nabu"]


def test_patch_null_sets_a_nullable_key(make_store: Callable[..., ConfigStore]) -> None:
    store = make_store(file_config(budget={"daily_usd": 5.0}))
    change = store.apply_patch({"budget": {"daily_usd": None}})
    assert store.effective.budget.daily_usd is None
    assert change.diff == {"budget.daily_usd": (5.0, None)}


def test_patch_null_on_a_key_that_cannot_be_null_is_refused(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.INVALID_CONFIG, lambda: store.apply_patch({"voice": {"speed": None}})
    )
    assert "voice.speed" in message
    assert store.version == 0


def test_patch_with_an_unknown_key_is_refused_naming_the_key(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.UNKNOWN_KEY, lambda: store.apply_patch({"openai": {"modle": "gpt-realtime"}})
    )
    assert "openai.modle: unknown key" in message
    assert "model_selection" in message  # the allowed keys are listed
    message = refused(ChangeCode.UNKNOWN_KEY, lambda: store.apply_patch({"transaction": 1}))
    assert "transaction" in message


def test_patch_is_validated_as_a_whole_and_a_bad_part_changes_nothing(
    store: ConfigStore,
) -> None:
    before = store.effective
    message = refused(
        ChangeCode.INVALID_CONFIG,
        lambda: store.apply_patch(
            {"voice": {"primary": "marin"}, "openai": {"model": "no-such-model"}}
        ),
    )
    assert "openai.model: unknown model 'no-such-model'" in message
    assert_unchanged(store, before, 0)
    assert store.runtime_overrides == {}


def test_patch_model_lacking_the_current_voice_is_accepted(store: ConfigStore) -> None:
    change = store.apply_patch({"openai": {"model": PREVIEW}})
    assert store.effective.openai.model == PREVIEW
    assert store.effective.voice.primary == "cedar"
    assert change.note is not None
    assert "cedar" in change.note


def test_patch_setting_a_voice_the_resulting_model_lacks_is_refused(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.VOICE_NOT_ON_MODEL,
        lambda: store.apply_patch(
            {"openai": {"model_selection": "legacy"}, "voice": {"primary": "marin"}}
        ),
    )
    assert PREVIEW in message
    assert store.version == 0


def test_patch_changing_model_and_voice_together_is_checked_against_the_new_model(
    store: ConfigStore,
) -> None:
    store.apply_patch({"openai": {"model": PREVIEW}, "voice": {"primary": "ash"}})
    assert (store.effective.openai.model, store.effective.voice.primary) == (PREVIEW, "ash")


def test_patch_can_add_a_model_and_use_it(store: ConfigStore) -> None:
    store.apply_patch(
        {
            "models": {"house-model": {"like": "gpt-realtime-mini"}},
            "openai": {"model": "house-model"},
        }
    )
    assert store.effective.openai.model == "house-model"
    assert "house-model" in store.effective.catalog()


@pytest.mark.parametrize("path", RUNTIME_LOCKED, ids=lambda p: ".".join(p))
def test_patch_of_a_local_only_setting_is_forbidden(
    store: ConfigStore, path: tuple[str, ...]
) -> None:
    value: Any = API_KEY
    for key in reversed(path):
        value = {key: value}
    message = refused(ChangeCode.FORBIDDEN, lambda: store.apply_patch(value))
    assert ".".join(path) in message
    assert "edit the config file" in message
    no_secret_in(message)
    assert store.version == 0


def test_patch_of_the_mqtt_password_is_forbidden_without_echoing_it(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.FORBIDDEN, lambda: store.apply_patch({"mqtt": {"password": "new-" + PASSWORD}})
    )
    assert message.startswith("mqtt cannot be changed at runtime")
    no_secret_in(message)


@pytest.mark.parametrize("path", RUNTIME_LOCKED, ids=lambda p: ".".join(p))
def test_the_mqtt_parser_refuses_every_locked_setting(path: tuple[str, ...]) -> None:
    value: Any = "x"
    for key in reversed(path):
        value = {key: value}
    with pytest.raises(CommandError) as info:
        parse_command(Route(CommandKind.CONFIG_SET), json.dumps(value).encode())
    assert info.value.code is ErrorCode.FORBIDDEN
    assert ".".join(path) in info.value.message


def test_patch_with_an_arbitration_group_no_topic_can_hold_is_refused(store: ConfigStore) -> None:
    # The bridge builds the device's topics from the new config: the schema must refuse first.
    message = refused(
        ChangeCode.INVALID_CONFIG,
        lambda: store.apply_patch({"wakeword": {"arbitration_group": "hall/upstairs"}}),
    )
    assert "wakeword.arbitration_group: 'hall/upstairs' must be 1-64 characters" in message
    assert store.version == 0


@pytest.mark.parametrize("bad", [None, ["voice"], "voice"])
def test_patch_must_be_an_object(store: ConfigStore, bad: Any) -> None:
    refused(ChangeCode.INVALID_CONFIG, lambda: store.apply_patch(bad))


def test_patch_with_a_non_finite_number_is_refused(store: ConfigStore) -> None:
    message = refused(
        ChangeCode.INVALID_CONFIG,
        lambda: store.apply_patch({"conversation": {"idle_timeout_s": float("inf")}}),
    )
    assert "conversation.idle_timeout_s: must be a finite number" in message


# --- rollback and last known good --------------------------------------------------------


def test_rollback_without_a_last_good_config(store: ConfigStore) -> None:
    message = refused(ChangeCode.NOTHING_TO_ROLL_BACK, store.rollback)
    assert "no conversation has completed" in message
    assert store.last_good is None
    assert store.public_last_good() is None


def test_rollback_to_last_good(store: ConfigStore) -> None:
    store.set_voice("marin")
    assert store.mark_good()
    good = store.effective
    store.set_model(PREVIEW)
    store.apply_patch({"budget": {"daily_usd": 1.0}})
    change = store.rollback()
    assert store.effective == good
    assert change.source == "rollback:last_good"
    assert change.version == 4
    assert change.diff == {
        "budget.daily_usd": (1.0, None),
        "openai.model": (PREVIEW, "gpt-realtime"),
    }
    message = refused(ChangeCode.NOTHING_TO_ROLL_BACK, store.rollback)
    assert "already on the last known good config (version 1)" in message


def test_rollback_to_legacy_profile(store: ConfigStore) -> None:
    store.set_voice("marin")
    change = store.rollback("legacy")
    cfg = store.effective
    assert (cfg.openai.model_selection, cfg.openai.disable_new_features) == ("legacy", True)
    assert cfg.voice.primary == "marin"  # the rest of the current config is kept
    assert change.source == "rollback:legacy"
    assert change.note is not None  # marin is not on the legacy model: the mapping is named
    message = refused(ChangeCode.NOTHING_TO_ROLL_BACK, lambda: store.rollback("legacy"))
    assert "already on the legacy profile" in message


def test_rollback_unknown_target(store: ConfigStore) -> None:
    message = refused(ChangeCode.UNKNOWN_TARGET, lambda: store.rollback("yesterday"))
    assert "last_good, legacy" in message


def test_mark_good(store: ConfigStore) -> None:
    assert store.mark_good()
    assert not store.mark_good()  # already the last good one
    store.set_model(PREVIEW)
    assert not store.mark_good(version=0)  # that conversation ran under a config that is gone
    assert store.last_good == file_config()
    assert store.mark_good(version=1)
    assert store.last_good == store.effective
    public = store.public_last_good()
    assert public is not None
    assert public["version"] == 1
    assert public["openai"]["model"] == PREVIEW


# --- public payloads ---------------------------------------------------------------------


def test_public_dicts_carry_a_version_and_no_secrets(store: ConfigStore) -> None:
    store.set_model(PREVIEW)
    store.mark_good()
    public = store.public_config()
    last_good = store.public_last_good()
    assert last_good is not None
    assert public["version"] == 1
    assert public["openai"]["model"] == PREVIEW
    assert public["mqtt"]["host"] == "broker.lan"
    for payload in (public, last_good):
        assert "api_key" not in payload["openai"]
        assert "password" not in payload["mqtt"]
        no_secret_in(json.dumps(payload))


def test_effective_keeps_the_secrets_for_the_service(store: ConfigStore) -> None:
    store.set_model(PREVIEW)
    assert store.effective.openai.api_key is not None
    assert store.effective.openai.api_key.get_secret_value() == API_KEY
    assert store.effective.mqtt.password is not None
    assert store.effective.mqtt.password.get_secret_value() == PASSWORD
