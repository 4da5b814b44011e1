"""The `auto` chain follows the calendar: dead models replaced by live successors, fixes named."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from edge_voice.config.loading import validate_config
from edge_voice.models.catalog import ModelInfo, default_catalog
from edge_voice.models.fallback import candidate_models
from edge_voice.models.lifecycle import Replacement, chain_roles, lifecycle_chain, refusal_hint
from edge_voice.models.migration import MigrationEvent, MigrationSettings, ModelMigration
from edge_voice.realtime.session_builders import SessionSettings

CATALOG = default_catalog()


async def never_opened(model: ModelInfo, settings: SessionSettings) -> object:
    raise AssertionError("plan() must not connect")


def plan_on(
    today: dt.date, events: list[MigrationEvent] | None = None, **settings: object
) -> list[str]:
    mig: ModelMigration[object] = ModelMigration(
        MigrationSettings(**settings),  # type: ignore[arg-type]
        never_opened,  # type: ignore[arg-type]
        today=lambda: today,
        on_event=(events.append if events is not None else None),
    )
    return mig.plan()


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 5, 1), ["gpt-realtime", "gpt-4o-realtime-preview"]),
        (dt.date(2026, 5, 6), ["gpt-realtime", "gpt-4o-realtime-preview"]),
        (dt.date(2026, 5, 7), ["gpt-realtime", "gpt-realtime-1.5"]),
        (dt.date(2026, 5, 12), ["gpt-realtime", "gpt-realtime-1.5"]),
        (dt.date(2026, 12, 2), ["gpt-realtime", "gpt-realtime-1.5"]),
        (dt.date(2027, 1, 19), ["gpt-realtime", "gpt-realtime-1.5"]),
        (dt.date(2027, 1, 20), ["gpt-realtime-2.1", "gpt-realtime-1.5"]),
        (dt.date(2027, 1, 21), ["gpt-realtime-2.1", "gpt-realtime-1.5"]),
    ],
)
def test_the_default_chain_on_each_date(today: dt.date, expected: list[str]) -> None:
    assert plan_on(today) == expected


def test_new_and_legacy_keep_what_is_pinned() -> None:
    late = dt.date(2027, 1, 21)
    assert plan_on(late, model_selection="new") == ["gpt-realtime"]
    assert plan_on(late, model_selection="legacy") == ["gpt-4o-realtime-preview"]


def test_fallback_models_follow_legacy_in_order_and_deduplicated() -> None:
    chain = plan_on(
        dt.date(2026, 5, 1),
        fallback_models=("gpt-realtime-mini", "gpt-realtime", "gpt-realtime-2"),
    )
    assert chain == [
        "gpt-realtime",
        "gpt-4o-realtime-preview",
        "gpt-realtime-mini",
        "gpt-realtime-2",
    ]
    # After 2027-01-20 gpt-realtime becomes 2.1 and the legacy preview becomes 1.5: no repeats.
    late = plan_on(
        dt.date(2027, 1, 21),
        fallback_models=("gpt-realtime-2.1", "gpt-4o-realtime-preview-2024-12-17"),
    )
    assert late == ["gpt-realtime-2.1", "gpt-realtime-1.5"]


def test_pure_candidates_take_fallbacks_and_the_open_breaker_moves_the_primary_last() -> None:
    from edge_voice.models.fallback import BreakerState

    assert candidate_models("auto", "a", "b", BreakerState.CLOSED, ("c", "a")) == ["a", "b", "c"]
    assert candidate_models("auto", "a", "b", BreakerState.OPEN, ("c",)) == ["b", "c", "a"]
    assert candidate_models("new", "a", "b", BreakerState.OPEN, ("c",)) == ["a"]


def test_a_successor_cycle_ends_and_a_dead_end_is_dropped() -> None:
    cfg = validate_config(
        {
            "models": {
                "old-a": {"like": "gpt-realtime", "shutdown": "2026-01-01", "successor": "old-b"},
                "old-b": {"like": "gpt-realtime", "shutdown": "2026-01-01", "successor": "old-a"},
            },
            "openai": {"legacy_model": "old-a", "fallback_models": ["old-b"]},
        }
    )
    catalog = cfg.catalog()
    chain = lifecycle_chain(
        chain_roles("gpt-realtime", "old-a", ["old-b"]), catalog, dt.date(2026, 6, 1)
    )
    assert chain.models == ("gpt-realtime",)
    assert [(r.role, r.model, r.replacement) for r in chain.replacements] == [
        ("openai.legacy_model", "old-a", None),
        ("openai.fallback_models[0]", "old-b", None),
    ]
    assert chain.replacements[1].fix == "remove old-b from openai.fallback_models"


def test_nothing_left_tries_the_primary_as_it_is() -> None:
    catalog = validate_config(
        {"models": {"gone": {"like": "gpt-realtime-1.5", "shutdown": "2026-01-01"}}}
    ).catalog()
    chain = lifecycle_chain([("openai.model", "gone")], catalog, dt.date(2026, 6, 1))
    assert chain.models == ("gone",)


def test_a_config_override_shutdown_counts_and_moves_on_to_the_live_successor() -> None:
    catalog = validate_config(
        {
            "models": {
                "gpt-realtime-1.5": {"shutdown": "2026-11-01", "successor": "gpt-realtime-2.1"}
            }
        }
    ).catalog()
    chain = lifecycle_chain(
        chain_roles("gpt-realtime", "gpt-4o-realtime-preview", []), catalog, dt.date(2026, 12, 2)
    )
    # preview → 1.5 (dead by the override) → 2.1
    assert chain.models == ("gpt-realtime", "gpt-realtime-2.1")
    assert chain.replacements == (
        Replacement(
            "openai.legacy_model",
            "gpt-4o-realtime-preview",
            dt.date(2026, 5, 7),
            "gpt-realtime-2.1",
        ),
    )


def test_a_beta_model_dies_with_its_protocol() -> None:
    catalog = validate_config(
        {"models": {"gpt-4o-realtime-preview": {"shutdown": "2026-12-31"}}}
    ).catalog()
    chain = lifecycle_chain(
        [("openai.legacy_model", "gpt-4o-realtime-preview")], catalog, dt.date(2026, 6, 1)
    )
    assert chain.replacements[0].shutdown == dt.date(2026, 5, 12)  # the beta interface
    assert chain.models == ("gpt-realtime-1.5",)


def test_the_announcement_names_model_date_replacement_and_fix() -> None:
    events: list[MigrationEvent] = []
    mig: ModelMigration[object] = ModelMigration(
        MigrationSettings(),
        never_opened,  # type: ignore[arg-type]
        today=lambda: dt.date(2026, 12, 2),
        on_event=events.append,
    )
    mig.announce_replacements()
    mig.announce_replacements()  # once per replacement, not per call
    (replaced,) = [e for e in events if isinstance(e, Replacement)]
    assert replaced.message() == (
        "openai.legacy_model gpt-4o-realtime-preview was shut down on 2026-05-07: "
        "model_selection auto uses gpt-realtime-1.5 instead; "
        "to make it permanent: set openai.legacy_model: gpt-realtime-1.5"
    )
    assert mig.chain() == ["gpt-realtime", "gpt-realtime-1.5"]


def test_a_quiet_announcement_emits_without_logging_it_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[MigrationEvent] = []
    mig: ModelMigration[object] = ModelMigration(
        MigrationSettings(),
        never_opened,  # type: ignore[arg-type]
        today=lambda: dt.date(2026, 12, 2),
        on_event=events.append,
    )
    with caplog.at_level(logging.DEBUG, logger="edge_voice.models.migration"):
        mig.announce_replacements(quiet=True)  # the start-up block has logged it
        mig.announce_replacements()  # already announced: neither emitted nor logged again
    assert [type(e) for e in events] == [Replacement]
    assert caplog.records == []


def test_refusal_hint_names_successor_and_fix() -> None:
    hint = refusal_hint(
        "openai.legacy_model", "gpt-4o-realtime-preview", CATALOG, dt.date(2026, 12, 2)
    )
    assert hint == (
        "gpt-4o-realtime-preview was shut down on 2026-05-07; "
        "set openai.legacy_model: gpt-realtime-1.5 (or model_selection: auto)"
    )
    assert refusal_hint("openai.model", "gpt-realtime-2.1", CATALOG, dt.date(2026, 12, 2)) is None
