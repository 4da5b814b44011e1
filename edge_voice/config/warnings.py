"""Warnings about a valid config: model lifecycles, deprecated keys, voices a model lacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.models.voices import select_voice


def configured_models(cfg: EdgeVoiceConfig) -> dict[str, str]:
    """The models this config can connect to, by role, as model_selection allows."""
    models: dict[str, str] = {}
    if cfg.openai.model_selection in ("auto", "new"):
        models["openai.model"] = cfg.openai.model
    if cfg.openai.model_selection in ("auto", "legacy"):
        models["openai.legacy_model"] = cfg.openai.legacy_model
    return models


def config_warnings(
    cfg: EdgeVoiceConfig, today: dt.date, env: Mapping[str, str] | None = None
) -> list[str]:
    """Human warnings about `cfg` as of `today`; none of them stops the service."""
    catalog = cfg.catalog()
    warnings: list[str] = []
    for w in catalog.lifecycle_warnings(configured_models(cfg), today):
        line = w.message(today)
        if w.successor in catalog:
            section, key = w.role.split(".", 1)
            via = (
                f"publish {w.successor} to <base>/model/set"
                if w.role == "openai.model"
                else f'publish {{"{section}": {{"{key}": "{w.successor}"}}}} to <base>/config/set'
            )
            line += f" (to move: set {w.role}: {w.successor} in the file, or {via})"
        warnings.append(line)
    if cfg.openai.api_key is not None:
        warnings.append(
            "openai.api_key is set in the file (deprecated): prefer OPENAI_API_KEY "
            "or openai.api_key_file"
        )
    for role, name in configured_models(cfg).items():
        model = catalog.get(name)
        choice = select_voice(
            cfg.voice.primary,
            model,
            fallback=cfg.voice.fallback,
            auto_select=cfg.voice.auto_select,
        )
        if choice.changed and cfg.voice.primary != "auto":
            warnings.append(f"{role}: {choice.explain()}")
        if cfg.openai.temperature is not None and model.protocol == "ga":
            warnings.append(
                f"openai.temperature is ignored on {name}: the GA interface has no temperature"
            )
    return list(dict.fromkeys(warnings))  # one line per problem, even if two roles share it
