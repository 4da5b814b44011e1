"""Catalog checks of parsed commands: a model or voice must be one the catalog knows."""

from __future__ import annotations

from edge_voice.models.catalog import ModelCatalog
from edge_voice.mqtt.commands import Command, CommandError, ErrorCode, ModelSet, Say, VoiceSet


def check_catalog(command: Command, catalog: ModelCatalog, what: str) -> None:
    """Refuse a model or voice the catalog does not know (CommandError, unknown_value)."""
    if isinstance(command, ModelSet) and command.model not in catalog:
        raise CommandError(
            ErrorCode.UNKNOWN_VALUE,
            f"{what}: unknown model {command.model!r}; known: {', '.join(catalog.names())}",
            command.transaction,
        )
    voices = catalog.all_voices()
    if isinstance(command, Say) and command.voice is not None and command.voice not in voices:
        raise CommandError(
            ErrorCode.UNKNOWN_VALUE,
            f"{what}: unknown voice {command.voice!r}; known: {', '.join(voices)}",
            command.transaction,
        )
    if isinstance(command, VoiceSet) and command.voice != "auto" and command.voice not in voices:
        raise CommandError(
            ErrorCode.UNKNOWN_VALUE,
            f"{what}: unknown voice {command.voice!r}; known: auto, {', '.join(voices)}",
            command.transaction,
        )
