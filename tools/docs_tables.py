"""Markdown tables of the catalog for docs/OPENAI_MIGRATION.md (a test keeps the doc in step).

`python -m tools.docs_tables` rewrites the generated blocks of the guide in place.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.metrics.cost import calculate_cost
from edge_voice.models.catalog import ModelCatalog, default_catalog
from edge_voice.models.features import NEW_FEATURES
from edge_voice.models.lifecycle import chain_roles, lifecycle_chain
from edge_voice.models.voices import VOICE_MAPPING
from tools import generated

#: A typical smart-home exchange: 5 s of user speech, 6 s of answer, 800 tokens of context.
TYPICAL_TURN = {
    "input_token_details": {"text_tokens": 800, "audio_tokens": 50},
    "output_token_details": {"text_tokens": 40, "audio_tokens": 120},
}
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "OPENAI_MIGRATION.md"
#: A dated snapshot (`…-2025-08-28`) is shown in the lifecycle table only.
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def main_models(catalog: ModelCatalog) -> list[str]:
    """The models a user names: every catalog model but the dated snapshots."""
    return [name for name in catalog.names() if not _SNAPSHOT.search(name)]


def voice_table(catalog: ModelCatalog | None = None) -> str:
    """Which voice a preview model speaks for each gpt-realtime voice."""
    catalog = catalog or default_catalog()
    legacy = catalog.get("gpt-4o-realtime-preview")
    rows = ["| voice | on gpt-realtime | on gpt-4o-realtime-preview |", "|---|---|---|"]
    for voice in catalog.get("gpt-realtime").voices:
        mapped = voice if legacy.has_voice(voice) else f"{VOICE_MAPPING[voice]} (mapped)"
        rows.append(f"| `{voice}` | yes | {mapped} |")
    return "\n".join(rows)


def feature_table(catalog: ModelCatalog | None = None) -> str:
    """Features per model, as the service uses them."""
    catalog = catalog or default_catalog()
    features = sorted(NEW_FEATURES)
    rows = [
        "| model | protocol | " + " | ".join(features) + " |",
        "|---|---|" + "---|" * len(features),
    ]
    for name in main_models(catalog):
        m = catalog.get(name)
        marks = " | ".join("yes" if m.has_feature(f) else "–" for f in features)
        rows.append(f"| `{name}` | {m.protocol} | {marks} |")
    return "\n".join(rows)


def cost_table(catalog: ModelCatalog | None = None) -> str:
    """List prices and the cost of a typical turn per model."""
    catalog = catalog or default_catalog()
    base = calculate_cost(TYPICAL_TURN, "gpt-4o-realtime-preview", catalog)
    rows = [
        "| model | text in / cached / out | audio in / cached / out | typical turn | vs preview |",
        "|---|---|---|---|---|",
    ]
    for name in main_models(catalog):
        p = catalog.get(name).prices
        cost = calculate_cost(TYPICAL_TURN, name, catalog)
        rows.append(
            f"| `{name}` | ${p.text_in:g} / ${p.cached_text_in:g} / ${p.text_out:g} "
            f"| ${p.audio_in:g} / ${p.cached_audio_in:g} / ${p.audio_out:g} "
            f"| ${cost:.5f} | {cost / base:.2f}× |"
        )
    return "\n".join(rows)


def lifecycle_table(catalog: ModelCatalog | None = None) -> str:
    """Shutdown dates and successors."""
    catalog = catalog or default_catalog()
    rows = ["| model | shutdown | successor |", "|---|---|---|"]
    for m in catalog.models():
        if m.lifecycle.shutdown:
            rows.append(
                f"| `{m.name}` | {m.lifecycle.shutdown.isoformat()} | `{m.lifecycle.successor}` |"
            )
    return "\n".join(rows)


def chain_table(catalog: ModelCatalog | None = None) -> str:
    """The default config's `auto` chain between the catalog's shutdown dates."""
    catalog = catalog or default_catalog()
    openai = EdgeVoiceConfig().openai
    roles = chain_roles(openai.model, openai.legacy_model, openai.fallback_models)
    dates = {m.lifecycle.shutdown for m in catalog.models()}
    dates |= {catalog.protocol_lifecycle(p).shutdown for p in ("ga", "beta")}
    boundaries = sorted(d for d in dates if d is not None)
    spans: list[tuple[dt.date | None, tuple[str, ...]]] = []
    for start in [None, *boundaries]:
        day = start or boundaries[0] - dt.timedelta(days=1)
        chain = lifecycle_chain(roles, catalog, day).models
        if not spans or spans[-1][1] != chain:
            spans.append((start, chain))
    rows = ["| from | chain in `auto` |", "|---|---|"]
    for start, chain in spans:
        since = start.isoformat() if start else "(earlier)"
        rows.append(f"| {since} | {', '.join(f'`{m}`' for m in chain)} |")
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "voice_table": voice_table,
    "feature_table": feature_table,
    "cost_table": cost_table,
    "lifecycle_table": lifecycle_table,
    "chain_table": chain_table,
}


def main() -> None:
    """Rewrite every generated table of the guide from the catalog."""
    text = GUIDE.read_text(encoding="utf-8")
    GUIDE.write_text(generated.render(text, TABLES), encoding="utf-8")


if __name__ == "__main__":
    main()
