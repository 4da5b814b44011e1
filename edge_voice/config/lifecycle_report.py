"""The lifecycle block: one line per configured model, protocol and voice fact, each said once.

Start-up, `config check` and `models --config` print the same block. A fact the default config
is built to handle (its own legacy model replaced in `auto` while the primary lives, a voice
mapped on a fallback model) is INFO; anything the user should act on is WARNING.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from edge_voice.config.schema import DEFAULT_LEGACY_MODEL, EdgeVoiceConfig
from edge_voice.models.catalog import LifecycleState, ModelCatalog
from edge_voice.models.lifecycle import (
    FALLBACK_ROLE,
    Replacement,
    died_on,
    is_dead,
    live_successor,
)
from edge_voice.models.voices import select_voice

#: The role whose model the daily budget switches to.
BUDGET_ROLE = "budget.cheaper_model"


@dataclass(frozen=True)
class Fact:
    """One line of the block; `expected` facts are INFO, the others WARNING."""

    text: str
    expected: bool = False
    #: About a shut-down model that `config migrate` can move to its live successor.
    migratable: bool = False

    @property
    def level(self) -> int:
        """The logging level the line is logged at."""
        return logging.INFO if self.expected else logging.WARNING


def named_models(cfg: EdgeVoiceConfig) -> dict[str, str]:
    """Every model the config names, by role (used now or by a switch the config allows)."""
    o = cfg.openai
    models = {"openai.model": o.model, "openai.legacy_model": o.legacy_model}
    models.update({f"{FALLBACK_ROLE}[{i}]": name for i, name in enumerate(o.fallback_models)})
    models[BUDGET_ROLE] = cfg.budget.cheaper_model
    return models


def _uses(selection: str, role: str) -> bool:
    """Whether `selection` connects to the model of `role` (`legacy` never to the budget's)."""
    if selection == "auto":
        return True
    if selection == "new" and role.startswith("wakeword.words."):
        return True  # a wake word profile's model is the primary of its conversations
    used = ("openai.model", BUDGET_ROLE) if selection == "new" else ("openai.legacy_model",)
    return role in used


def _is_expected(cfg: EdgeVoiceConfig, role: str, name: str, today: dt.date) -> bool:
    """The default legacy model dying while the primary lives: what the defaults plan for."""
    o = cfg.openai
    catalog = cfg.catalog()
    return (
        role == "openai.legacy_model"
        and name == DEFAULT_LEGACY_MODEL
        and o.model_selection != "legacy"
        and not is_dead(o.model, catalog, today)
        and live_successor(name, catalog, today) is not None
    )


def _does(selection: str, role: str, successor: str | None, *, dead: bool) -> str:
    """What the selection does about a dead (or, from its shutdown, dying) model."""
    if selection == "auto":
        if successor is None:
            return "model_selection auto leaves it out (no live successor)"
        return (
            f"model_selection auto uses {successor} instead"
            if dead
            else (f"from then on model_selection auto uses {successor}")
        )
    if _uses(selection, role):
        return f"model_selection {selection} keeps it (only a proxy may still serve it)"
    return f"model_selection {selection} does not use it"


def _model_text(
    selection: str, role: str, name: str, catalog: ModelCatalog, today: dt.date
) -> str | None:
    """The fact about the model of `role`: shut down, or shutting down soon; None: neither."""
    info = catalog.get(name)
    shutdown = died_on(info, catalog, today)
    if shutdown is not None:
        replaced = Replacement(role, name, shutdown, live_successor(name, catalog, today))
        if selection == "auto":
            return replaced.message()  # word for word what ModelMigration announces
        does = _does(selection, role, replaced.replacement, dead=True)
        when = f"was shut down on {shutdown.isoformat()}"
        return f"{role} {name} {when}: {does}; to move: {replaced.fix}"
    end = info.lifecycle.shutdown
    if end is None or info.lifecycle.state(today) is not LifecycleState.SHUTDOWN_SOON:
        return None
    successor = live_successor(name, catalog, end)
    fix = Replacement(role, name, end, successor).fix
    when = f"shuts down on {end.isoformat()} ({(end - today).days} days left)"
    return f"{role} {name} {when}: {_does(selection, role, successor, dead=False)}; to move: {fix}"


def model_facts(cfg: EdgeVoiceConfig, today: dt.date) -> list[Fact]:
    """One fact per named model that is shut down or within its warning window."""
    catalog = cfg.catalog()
    facts: list[Fact] = []
    profiles = dict(cfg.wakeword.profile_choices("model"))
    for role, name in {**named_models(cfg), **profiles}.items():
        text = _model_text(cfg.openai.model_selection, role, name, catalog, today)
        if text is not None:
            dead = is_dead(name, catalog, today) and live_successor(name, catalog, today)
            facts.append(Fact(text, _is_expected(cfg, role, name, today), bool(dead)))
    return facts


def protocol_facts(cfg: EdgeVoiceConfig, today: dt.date) -> list[Fact]:
    """One fact per interface (beta) that a named model speaks and that is dying or gone."""
    catalog = cfg.catalog()
    named = named_models(cfg)
    # A model line already said what matters for its model: the interface line then is context.
    selection = cfg.openai.model_selection
    said = {
        r
        for r, n in named.items()
        if _is_expected(cfg, r, n, today) or _model_text(selection, r, n, catalog, today)
    }
    facts: list[Fact] = []
    for protocol in dict.fromkeys(catalog.get(n).protocol for n in named.values()):
        life = catalog.protocol_lifecycle(protocol)
        state = life.state(today)
        if life.shutdown is None or state not in (
            LifecycleState.SHUT_DOWN,
            LifecycleState.SHUTDOWN_SOON,
        ):
            continue
        roles = [r for r, n in named.items() if catalog.get(n).protocol == protocol]
        users = ", ".join(dict.fromkeys(named[r] for r in roles))
        days = (life.shutdown - today).days
        when = (
            f"was shut down on {life.shutdown.isoformat()}: its models are refused"
            if days <= 0
            else f"shuts down on {life.shutdown.isoformat()} ({days} days left)"
        )
        then = f"; successor: the {life.successor} interface" if life.successor else ""
        text = f"the {protocol} interface (used by {users}) {when}{then}"
        facts.append(Fact(text, expected=set(roles) <= said))
    return facts


def _voice_models(cfg: EdgeVoiceConfig, today: dt.date) -> dict[str, tuple[str, str]]:
    """The model each role really connects to (in `auto` a dead one's successor), by model."""
    catalog = cfg.catalog()
    selection = cfg.openai.model_selection
    used: dict[str, tuple[str, str]] = {}
    for role, name in named_models(cfg).items():
        if not _uses(selection, role):
            continue
        model = (
            live_successor(name, catalog, today)
            if selection == "auto" and is_dead(name, catalog, today)
            else name
        )
        if model is not None and model not in used:
            used[model] = (role, name)
    return used


def voice_facts(cfg: EdgeVoiceConfig, today: dt.date) -> list[Fact]:
    """Where the configured voice is not the one a model in use will speak with."""
    if cfg.voice.primary == "auto":
        return []
    primary_role = (
        "openai.legacy_model" if cfg.openai.model_selection == "legacy" else ("openai.model")
    )
    facts: list[Fact] = []
    for model, (role, _) in _voice_models(cfg, today).items():
        choice = select_voice(
            cfg.voice.primary,
            cfg.catalog().get(model),
            fallback=cfg.voice.fallback,
            auto_select=cfg.voice.auto_select,
        )
        if choice.changed:
            facts.append(Fact(f"{role}: {choice.explain()}", expected=role != primary_role))
    return facts


def other_facts(cfg: EdgeVoiceConfig, today: dt.date) -> list[Fact]:
    """Warnings that are not about lifecycles: a key in the file, a setting a model ignores."""
    facts: list[Fact] = []
    if cfg.openai.api_key is not None:
        facts.append(
            Fact(
                "openai.api_key is set in the file (deprecated): prefer OPENAI_API_KEY "
                "or openai.api_key_file"
            )
        )
    if cfg.openai.temperature is not None:
        for model in _voice_models(cfg, today):
            if cfg.catalog().get(model).protocol == "ga":
                facts.append(
                    Fact(
                        f"openai.temperature is ignored on {model}: "
                        "the GA interface has no temperature"
                    )
                )
    return facts


def config_facts(
    cfg: EdgeVoiceConfig, today: dt.date, migrate_file: str | None = None
) -> list[Fact]:
    """The whole block for `cfg` on `today`, each fact once, and the `config migrate` hint.

    `migrate_file` names the file in the hint (None: no hint, e.g. right after a migration).
    """
    models = model_facts(cfg, today)
    facts = [*models, *protocol_facts(cfg, today), *voice_facts(cfg, today)]
    facts += other_facts(cfg, today)
    if migrate_file is not None and any(f.migratable for f in models):
        facts.append(
            Fact(
                f"`edge-voice config migrate {migrate_file}` offers the live successor of each "
                "shut-down model the file names",
                expected=True,
            )
        )
    return list({f.text: f for f in facts}.values())
