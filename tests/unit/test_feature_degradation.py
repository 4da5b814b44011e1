"""Settings fitted per model: features dropped and reported once, voices mapped."""

from __future__ import annotations

from edge_voice.models.catalog import default_catalog
from edge_voice.models.features import (
    DegradationReporter,
    VoicePreference,
    fit_settings,
)
from edge_voice.realtime.session_builders import SessionSettings, build_session_update

CATALOG = default_catalog()
MCP = {"type": "mcp", "server_label": "home", "server_url": "https://mcp.example/sse"}
TOOL = {
    "type": "function",
    "name": "set_light",
    "description": "",
    "parameters": {"type": "object"},
}
RICH = SessionSettings(
    model="gpt-realtime",
    voice="cedar",
    tools=(TOOL,),
    mcp_servers=(MCP,),
    turn_detection="semantic_vad",
    temperature=0.8,
)


def test_everything_is_kept_on_gpt_realtime_but_temperature() -> None:
    fitted = fit_settings(RICH, CATALOG.get("gpt-realtime"), VoicePreference())
    assert fitted.settings.mcp_servers == (MCP,)
    assert fitted.settings.turn_detection == "semantic_vad"
    assert fitted.settings.voice == "cedar"
    assert fitted.settings.temperature is None
    assert [d.feature for d in fitted.degraded] == ["temperature"]
    build_session_update(fitted.settings, CATALOG.get("gpt-realtime"))  # accepted by the builder


def test_legacy_model_drops_new_features_and_maps_the_voice() -> None:
    legacy = CATALOG.get("gpt-4o-realtime-preview")
    fitted = fit_settings(RICH, legacy, VoicePreference("cedar", "alloy"))
    assert fitted.settings.model == "gpt-4o-realtime-preview"
    assert fitted.settings.mcp_servers == ()
    assert fitted.settings.turn_detection == "semantic_vad"  # the preview models had semantic VAD
    assert fitted.settings.voice == "alloy"
    assert fitted.settings.temperature == 0.8  # beta keeps its temperature
    assert {d.feature for d in fitted.degraded} == {"mcp", "async_functions", "image_input"}
    sent = build_session_update(fitted.settings, legacy)["session"]
    assert "cedar" not in str(sent) and "mcp" not in str(sent)


def test_disable_new_features_turns_them_off_even_on_gpt_realtime() -> None:
    fitted = fit_settings(
        RICH, CATALOG.get("gpt-realtime"), VoicePreference(), disable_new_features=True
    )
    assert fitted.settings.mcp_servers == ()
    assert fitted.settings.turn_detection == "server_vad"
    assert "semantic_vad" not in fitted.features
    assert {d.feature for d in fitted.degraded} >= {"mcp", "semantic_vad", "async_functions"}


def test_launch_preview_without_semantic_vad_falls_back_to_server_vad() -> None:
    fitted = fit_settings(
        RICH, CATALOG.get("gpt-4o-realtime-preview-2024-10-01"), VoicePreference()
    )
    assert fitted.settings.turn_detection == "server_vad"
    assert fitted.settings.voice in CATALOG.get("gpt-4o-realtime-preview-2024-10-01").voices


def test_each_degradation_is_reported_once() -> None:
    reporter = DegradationReporter()
    legacy = CATALOG.get("gpt-4o-realtime-preview")
    first = reporter.new(fit_settings(RICH, legacy, VoicePreference()).degraded)
    second = reporter.new(fit_settings(RICH, legacy, VoicePreference()).degraded)
    assert first and second == []
