"""Generated blocks in markdown: `<!-- name … -->` … `<!-- /name -->`, rewritten from code."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


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


def rewrite_main(
    argv: Sequence[str] | None, default_doc: str, sections: Mapping[str, Callable[[], str]]
) -> int:
    """`python -m tools.X [DOC] [--check]`: rewrite DOC's generated sections, or exit 1 if stale."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    path = Path(paths[0] if paths else default_doc)
    text = path.read_text(encoding="utf-8")
    new = render(text, sections)
    if check:
        return 0 if new == text else 1
    if new != text:
        path.write_text(new, encoding="utf-8")
    return 0
