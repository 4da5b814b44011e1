"""Cost from response.done usage, by token class, hand-computed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_voice.config.loading import validate_config
from edge_voice.metrics.cost import TokenUsage, calculate_cost

GA_USAGE = {
    "total_tokens": 2600,
    "input_tokens": 1600,
    "output_tokens": 1000,
    "input_token_details": {
        "text_tokens": 500,
        "audio_tokens": 1000,
        "image_tokens": 100,
        "cached_tokens": 400,
        "cached_tokens_details": {"text_tokens": 300, "audio_tokens": 100, "image_tokens": 0},
    },
    "output_token_details": {"text_tokens": 200, "audio_tokens": 800},
}


def test_ga_usage_is_priced_by_class() -> None:
    # uncached: text 200 × $4, audio 900 × $32, image 100 × $5; cached: text 300 × $0.40,
    # audio 100 × $0.40; output: text 200 × $16, audio 800 × $64 (per 1M tokens)
    expected = (200 * 4 + 900 * 32 + 100 * 5 + 300 * 0.40 + 100 * 0.40 + 200 * 16 + 800 * 64) / 1e6
    assert calculate_cost(GA_USAGE, "gpt-realtime") == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.08466)


def test_beta_usage_with_a_cached_total_only() -> None:
    usage = {
        "input_tokens": 1000,
        "output_tokens": 500,
        "input_token_details": {"text_tokens": 200, "audio_tokens": 800, "cached_tokens": 500},
        "output_token_details": {"text_tokens": 100, "audio_tokens": 400},
    }
    tokens = TokenUsage.from_usage(usage)
    # the cached total is split in proportion: 100 text, 400 audio
    assert (tokens.cached_text_in, tokens.cached_audio_in) == (100, 400)
    expected = (100 * 5 + 400 * 40 + 100 * 2.5 + 400 * 2.5 + 100 * 20 + 400 * 80) / 1e6
    assert calculate_cost(usage, "gpt-4o-realtime-preview") == pytest.approx(expected)


def test_flat_spec_form_counts_audio() -> None:
    assert calculate_cost(
        {"input": 1_000_000, "output": 1_000_000}, "gpt-realtime"
    ) == pytest.approx(96.0)
    assert calculate_cost(
        {"input": 1_000_000, "output": 1_000_000}, "gpt-4o-realtime-preview"
    ) == pytest.approx(120.0)


def test_gpt_realtime_is_20_percent_cheaper_for_the_same_uncached_usage() -> None:
    usage = {
        "input_token_details": {"text_tokens": 321, "audio_tokens": 4567},
        "output_token_details": {"text_tokens": 89, "audio_tokens": 2345},
    }
    ratio = calculate_cost(usage, "gpt-realtime") / calculate_cost(usage, "gpt-4o-realtime-preview")
    assert ratio == pytest.approx(0.8, rel=1e-12)


def test_cached_tokens_are_far_cheaper_on_gpt_realtime() -> None:
    usage = {
        "input_token_details": {
            "audio_tokens": 1000,
            "cached_tokens": 1000,
            "cached_tokens_details": {"audio_tokens": 1000},
        }
    }
    assert calculate_cost(usage, "gpt-realtime") == pytest.approx(1000 * 0.40 / 1e6)
    assert calculate_cost(usage, "gpt-4o-realtime-preview") == pytest.approx(1000 * 2.50 / 1e6)


def test_config_price_override_applies() -> None:
    cfg = validate_config({"models": {"gpt-realtime": {"prices": {"audio_out": 32}}}})
    usage = {"output_token_details": {"audio_tokens": 1_000_000}}
    assert calculate_cost(usage, "gpt-realtime", cfg.catalog()) == pytest.approx(32.0)
    assert calculate_cost(usage, "gpt-realtime") == pytest.approx(64.0)


@pytest.mark.parametrize(
    "usage",
    [
        {"input": -1, "output": 0},
        {"input": "ten", "output": 0},
        {"foo": 1},
        {"input_token_details": {"audio_tokens": True}},
    ],
)
def test_malformed_usage_is_refused(usage: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="usage"):
        calculate_cost(usage, "gpt-realtime")


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known models: gpt-4o-mini-realtime-preview"):
        calculate_cost({"input": 1, "output": 1}, "gpt-9")


counts = st.integers(min_value=0, max_value=10**7)


@given(text=counts, audio=counts, text_out=counts, audio_out=counts)
def test_ratio_holds_for_any_uncached_usage(
    text: int, audio: int, text_out: int, audio_out: int
) -> None:
    usage = {
        "input_token_details": {"text_tokens": text, "audio_tokens": audio},
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }
    new, old = (
        calculate_cost(usage, "gpt-realtime"),
        calculate_cost(usage, "gpt-4o-realtime-preview"),
    )
    assert new == pytest.approx(0.8 * old, rel=1e-9, abs=1e-15)
    assert TokenUsage.from_usage(usage).total == text + audio + text_out + audio_out
