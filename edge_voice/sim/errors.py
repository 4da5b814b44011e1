"""Recoverable client errors, worded like the real service's (reference §7)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ClientError(Exception):
    """A client mistake answered with an `error` event; the session stays open."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.error_type = error_type


def quoted_list(values: Iterable[str]) -> str:
    """'a', 'b', and 'c' — the OpenAI way of listing supported values."""
    items = [f"'{v}'" for v in values]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def unknown_parameter(path: str) -> ClientError:
    """A field the protocol flavour does not have."""
    return ClientError("unknown_parameter", f"Unknown parameter: '{path}'.", param=path)


def missing_parameter(path: str) -> ClientError:
    """A required field that is absent."""
    return ClientError(
        "missing_required_parameter", f"Missing required parameter: '{path}'.", param=path
    )


def invalid_value(path: str, value: Any, supported: Iterable[str]) -> ClientError:
    """A value outside an enum; the message lists what is supported."""
    return ClientError(
        "invalid_value",
        f"Invalid value: '{value}'. Supported values are: {quoted_list(supported)}.",
        param=path,
    )


def invalid_type(path: str, expected: str, value: Any) -> ClientError:
    """A value of the wrong JSON type."""
    got = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )
    return ClientError(
        "invalid_type",
        f"Invalid type for '{path}': expected {expected}, but got {got} instead.",
        param=path,
    )


def out_of_range(path: str, value: float, low: float, high: float) -> ClientError:
    """A number outside [low, high]."""
    kind = "integer" if isinstance(value, int) else "decimal"
    if value > high:
        return ClientError(
            f"{kind}_above_max_value",
            f"Invalid '{path}': {kind} above maximum value. "
            f"Expected a value <= {high}, but got {value} instead.",
            param=path,
        )
    return ClientError(
        f"{kind}_below_min_value",
        f"Invalid '{path}': {kind} below minimum value. "
        f"Expected a value >= {low}, but got {value} instead.",
        param=path,
    )
