"""The short soak CI runs: the real service for 20 conversations with every fault at least once
(bench/soak.py: a dropped answer, a refused model, a rate limit, slow first audio, an expired
session, the broker restarted, function results slow, missing, twice and late, the MCP server
gone). Its invariants must hold; its timings are not judged."""

from __future__ import annotations

import pytest

from bench.soak import FAULTS, run
from bench.soak_checks import check, table
from bench.soak_rig import FUNCTION_FAULTS

pytestmark = [pytest.mark.broker, pytest.mark.timeout(300)]

CONVERSATIONS = 20


async def test_a_short_soak_with_every_fault_keeps_every_invariant() -> None:
    figures = await run(CONVERSATIONS, seed=14)
    broken = check(figures)
    assert broken == [], table(figures, broken)
    assert set(figures.injected) == set(FAULTS), figures.injected
    # Each function fault met a call answered over MQTT (the flow applied it).
    assert set(FUNCTION_FAULTS) <= set(figures.applied_function_faults), (
        figures.applied_function_faults
    )
    assert figures.broker_restarts >= 1 and figures.broker_reconnects >= figures.broker_restarts
    assert figures.fallbacks >= 1  # the refused model fell back
    delivery = figures.delivery()
    assert delivery["published"] > CONVERSATIONS  # events of every kind went through the restarts
    assert figures.completed >= CONVERSATIONS // 2, table(figures, broken)
