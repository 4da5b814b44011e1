"""`edge-voice models`: the catalog as a table (or JSON), lifecycle included."""

from __future__ import annotations

import datetime as dt
import json

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.warnings import config_facts, effective_chain
from edge_voice.models.catalog import ModelCatalog, ModelInfo, default_catalog


def model_row(model: ModelInfo, today: dt.date) -> dict[str, object]:
    """One model as plain data for tables and JSON."""
    life = model.lifecycle
    return {
        "model": model.name,
        "alias_of": model.alias_of,
        "protocol": model.protocol,
        "voices": list(model.voices),
        "features": sorted(model.features),
        "prices_per_1m": {
            "text_in": model.prices.text_in,
            "cached_text_in": model.prices.cached_text_in,
            "audio_in": model.prices.audio_in,
            "cached_audio_in": model.prices.cached_audio_in,
            "image_in": model.prices.image_in,
            "text_out": model.prices.text_out,
            "audio_out": model.prices.audio_out,
        },
        "shutdown": life.shutdown.isoformat() if life.shutdown else None,
        "successor": life.successor,
        "status": life.state(today).value,
    }


def print_models(catalog: ModelCatalog | None, today: dt.date, *, as_json: bool = False) -> None:
    """Print every model of the catalog."""
    models = (catalog or default_catalog()).models()
    if as_json:
        print(json.dumps([model_row(m, today) for m in models], indent=2))
        return
    header = (
        "model",
        "proto",
        "voices",
        "audio in/out $",
        "text in/out $",
        "features",
        "shutdown",
        "successor",
        "status",
    )
    rows = [header]
    for m in models:
        voices = (
            "10 (+cedar,marin)" if m.has_voice("cedar") else f"{len(m.voices)} (no cedar/marin)"
        )
        rows.append(
            (
                m.name,
                m.protocol,
                voices,
                f"{m.prices.audio_in:g}/{m.prices.audio_out:g}",
                f"{m.prices.text_in:g}/{m.prices.text_out:g}",
                ",".join(sorted(m.features)) or "-",
                m.lifecycle.shutdown.isoformat() if m.lifecycle.shutdown else "-",
                m.lifecycle.successor or "-",
                m.lifecycle.state(today).value,
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"\nprices in USD per 1M tokens; status as of {today.isoformat()}")


def print_chain(cfg: EdgeVoiceConfig, today: dt.date, file: str = "FILE") -> None:
    """The models this config tries on `today`, then the lifecycle block (what to change)."""
    chain = effective_chain(cfg, today)
    selection = cfg.openai.model_selection
    print(f"\nmodel_selection {selection} tries, in order: {', '.join(chain.models)}")
    for fact in config_facts(cfg, today, migrate_file=file):
        print(f"  {fact.text}")
