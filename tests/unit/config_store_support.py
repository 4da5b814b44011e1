"""Shared fixtures and helpers of the ConfigStore tests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from edge_voice.config.loading import validate_config
from edge_voice.config.rules import ChangeCode, ConfigChangeError
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore

API_KEY = "sk-test-SECRET-4f2a9c"
PASSWORD = "pw-SECRET-77e1"
SECRETS = (API_KEY, PASSWORD)
BASE: dict[str, Any] = {
    "device_id": "kitchen",
    "openai": {"api_key": API_KEY},
    "mqtt": {"host": "broker.lan", "username": "ev", "password": PASSWORD},
}
PREVIEW = "gpt-4o-realtime-preview"
GA_ONLY_VOICES = ("cedar", "marin")


def file_config(**sections: Any) -> EdgeVoiceConfig:
    """The base file config with `sections` deep-merged over it."""
    raw = json.loads(json.dumps(BASE))
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return validate_config(raw, "test.yaml")


class Clock:
    """A clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 24, 18, 30, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def refused(code: ChangeCode, call: Callable[[], object]) -> str:
    """Run `call`, expect ConfigChangeError with `code`, return its message."""
    with pytest.raises(ConfigChangeError) as info:
        call()
    assert info.value.code is code, info.value.message
    assert str(info.value) == info.value.message
    return info.value.message


def assert_unchanged(store: ConfigStore, before: EdgeVoiceConfig, version: int) -> None:
    assert store.effective == before
    assert store.version == version


def no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
