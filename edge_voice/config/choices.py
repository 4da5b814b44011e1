"""What a user may choose now: the models and voices offered in Home Assistant and in `state`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.models.catalog import LifecycleState, ModelCatalog

#: Dated snapshots (`gpt-realtime-2025-08-28`) are pinned in the config file, not offered.
_DATED_SNAPSHOT: Final = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def current_model(cfg: EdgeVoiceConfig) -> str:
    """The model the config asks for: the legacy model under `model_selection: legacy`."""
    return cfg.openai.legacy_model if cfg.openai.model_selection == "legacy" else cfg.openai.model


def model_options(
    cfg: EdgeVoiceConfig, today: dt.date | None = None, current: str | None = None
) -> list[str]:
    """Models offered: undated names not yet shut down, plus every configured one.

    The configured, legacy, budget and current models are always offered, even past shutdown
    (proxies still serve them), so a select can always show the state it receives.
    """
    catalog = cfg.catalog()
    today = today or dt.date.today()
    keep = {cfg.openai.model, cfg.openai.legacy_model, cfg.budget.cheaper_model, current}
    keep.update(cfg.openai.fallback_models)
    return [
        m.name
        for m in catalog.models()
        if m.name in keep
        or (
            not _DATED_SNAPSHOT.search(m.name)
            and m.lifecycle.state(today) is not LifecycleState.SHUT_DOWN
        )
    ]


def voice_options(catalog: ModelCatalog, model: str) -> list[str]:
    """The voices `model` can speak (every known voice for a model not in the catalog)."""
    return list(catalog.get(model).voices) if model in catalog else catalog.all_voices()
