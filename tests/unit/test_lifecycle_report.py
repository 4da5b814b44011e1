"""The lifecycle block: which facts are said, once each, and which are only notes (INFO)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from edge_voice.config.loading import validate_config
from edge_voice.config.warnings import config_facts, log_facts


def facts(raw: dict[str, object], today: str) -> list[tuple[bool, str]]:
    cfg = validate_config(raw)
    return [(f.expected, f.text) for f in config_facts(cfg, dt.date.fromisoformat(today))]


def test_a_shut_down_cheaper_model_is_a_warning_without_a_budget() -> None:
    said = facts({"budget": {"cheaper_model": "gpt-4o-mini-realtime-preview"}}, "2026-12-02")
    assert (
        False,
        "budget.cheaper_model gpt-4o-mini-realtime-preview was shut down on 2026-05-07: "
        "model_selection auto uses gpt-realtime-mini instead; "
        "to make it permanent: set budget.cheaper_model: gpt-realtime-mini",
    ) in said


def test_an_interface_is_a_warning_when_it_alone_kills_a_model_in_use() -> None:
    # A proxy model on the beta wire with no date of its own: only the interface line says it.
    raw = {
        "models": {"my-proxy": {"like": "gpt-realtime", "protocol": "beta"}},
        "openai": {"legacy_model": "my-proxy"},
    }
    said = facts(raw, "2026-05-01")
    assert said == [
        (
            False,
            "the beta interface (used by my-proxy) shuts down on 2026-05-12 (11 days left); "
            "successor: the ga interface",
        )
    ]


def test_a_voice_mapped_on_the_primary_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cfg = validate_config({"openai": {"model_selection": "legacy"}})
    with caplog.at_level(logging.INFO):
        log_facts(config_facts(cfg, dt.date(2026, 5, 1)), logging.getLogger("t"))
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    mapped = "openai.legacy_model: gpt-4o-realtime-preview has no voice cedar; using alloy"
    (line,) = [m for m in levels if m.startswith(mapped)]
    assert levels[line] == logging.WARNING  # pinned: the user hears another voice than asked
    assert len(caplog.records) == len(levels)  # each fact once
