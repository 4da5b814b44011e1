"""The packaged catalog: the models the issue names, their data, lifecycle warnings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from edge_voice.cli.main import main
from edge_voice.models.catalog import (
    LifecycleState,
    UnknownModelError,
    default_catalog,
)

CATALOG = default_catalog()
TODAY = dt.date(2026, 11, 24)
GA_VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
}


@pytest.mark.parametrize(
    "name",
    [
        "gpt-realtime",
        "gpt-realtime-2025-08-28",
        "gpt-realtime-mini",
        "gpt-realtime-mini-2025-10-06",
        "gpt-realtime-mini-2025-12-15",
        "gpt-realtime-1.5",
        "gpt-realtime-2",
        "gpt-realtime-2.1",
        "gpt-realtime-2.1-mini",
        "gpt-4o-realtime-preview",
        "gpt-4o-realtime-preview-2024-10-01",
        "gpt-4o-realtime-preview-2024-12-17",
        "gpt-4o-realtime-preview-2025-06-03",
        "gpt-4o-mini-realtime-preview",
        "gpt-4o-mini-realtime-preview-2024-12-17",
    ],
)
def test_catalog_has_the_model(name: str) -> None:
    model = CATALOG.get(name)
    assert model.protocol == ("beta" if "4o" in name else "ga")
    if model.protocol == "ga":
        assert set(model.voices) == GA_VOICES
    else:
        assert not {"cedar", "marin"} & set(model.voices)
    if model.alias_of:
        snapshot = CATALOG.get(model.alias_of)
        assert (snapshot.prices, snapshot.voices, snapshot.protocol) == (
            model.prices,
            model.voices,
            model.protocol,
        )


def test_reference_prices() -> None:
    new, old = CATALOG.get("gpt-realtime").prices, CATALOG.get("gpt-4o-realtime-preview").prices
    assert (new.audio_in, new.audio_out, new.text_in, new.text_out) == (32, 64, 4, 16)
    assert (old.audio_in, old.audio_out, old.text_in, old.text_out) == (40, 80, 5, 20)
    assert CATALOG.get("gpt-realtime-2.1").prices.text_out == 24
    assert CATALOG.get("gpt-realtime-mini").prices.audio_out == 20


def test_features_separate_the_generations() -> None:
    assert {"mcp", "image_input", "async_functions"} <= CATALOG.get("gpt-realtime").features
    assert (
        not {"mcp", "image_input", "async_functions"}
        & CATALOG.get("gpt-4o-realtime-preview").features
    )
    assert "reasoning" in CATALOG.get("gpt-realtime-2.1").features
    assert "reasoning" not in CATALOG.get("gpt-realtime").features


def test_lifecycle_as_of_today() -> None:
    assert CATALOG.get("gpt-realtime").lifecycle.state(TODAY) is LifecycleState.SHUTDOWN_SOON
    assert CATALOG.get("gpt-realtime").lifecycle.successor == "gpt-realtime-2.1"
    assert CATALOG.get("gpt-4o-realtime-preview").lifecycle.state(TODAY) is LifecycleState.SHUT_DOWN
    assert CATALOG.get("gpt-realtime-2.1").lifecycle.state(TODAY) is LifecycleState.ACTIVE
    assert (
        CATALOG.get("gpt-realtime").lifecycle.state(dt.date(2026, 10, 1))
        is LifecycleState.DEPRECATED
    )


def test_lifecycle_warnings_name_the_successor() -> None:
    warnings = CATALOG.lifecycle_warnings(
        {"openai.model": "gpt-realtime", "openai.legacy_model": "gpt-4o-realtime-preview"}, TODAY
    )
    text = [w.message(TODAY) for w in warnings]
    assert (
        "openai.model gpt-realtime shuts down on 2027-01-20 (57 days left); "
        "successor: gpt-realtime-2.1" in text
    )
    assert any(
        "gpt-4o-realtime-preview was shut down on 2026-05-07; successor: gpt-realtime-1.5" in t
        for t in text
    )
    assert any("beta protocol" in t and "2026-05-12" in t for t in text)
    assert CATALOG.lifecycle_warnings({"openai.model": "gpt-realtime-2.1"}, TODAY) == []


def test_unknown_model() -> None:
    with pytest.raises(UnknownModelError) as info:
        CATALOG.get("gpt-live-1")
    assert "gpt-realtime-2.1" in str(info.value)


def test_models_command_prints_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--today", "2026-11-24"]) == 0
    table = capsys.readouterr().out
    line = next(row for row in table.splitlines() if row.startswith("gpt-realtime "))
    assert "2027-01-20" in line and "gpt-realtime-2.1" in line and "shutdown_soon" in line
    assert main(["models", "--json", "--today", "2026-11-24"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["model"] for r in rows} == set(CATALOG.names())
    preview = next(r for r in rows if r["model"] == "gpt-4o-realtime-preview")
    assert (preview["status"], preview["successor"]) == ("shut_down", "gpt-realtime-1.5")
