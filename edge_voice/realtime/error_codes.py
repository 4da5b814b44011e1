"""The public vocabulary of realtime errors: one snake_case code per error class."""

from __future__ import annotations

import re
from typing import Final

from edge_voice.realtime.errors import RealtimeError

#: What every public error code looks like (`event/error.code`, `event/fallback.reason`).
CODE_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]*$")


def error_classes(root: type[RealtimeError] = RealtimeError) -> list[type[RealtimeError]]:
    """`root` and every subclass defined so far (import a module to include its errors)."""
    found = [root]
    for sub in root.__subclasses__():
        found += [cls for cls in error_classes(sub) if cls not in found]
    return found


def realtime_error_codes() -> dict[str, str]:
    """Each class's `default_code` with the first line of its docstring, in definition order."""
    codes: dict[str, str] = {}
    for cls in error_classes():
        doc = (cls.__doc__ or "").strip().splitlines()
        codes.setdefault(cls.default_code, doc[0] if doc else "")
    return codes
