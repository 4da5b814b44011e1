"""Warnings about a valid config: model lifecycles, deprecated keys, voices a model lacks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.models.catalog import LifecycleState, LifecycleWarning
from edge_voice.models.lifecycle import (
    FALLBACK_ROLE,
    Chain,
    chain_roles,
    live_successor,
    selection_chain,
)
from edge_voice.models.voices import select_voice


def configured_models(cfg: EdgeVoiceConfig) -> dict[str, str]:
    """The models this config can connect to, by role, as model_selection allows."""
    models: dict[str, str] = {}
    selection = cfg.openai.model_selection
    if selection in ("auto", "new"):
        models["openai.model"] = cfg.openai.model
    if selection in ("auto", "legacy"):
        models["openai.legacy_model"] = cfg.openai.legacy_model
    if selection == "auto":
        for i, name in enumerate(cfg.openai.fallback_models):
            models[f"{FALLBACK_ROLE}[{i}]"] = name
    if cfg.budget.daily_usd is not None and cfg.budget.action == "switch_model":
        models["budget.cheaper_model"] = cfg.budget.cheaper_model
    return models


def effective_chain(cfg: EdgeVoiceConfig, today: dt.date) -> Chain:
    """The models `cfg` tries on `today` (as ModelMigration plans them, breaker closed)."""
    o = cfg.openai
    roles = chain_roles(o.model, o.legacy_model, o.fallback_models)
    return selection_chain(o.model_selection, roles, cfg.catalog(), today)


def _move_hint(cfg: EdgeVoiceConfig, w: LifecycleWarning, today: dt.date) -> str:
    """What `auto` does about a dying or dead model, and the one line that makes it permanent."""
    catalog = cfg.catalog()
    dead = w.state is LifecycleState.SHUT_DOWN
    target = live_successor(w.subject, catalog, today if dead else w.shutdown)
    if target is None:
        return ""
    selection = cfg.openai.model_selection
    if selection != "auto":
        does = f"; model_selection {selection} keeps it (only a proxy may still serve it)"
    elif dead:
        does = f"; model_selection auto uses {target} instead"
    else:
        does = f"; from then on model_selection auto uses {target}"
    if w.role.startswith(FALLBACK_ROLE):
        return f"{does} (to move: replace {w.subject} with {target} in {FALLBACK_ROLE})"
    section, key = w.role.split(".", 1)
    via = (
        f"publish {target} to <base>/model/set"
        if w.role == "openai.model"
        else f'publish {{"{section}": {{"{key}": "{target}"}}}} to <base>/config/set'
    )
    return f"{does} (to move: set {w.role}: {target} in the file, or {via})"


def config_warnings(
    cfg: EdgeVoiceConfig, today: dt.date, env: Mapping[str, str] | None = None
) -> list[str]:
    """Human warnings about `cfg` as of `today`; none of them stops the service."""
    catalog = cfg.catalog()
    warnings = [
        w.message(today) + ("" if w.role == "interface:" else _move_hint(cfg, w, today))
        for w in catalog.lifecycle_warnings(configured_models(cfg), today)
    ]
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
