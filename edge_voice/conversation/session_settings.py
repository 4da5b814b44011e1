"""What the next session asks for, from the effective config: migration, session, replay limits."""

from __future__ import annotations

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.conversation.function_calls import ToolRegistry
from edge_voice.conversation.resilient_session import ReplayLimits
from edge_voice.models.features import VoicePreference
from edge_voice.models.migration import MigrationSettings
from edge_voice.realtime.session_builders import SessionSettings


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


def migration_settings(cfg: EdgeVoiceConfig) -> MigrationSettings:
    """The migration-relevant part of a full config (models, selection, voices)."""
    return MigrationSettings(
        model=cfg.openai.model,
        legacy_model=cfg.openai.legacy_model,
        model_selection=cfg.openai.model_selection,
        disable_new_features=cfg.openai.disable_new_features,
        voice=VoicePreference(cfg.voice.primary, cfg.voice.fallback, cfg.voice.auto_select),
        fallback_cooldown_s=cfg.openai.fallback_cooldown_s,
    )


def replay_limits(cfg: EdgeVoiceConfig) -> ReplayLimits:
    """How often one conversation may reconnect and re-ask a cut answer."""
    return ReplayLimits(
        max_reconnects=cfg.conversation.max_reconnects,
        max_resumed_responses=cfg.conversation.max_resumed_responses,
    )
