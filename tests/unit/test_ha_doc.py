"""docs/HOME_ASSISTANT.md's entity table is the discovery code's: one owner of the entity list."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_voice.config.loading import validate_config
from edge_voice.mqtt.discovery import discovery_configs
from tools import ha_doc
from tools.generated import block_pattern
from tools.mqtt_api_examples import EXAMPLE_TS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "HOME_ASSISTANT.md"


@pytest.mark.parametrize("name", list(ha_doc.SECTIONS))
def test_generated_section_is_current(name: str) -> None:
    match = block_pattern(name).search(DOC.read_text(encoding="utf-8"))
    assert match, f"{DOC.name}: markers for {name} missing"
    assert match.group(2) == ha_doc.SECTIONS[name]() + "\n", (
        f"{DOC.name}: {name} is stale; run `python -m tools.ha_doc`"
    )


def test_every_entity_is_in_the_table_with_what_it_does() -> None:
    table = ha_doc.entities_table()
    configs = discovery_configs(validate_config(ha_doc.ENTITIES_CFG), today=EXAMPLE_TS.date())
    keys = {topic.split("/")[3] for topic in configs}
    assert len(table.splitlines()) == 2 + len(configs)
    for key in keys:
        assert ha_doc.purpose(key)  # a KeyError names an entity nobody described
    # The p50/p95 latency sensors and the per-wake-word numbers are described by pattern.
    by_pattern = {k for k in keys if re.fullmatch(r"latency_\w+_p(50|95)|wakeword_\w+", k)}
    described = keys - by_pattern
    assert set(ha_doc.PURPOSES) == described, set(ha_doc.PURPOSES) ^ described


def test_check_mode_reports_a_stale_doc(tmp_path: Path) -> None:
    stale = tmp_path / "HOME_ASSISTANT.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("| Cost today |", "| Cost |"))
    assert ha_doc.main(["--check", str(stale)]) == 1
    assert ha_doc.main([str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
