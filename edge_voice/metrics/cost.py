"""Token usage by class and its cost in USD, from `response.done` usage objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from edge_voice.models.catalog import ModelCatalog, default_catalog


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one or more responses, split into the classes OpenAI prices separately."""

    text_in: int = 0
    cached_text_in: int = 0
    audio_in: int = 0
    cached_audio_in: int = 0
    image_in: int = 0
    cached_image_in: int = 0
    text_out: int = 0
    audio_out: int = 0

    @property
    def total(self) -> int:
        """All tokens, input and output."""
        return sum(getattr(self, f.name) for f in fields(self))

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def as_dict(self) -> dict[str, int]:
        """The counts by token class."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_usage(cls, usage: Mapping[str, Any] | TokenUsage) -> TokenUsage:
        """Parse a GA or beta `response.done` usage object, or the spec's flat form."""
        if isinstance(usage, TokenUsage):
            return usage
        if "input_token_details" in usage or "output_token_details" in usage:
            return _from_realtime_usage(usage)
        if set(usage) <= {"input", "output"}:
            # The migration spec's flat {'input': n, 'output': n}: voice traffic, so audio.
            return cls(audio_in=_count(usage, "input"), audio_out=_count(usage, "output"))
        if set(usage) <= {f.name for f in fields(cls)}:
            return cls(**{k: _count(usage, k) for k in usage})
        if "input_tokens" in usage or "output_tokens" in usage:
            # Totals without details: no way to split, so count them as text.
            return cls(
                text_in=_count(usage, "input_tokens"), text_out=_count(usage, "output_tokens")
            )
        raise ValueError(f"unrecognised usage object with keys {sorted(usage)}")


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"usage.{key} must be a non-negative number, got {value!r}")
    return int(value)


def _from_realtime_usage(usage: Mapping[str, Any]) -> TokenUsage:
    details_in: Mapping[str, Any] = usage.get("input_token_details") or {}
    details_out: Mapping[str, Any] = usage.get("output_token_details") or {}
    text = _count(details_in, "text_tokens")
    audio = _count(details_in, "audio_tokens")
    image = _count(details_in, "image_tokens")
    cached_total = _count(details_in, "cached_tokens")
    cached_details: Mapping[str, Any] | None = details_in.get("cached_tokens_details")
    if cached_details:
        c_text = _count(cached_details, "text_tokens")
        c_audio = _count(cached_details, "audio_tokens")
        c_image = _count(cached_details, "image_tokens")
    else:
        # Beta usage has only a cached total: split it in proportion to the input classes.
        c_text, c_audio, c_image = _split_cached(cached_total, text, audio, image)
    # Cached tokens are a subset of the input tokens of their class.
    return TokenUsage(
        text_in=max(text - c_text, 0),
        cached_text_in=min(c_text, text) if text else c_text,
        audio_in=max(audio - c_audio, 0),
        cached_audio_in=min(c_audio, audio) if audio else c_audio,
        image_in=max(image - c_image, 0),
        cached_image_in=min(c_image, image) if image else c_image,
        text_out=_count(details_out, "text_tokens"),
        audio_out=_count(details_out, "audio_tokens"),
    )


def _split_cached(cached: int, text: int, audio: int, image: int) -> tuple[int, int, int]:
    total = text + audio + image
    if cached <= 0 or total <= 0:
        return 0, 0, 0
    c_text = round(cached * text / total)
    c_image = round(cached * image / total)
    return c_text, max(cached - c_text - c_image, 0), c_image


def calculate_cost(
    usage: Mapping[str, Any] | TokenUsage, model: str, catalog: ModelCatalog | None = None
) -> float:
    """Cost in USD of `usage` on `model`, with the catalog's (possibly overridden) prices."""
    prices = (catalog or default_catalog()).get(model).prices
    tokens = TokenUsage.from_usage(usage)
    return sum(count * prices.per_token(name) for name, count in tokens.as_dict().items())
