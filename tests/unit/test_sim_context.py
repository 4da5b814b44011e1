"""The simulator's context window: truncation modes cut the oldest items, or overflow."""

from __future__ import annotations

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.sim.context import fit_context, input_limit
from edge_voice.sim.conversation import Conversation, Item, Part, TokenCounts
from edge_voice.sim.errors import ClientError
from edge_voice.sim.truncation import parse_truncation

MODEL = default_catalog().get("gpt-realtime")
LIMIT = 32_000 - 4_096
PREFIX = TokenCounts(text=1_000)


def conversation(*tokens: int) -> Conversation:
    conv = Conversation()
    for n, weight in enumerate(tokens):
        conv.add(
            Item(
                id=f"item_{n}",
                type="message",
                role="user",
                parts=[Part("input_text", "x" * 4 * weight)],
            )
        )
    return conv


def test_the_input_limit_is_the_window_minus_the_maximum_output() -> None:
    assert input_limit(MODEL) == LIMIT
    assert input_limit(default_catalog().get("gpt-realtime-2.1")) == 128_000 - 32_000


def test_nothing_is_cut_while_it_fits() -> None:
    conv = conversation(10_000, 10_000)
    assert fit_context(conv, "auto", MODEL, PREFIX).cut == 0
    assert conv.tokens().total == 20_000


def test_auto_cuts_just_enough_of_the_oldest() -> None:
    conv = conversation(10_000, 10_000, 5_000, 5_000)  # 30k > 26,904 after the prefix
    fit = fit_context(conv, "auto", MODEL, PREFIX)
    assert (fit.cut, fit.overflow) == (1, False)
    assert conv.cut_ids == {"item_0"}
    assert conv.tokens().total == 20_000


def test_retention_ratio_cuts_to_its_share() -> None:
    conv = conversation(*[2_000] * 15)  # 30k
    fit = fit_context(conv, {"type": "retention_ratio", "retention_ratio": 0.5}, MODEL, PREFIX)
    assert conv.tokens().total <= 0.5 * (LIMIT - PREFIX.total)
    assert conv.tokens().total > 0.5 * (LIMIT - PREFIX.total) - 2_000
    assert fit.cut == 9


def test_post_instructions_limit_replaces_the_models() -> None:
    conv = conversation(*[1_000] * 6)
    truncation = {
        "type": "retention_ratio",
        "retention_ratio": 1.0,
        "token_limits": {"post_instructions": 4_000},
    }
    assert fit_context(conv, truncation, MODEL, PREFIX).cut == 2


def test_disabled_overflows_and_cuts_nothing() -> None:
    conv = conversation(20_000, 10_000)
    fit = fit_context(conv, "disabled", MODEL, PREFIX)
    assert (fit.cut, fit.overflow) == (0, True)
    assert conv.tokens().total == 30_000


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("sometimes", "invalid_value"),
        (3, "invalid_type"),
        ({"type": "tokens"}, "invalid_value"),
        ({"type": "retention_ratio", "retention_ratio": 2}, "integer_above_max_value"),
        ({"type": "retention_ratio", "retention_ratio": "a"}, "invalid_type"),
    ],
)
def test_bad_values_get_the_services_errors(value: object, code: str) -> None:
    with pytest.raises(ClientError) as caught:
        parse_truncation(value, "session.truncation")
    assert caught.value.code == code
