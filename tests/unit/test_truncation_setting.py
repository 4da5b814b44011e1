"""`openai.truncation`: config forms, the GA session.update, dropped (and reported) on beta."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edge_voice.config.schema import OpenAIConfig
from edge_voice.models.catalog import default_catalog
from edge_voice.models.features import VoicePreference, fit_settings
from edge_voice.realtime.errors import InvalidSettingError
from edge_voice.realtime.session_builders import SessionSettings, build_session

CATALOG = default_catalog()
RATIO = {"type": "retention_ratio", "retention_ratio": 0.8}


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("auto", "auto"),
        ("disabled", "disabled"),
        ({"retention_ratio": 0.8}, RATIO),
        (
            {"retention_ratio": 0.5, "post_instructions_tokens": 8000},
            {
                "type": "retention_ratio",
                "retention_ratio": 0.5,
                "token_limits": {"post_instructions": 8000},
            },
        ),
    ],
)
def test_config_forms_become_the_wire_value(value: object, wire: object) -> None:
    assert OpenAIConfig.model_validate({"truncation": value}).truncation_wire() == wire


@pytest.mark.parametrize(
    "value",
    ["sometimes", {"retention_ratio": 1.5}, {"ratio": 0.8}, {"retention_ratio": 0.8, "x": 1}],
)
def test_bad_config_values_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        OpenAIConfig.model_validate({"truncation": value})


def test_default_is_auto_and_not_sent() -> None:
    assert OpenAIConfig().truncation == "auto"
    session = build_session(SessionSettings(model="gpt-realtime"), CATALOG.get("gpt-realtime"))
    assert "truncation" not in session


@pytest.mark.parametrize("value", ["disabled", RATIO])
def test_ga_session_update_carries_it(value: object) -> None:
    settings = SessionSettings(model="gpt-realtime", truncation=value)  # type: ignore[arg-type]
    assert build_session(settings, CATALOG.get("gpt-realtime"))["truncation"] == value


def test_beta_drops_it_and_reports_the_drop() -> None:
    settings = SessionSettings(model="gpt-realtime", truncation=RATIO)
    fitted = fit_settings(settings, CATALOG.get("gpt-4o-realtime-preview"), VoicePreference())
    assert fitted.settings.truncation == "auto"
    assert "truncation" in {d.feature for d in fitted.degraded}
    assert "truncation" not in build_session(
        fitted.settings, CATALOG.get("gpt-4o-realtime-preview")
    )
    kept = fit_settings(settings, CATALOG.get("gpt-realtime"), VoicePreference())
    assert kept.settings.truncation == RATIO
    assert "truncation" not in {d.feature for d in kept.degraded}


def test_an_unknown_mode_is_refused_before_the_socket() -> None:
    with pytest.raises(InvalidSettingError):
        SessionSettings(model="gpt-realtime", truncation="sometimes")
