"""What the next session asks for, from the effective config: migration, session, replay limits."""

from __future__ import annotations

import logging
from typing import Any

from edge_voice.config.mcp import McpSecretError
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.conversation.function_calls import ToolRegistry
from edge_voice.conversation.resilient_session import ReplayLimits
from edge_voice.models.features import VoicePreference
from edge_voice.models.migration import MigrationSettings
from edge_voice.realtime.session_builders import SessionSettings

log = logging.getLogger(__name__)


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
        reasoning_effort=cfg.openai.reasoning_effort,
        truncation=cfg.openai.truncation_wire(),
        # Credentials are read here, per session, so a rotated token needs no restart.
        mcp_servers=mcp_tools(cfg),
    )


def mcp_tools(cfg: EdgeVoiceConfig) -> tuple[dict[str, Any], ...]:
    """The `mcp` tools of the configured servers; one whose credential is missing is left out."""
    tools = []
    for server in cfg.openai.mcp_servers:
        try:
            tools.append(server.tool_entry())
        except McpSecretError as exc:  # names where the secret should be, never the secret
            log.error("MCP server %s not offered: %s", server.server_label, exc)
    return tuple(tools)


def migration_settings(cfg: EdgeVoiceConfig) -> MigrationSettings:
    """The migration-relevant part of a full config (models, selection, voices)."""
    return MigrationSettings(
        model=cfg.openai.model,
        legacy_model=cfg.openai.legacy_model,
        fallback_models=tuple(cfg.openai.fallback_models),
        model_selection=cfg.openai.model_selection,
        disable_new_features=cfg.openai.disable_new_features,
        voice=VoicePreference(cfg.voice.primary, cfg.voice.fallback, cfg.voice.auto_select),
        fallback_cooldown_s=cfg.openai.fallback_cooldown_s,
        preferred_roles=tuple((m, key) for key, m in cfg.wakeword.profile_choices("model")),
    )


def replay_limits(cfg: EdgeVoiceConfig) -> ReplayLimits:
    """How often one conversation may reconnect and re-ask a cut answer."""
    return ReplayLimits(
        max_reconnects=cfg.conversation.max_reconnects,
        max_resumed_responses=cfg.conversation.max_resumed_responses,
    )
