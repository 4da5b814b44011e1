"""`config migrate`: offer the live successor of every shut-down model a file names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from edge_voice.models.catalog import ModelCatalog
from edge_voice.models.lifecycle import died_on, live_successor

#: Asked once per offer; True takes the successor. Without one, every offer is taken.
Confirm = Callable[["SuccessorOffer"], bool]


@dataclass(frozen=True)
class SuccessorOffer:
    """A key of the file naming a shut-down model, and the live model to put there."""

    key: str
    model: str
    shutdown: dt.date
    successor: str

    def question(self) -> str:
        """The offer as a yes/no question for a terminal."""
        return (
            f"{self.key}: {self.model} was shut down on {self.shutdown.isoformat()}; "
            f"use {self.successor} instead?"
        )


def successor_offers(
    raw: dict[str, Any], catalog: ModelCatalog, today: dt.date
) -> list[SuccessorOffer]:
    """An offer for each key of `raw` that names a model shut down on `today`."""
    offers: list[SuccessorOffer] = []
    for key, model in _named_models(raw):
        if model not in catalog:
            continue
        shutdown = died_on(catalog.get(model), catalog, today)
        successor = live_successor(model, catalog, today) if shutdown else None
        if shutdown is not None and successor is not None:
            offers.append(SuccessorOffer(key, model, shutdown, successor))
    return offers


def apply_offers(
    raw: dict[str, Any],
    offers: list[SuccessorOffer],
    *,
    keep: Collection[str] = (),
    confirm: Confirm | None = None,
) -> list[str]:
    """Put each taken offer into `raw` (in place); a line per offer saying what happened."""
    lines: list[str] = []
    for offer in offers:
        if offer.key in keep or (confirm is not None and not confirm(offer)):
            lines.append(
                f"{offer.key}: {offer.model} kept as you asked (shut down on "
                f"{offer.shutdown.isoformat()}; only a proxy that still serves it can answer; "
                f"in `auto` the service uses {offer.successor} instead)"
            )
            continue
        _set(raw, offer.key, offer.successor)
        lines.append(
            f"{offer.key}: {offer.model} → {offer.successor} ({offer.model} was shut down on "
            f"{offer.shutdown.isoformat()}; `--keep {offer.key}` keeps it)"
        )
    return lines


def _named_models(raw: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, model) for every model name the file itself sets."""
    openai = raw.get("openai")
    if isinstance(openai, dict):
        for key in ("model", "legacy_model"):
            if isinstance(openai.get(key), str):
                yield f"openai.{key}", openai[key]
        chain = openai.get("fallback_models")
        if isinstance(chain, list):
            for index, name in enumerate(chain):
                if isinstance(name, str):
                    yield f"openai.fallback_models[{index}]", name
    budget = raw.get("budget")
    if isinstance(budget, dict) and isinstance(budget.get("cheaper_model"), str):
        yield "budget.cheaper_model", budget["cheaper_model"]


def _set(raw: dict[str, Any], key: str, value: str) -> None:
    section, _, field = key.partition(".")
    if field.startswith("fallback_models["):
        chain = list(raw[section]["fallback_models"])  # the caller's list stays as it was
        chain[int(field[len("fallback_models[") : -1])] = value
        raw[section]["fallback_models"] = chain
    else:
        raw[section][field] = value
