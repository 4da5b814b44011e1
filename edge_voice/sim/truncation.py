"""The GA session's `truncation` field, parsed as the service validates it (reference §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge_voice.sim.errors import invalid_type, invalid_value, out_of_range


@dataclass(frozen=True)
class Truncation:
    """A parsed `truncation`: mode, the retention ratio and an optional post-instructions limit."""

    mode: str = "auto"  # auto | disabled | retention_ratio
    ratio: float = 1.0
    post_instructions: int | None = None


def parse_truncation(value: Any, path: str) -> Truncation:
    """A `truncation` value as the GA service accepts it, or the client error it would send."""
    if value in ("auto", "disabled"):
        return Truncation(mode=value)
    if isinstance(value, str):
        raise invalid_value(path, value, ("auto", "disabled"))
    if not isinstance(value, dict):
        raise invalid_type(path, "'auto', 'disabled' or an object", value)
    if value.get("type") != "retention_ratio":
        raise invalid_value(f"{path}.type", value.get("type"), ("retention_ratio",))
    ratio = value.get("retention_ratio")
    if isinstance(ratio, bool) or not isinstance(ratio, int | float):
        raise invalid_type(f"{path}.retention_ratio", "a number", ratio)
    if not 0 <= ratio <= 1:
        raise out_of_range(f"{path}.retention_ratio", ratio, 0, 1)
    limits = value.get("token_limits") or {}
    post = limits.get("post_instructions") if isinstance(limits, dict) else None
    if post is not None and (isinstance(post, bool) or not isinstance(post, int) or post < 1):
        raise invalid_type(f"{path}.token_limits.post_instructions", "a positive integer", post)
    return Truncation("retention_ratio", float(ratio), post)


def checked_truncation(value: Any, path: str) -> Any:
    """`value` unchanged once it parses (the session shows it as it was sent)."""
    parse_truncation(value, path)
    return value
