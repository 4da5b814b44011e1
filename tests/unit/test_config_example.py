"""config.yaml.example shows every key of the schema with its default, and nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from edge_voice.config.loading import config_to_dict, load_config, validate_config
from edge_voice.config.mcp_schema import McpServerConfig
from edge_voice.config.schema import EdgeVoiceConfig, ModelEntry, MqttConfig, ToolConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config.yaml.example"
#: Keys shown only in a comment: a computed default, and a deprecated key nobody should copy.
COMMENTED = {"device_id": "# device_id:", "openai.api_key": "# api_key:"}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def schema_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every key path; sections are walked into, lists/dicts/optional models are one key."""
    for name, field in model.model_fields.items():
        section = _model_of(field.annotation)
        if section is not None and field.default_factory is not None:
            yield from schema_keys(section, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def shown_keys(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key path of the example, walking into mappings that are config sections."""
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            yield from shown_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_example_shows_every_key_of_the_schema() -> None:
    expected = set(schema_keys(EdgeVoiceConfig)) - set(COMMENTED)
    shown = set(shown_keys(example()))
    assert sorted(expected - shown) == [], "keys missing from config.yaml.example"
    assert sorted(shown - expected) == [], "keys in config.yaml.example the schema lacks"


def test_keys_shown_only_in_comments_are_there() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for key, comment in COMMENTED.items():
        assert comment in text, f"{key} is not shown in config.yaml.example"


def test_the_keys_of_tls_tools_models_and_mcp_servers_are_shown_in_their_examples() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    tls = MqttConfig.model_fields["tls"].annotation
    for model in (
        *(a for a in tls.__args__ if _model_of(a)),
        ToolConfig,
        ModelEntry,
        McpServerConfig,
    ):
        for name in model.model_fields:
            assert re.search(rf"^\s*#.*\b{name}:", text, re.M), f"{model.__name__}.{name}"


def test_every_value_shown_is_the_default() -> None:
    shown = validate_config(example(), str(EXAMPLE))
    defaults = load_config(None, env={})
    assert config_to_dict(shown) == config_to_dict(defaults)


def test_the_example_is_a_valid_config() -> None:
    assert isinstance(load_config(EXAMPLE, env={}), EdgeVoiceConfig)
