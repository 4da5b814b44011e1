"""Generated blocks in markdown: `<!-- name … -->` … `<!-- /name -->`, rewritten from code."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping


def block_pattern(name: str) -> re.Pattern[str]:
    """The marker pair around generated section `name` (group 2 is its text, newline included)."""
    return re.compile(rf"(<!-- {name} [^>]*-->\n)(.*?)(<!-- /{name} -->)", re.S)


def render(text: str, sections: Mapping[str, Callable[[], str]]) -> str:
    """`text` with every generated section replaced by the current output."""
    for name, build in sections.items():
        match = block_pattern(name).search(text)
        if match is None:
            raise ValueError(f"marker for section {name!r} missing")
        # Slice rather than re.sub: generated text may contain backslashes.
        text = text[: match.start(2)] + build() + "\n" + text[match.end(2) :]
    return text
