"""SessionSettings for the next conversation, from the effective config and the tool registry."""

from __future__ import annotations

from edge_voice.config import EdgeVoiceConfig
from edge_voice.function_calls import ToolRegistry
from edge_voice.openai_client.session_builders import SessionSettings


def session_settings(cfg: EdgeVoiceConfig, tools: ToolRegistry) -> SessionSettings:
    """The model-independent settings; ModelMigration fits model, voice and features."""
    return SessionSettings(
        model=cfg.openai.model,
        voice=cfg.voice.primary if cfg.voice.primary != "auto" else cfg.voice.fallback,
        instructions=cfg.openai.instructions,
        tools=tools.session_tools(),
        turn_detection=cfg.conversation.turn_detection,
        input_transcription_model=cfg.openai.transcription_model,
        speed=cfg.voice.speed,
        temperature=cfg.openai.temperature,
    )
