"""Warnings about a valid config: the lifecycle block's WARNING lines, and the effective chain."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TextIO

from edge_voice.config.lifecycle_report import Fact, config_facts
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.models.lifecycle import Chain, chain_roles, selection_chain

__all__ = ["Fact", "config_facts", "config_warnings", "effective_chain", "log_facts", "print_facts"]


def effective_chain(cfg: EdgeVoiceConfig, today: dt.date) -> Chain:
    """The models `cfg` tries on `today` (as ModelMigration plans them, breaker closed)."""
    o = cfg.openai
    roles = chain_roles(o.model, o.legacy_model, o.fallback_models)
    return selection_chain(o.model_selection, roles, cfg.catalog(), today)


def config_warnings(cfg: EdgeVoiceConfig, today: dt.date) -> list[str]:
    """The lines of the block the user should act on; none of them stops the service."""
    return [f.text for f in config_facts(cfg, today) if not f.expected]


def log_facts(facts: list[Fact], logger: logging.Logger) -> None:
    """Log the block, each fact once, at its own level (expected facts at INFO)."""
    for fact in facts:
        logger.log(fact.level, "%s", fact.text)


def print_facts(facts: list[Fact], stream: TextIO) -> None:
    """Print the block for a terminal: `warning:` lines, and `note:` for the expected facts."""
    for fact in facts:
        print(f"{'note' if fact.expected else 'warning'}: {fact.text}", file=stream)
