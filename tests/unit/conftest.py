"""Fixtures of the unit tests (the ConfigStore ones, shared by two test modules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.state_location import STATE_FILE_NAME
from edge_voice.config.store import ConfigStore
from tests.unit.config_store_support import Clock, file_config


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / STATE_FILE_NAME


@pytest.fixture
def make_store(state_path: Path) -> Callable[..., ConfigStore]:
    def make(cfg: EdgeVoiceConfig | None = None, **kwargs: Any) -> ConfigStore:
        return ConfigStore(cfg or file_config(), state_path, clock=Clock(), **kwargs)

    return make


@pytest.fixture
def store(make_store: Callable[..., ConfigStore]) -> ConfigStore:
    return make_store()
