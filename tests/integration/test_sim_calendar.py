"""The simulator follows the calendar: shut-down models and the beta shape are refused."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from edge_voice.sim import RealtimeSimulator, SimConfig
from edge_voice.sim.cli import add_arguments, config_from_args
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)


async def first_reply(
    today: dt.date, model: str, *, beta: bool = False
) -> tuple[str, dict[str, object], int | None]:
    """(first event type, its error or {}, close code if it closed) on `today`."""
    async with RealtimeSimulator(SimConfig(pacing=0, today=today)) as sim:
        client = await SimClient.connect(sim.url, model, key="sk-test-0001", beta=beta)
        async with client:
            first = await client.next()
            if first["type"] == "session.created":
                return "session.created", {}, None
            code, _ = await client.wait_closed()
            return "error", dict(first["error"]), code


@pytest.mark.parametrize(
    ("today", "model", "beta", "expected"),
    [
        (dt.date(2026, 5, 6), "gpt-4o-realtime-preview", True, "session.created"),
        (dt.date(2026, 5, 7), "gpt-4o-realtime-preview", True, "model_not_found"),
        (dt.date(2026, 5, 7), "gpt-4o-realtime-preview", False, "model_not_found"),
        (dt.date(2026, 5, 12), "gpt-realtime", True, "beta_api_shape_disabled"),
        (dt.date(2026, 5, 11), "gpt-realtime", True, "session.created"),
        (dt.date(2027, 1, 19), "gpt-realtime", False, "session.created"),
        (dt.date(2027, 1, 20), "gpt-realtime", False, "model_not_found"),
        (dt.date(2027, 1, 20), "gpt-realtime-2.1", False, "session.created"),
    ],
)
async def test_models_and_beta_shape_follow_the_catalog_lifecycle(
    today: dt.date, model: str, beta: bool, expected: str
) -> None:
    kind, error, close = await first_reply(today, model, beta=beta)
    if expected == "session.created":
        assert kind == "session.created"
        return
    assert kind == "error"
    assert error["code"] == expected
    assert error["type"] == "invalid_request_error"
    assert close == 4000


async def test_the_default_date_is_the_real_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    from edge_voice.sim import config as sim_config

    monkeypatch.setattr(sim_config, "calendar_today", lambda: dt.date(2027, 2, 1))
    assert SimConfig().date() == dt.date(2027, 2, 1)
    assert SimConfig(today=dt.date(2026, 1, 1)).date() == dt.date(2026, 1, 1)


def test_cli_today_sets_the_simulator_date() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config, _ = config_from_args(parser.parse_args(["--today", "2027-01-20"]))
    assert config.today == dt.date(2027, 1, 20)
    assert config_from_args(parser.parse_args([]))[0].today is None
