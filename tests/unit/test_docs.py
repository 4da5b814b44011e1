"""The docs say what the code does: generated tables in the migration guide match the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import docs_tables
from tools.generated import block_pattern

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "OPENAI_MIGRATION.md"


@pytest.mark.parametrize("name", sorted(docs_tables.TABLES))
def test_migration_guide_tables_match_the_catalog(name: str) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    match = block_pattern(name).search(text)
    assert match, f"{name} block missing from {GUIDE.name}"
    assert match.group(2) == docs_tables.TABLES[name]() + "\n", (
        f"{GUIDE.name}: {name} is stale; run `python -m tools.docs_tables`"
    )


def test_readme_and_ci_run_the_same_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "```sh\n./scripts/test\n```" in readme
    assert "\n./scripts/test\n" in ci
