"""Lifecycle-aware fallback: a dead model is replaced by the first live model of its successors.

A model is dead on a day when its shutdown date (catalog or a config `models:` override) or its
protocol's shutdown date has passed. Only `auto` replaces; `new` and `legacy` keep what is
pinned, and a refusal of it names the successor and the fix (`refusal_hint`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from edge_voice.models.catalog import LifecycleState, ModelCatalog, ModelInfo

#: The chain role of `openai.fallback_models[i]`.
FALLBACK_ROLE = "openai.fallback_models"


def calendar_today() -> dt.date:
    """The real date: lifecycle decisions use it unless given a date (tests pin it)."""
    return dt.date.today()


def died_on(info: ModelInfo, catalog: ModelCatalog, today: dt.date) -> dt.date | None:
    """When `info` (or its protocol) was shut down, if that is on or before `today`."""
    dates = [info.lifecycle.shutdown, catalog.protocol_lifecycle(info.protocol).shutdown]
    passed = [d for d in dates if d is not None and d <= today]
    return min(passed) if passed else None


def is_dead(name: str, catalog: ModelCatalog, today: dt.date) -> bool:
    """Whether the catalog says `name` cannot be served any more on `today`."""
    return name in catalog and died_on(catalog.get(name), catalog, today) is not None


def live_successor(name: str, catalog: ModelCatalog, today: dt.date) -> str | None:
    """The first model in `name`'s successor chain that is alive on `today` (cycle-safe)."""
    seen = {name}
    current = catalog.get(name).lifecycle.successor if name in catalog else None
    while current is not None and current not in seen and current in catalog:
        if not is_dead(current, catalog, today):
            return current
        seen.add(current)
        current = catalog.get(current).lifecycle.successor
    return None


@dataclass(frozen=True)
class Replacement:
    """A dead candidate of the `auto` chain and what `auto` uses instead (None: dropped)."""

    role: str
    model: str
    shutdown: dt.date
    replacement: str | None

    @property
    def fix(self) -> str:
        """The one change to the config file that makes this permanent."""
        if self.role.startswith(FALLBACK_ROLE):
            if self.replacement is None:
                return f"remove {self.model} from {FALLBACK_ROLE}"
            return f"replace {self.model} with {self.replacement} in {FALLBACK_ROLE}"
        if self.replacement is None:
            return f"set {self.role} to a live model (see `edge-voice models`)"
        return f"set {self.role}: {self.replacement}"

    def message(self) -> str:
        """The one-line announcement (log, `config check`)."""
        instead = (
            f"model_selection auto uses {self.replacement} instead"
            if self.replacement
            else "model_selection auto leaves it out (no live successor)"
        )
        return (
            f"{self.role} {self.model} was shut down on {self.shutdown.isoformat()}: "
            f"{instead}; to make it permanent: {self.fix}"
        )


@dataclass(frozen=True)
class Chain:
    """The models `auto` tries, in order, and the replacements that made it."""

    models: tuple[str, ...]
    replacements: tuple[Replacement, ...]


def lifecycle_chain(
    roles: Sequence[tuple[str, str]], catalog: ModelCatalog, today: dt.date
) -> Chain:
    """(role, model) candidates with dead ones replaced or dropped, de-duplicated.

    If nothing is left the first candidate is kept as it is, so the user gets the real error.
    """
    models: list[str] = []
    replacements: list[Replacement] = []
    for role, name in roles:
        info = catalog.get(name) if name in catalog else None
        shutdown = died_on(info, catalog, today) if info is not None else None
        if shutdown is None:
            models.append(name)
            continue
        successor = live_successor(name, catalog, today)
        replacements.append(Replacement(role, name, shutdown, successor))
        if successor is not None:
            models.append(successor)
    chain = tuple(dict.fromkeys(models)) or (roles[0][1],)
    return Chain(chain, tuple(replacements))


def chain_roles(
    primary: str, legacy: str, fallbacks: Sequence[str], primary_role: str = "openai.model"
) -> list[tuple[str, str]]:
    """The `auto` candidates with the config key each one comes from."""
    roles = [(primary_role, primary), ("openai.legacy_model", legacy)]
    roles += [(f"{FALLBACK_ROLE}[{i}]", name) for i, name in enumerate(fallbacks)]
    return roles


def selection_chain(
    selection: str,
    roles: Sequence[tuple[str, str]],
    catalog: ModelCatalog,
    today: dt.date,
) -> Chain:
    """What a model selection tries: `auto` the lifecycle chain, `new`/`legacy` what is pinned."""
    if selection == "new":
        return Chain((roles[0][1],), ())
    if selection == "legacy":
        return Chain((roles[1][1],), ())
    return lifecycle_chain(roles, catalog, today)


def refusal_hint(role: str, name: str, catalog: ModelCatalog, today: dt.date) -> str | None:
    """For a refused pinned model: its shutdown, its live successor and the one-line fix."""
    if name not in catalog:
        return None
    info = catalog.get(name)
    shutdown = died_on(info, catalog, today)
    if shutdown is not None:
        when = f"{name} was shut down on {shutdown.isoformat()}"
        successor = live_successor(name, catalog, today)
    elif info.lifecycle.state(today) is LifecycleState.SHUTDOWN_SOON:
        assert info.lifecycle.shutdown is not None
        when = f"{name} shuts down on {info.lifecycle.shutdown.isoformat()}"
        successor = live_successor(name, catalog, info.lifecycle.shutdown)
    else:
        return None
    if successor is None:
        return f"{when}; set {role} to a live model (see `edge-voice models`)"
    return f"{when}; set {role}: {successor} (or model_selection: auto)"
