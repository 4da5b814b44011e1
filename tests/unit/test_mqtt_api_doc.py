"""docs/MQTT_API.md says what the code does: its generated sections match the current output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from edge_voice.mqtt.commands import ErrorCode
from tests.support.api_doc_schemas import documented_contract
from tools import error_codes_doc
from tools import mqtt_api_doc as api_doc
from tools.generated import block_pattern

DOC = Path(__file__).resolve().parents[2] / "docs" / "MQTT_API.md"


@pytest.mark.parametrize("name", list(api_doc.SECTIONS))
def test_generated_section_is_current(name: str) -> None:
    match = block_pattern(name).search(DOC.read_text(encoding="utf-8"))
    assert match, f"{DOC.name}: markers for {name} missing"
    assert match.group(2) == api_doc.SECTIONS[name]() + "\n", (
        f"{DOC.name}: {name} is stale; run `python -m tools.mqtt_api_doc`"
    )


def test_render_is_idempotent_and_check_mode_agrees() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert api_doc.render(text) == text
    assert api_doc.main(["--check", str(DOC)]) == 0


def test_check_mode_reports_a_stale_doc(tmp_path: Path) -> None:
    stale = tmp_path / "MQTT_API.md"
    stale.write_text(
        DOC.read_text(encoding="utf-8").replace("| `<base>/state` |", "| `<base>/status` |"),
        encoding="utf-8",
    )
    assert api_doc.main(["--check", str(stale)]) == 1
    assert api_doc.main([str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


def test_missing_marker_is_an_error() -> None:
    with pytest.raises(ValueError, match="topics_table"):
        api_doc.render("no markers here")


def test_every_error_code_is_described() -> None:
    assert set(error_codes_doc.ERROR_DESCRIPTIONS) == set(ErrorCode)


def test_doc_covers_every_payload_model_and_json_examples_parse() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in api_doc.INCOMING_MODELS + api_doc.OUTGOING_MODELS:
        assert f"`{model.__name__}`" in text
    for block in re.findall(r"```json\n(.*?)\n```", text, re.S):
        json.loads(block)


def test_every_json_example_follows_its_documented_schema() -> None:
    contract = documented_contract("edge_voice/kitchen", "edge_voice")
    section = DOC.read_text(encoding="utf-8").split("<!-- examples ")[1].split("<!-- /examples")[0]
    checked: set[str] = set()
    for line in re.findall(r"^(\S+)  (\{.*\})$", section, re.M):
        topic, payload = line
        for direction in ("out", "in"):
            model = contract.model_for(topic, direction)
            if model is not None:
                assert contract.errors(model, json.loads(payload)) == [], (topic, model)
                checked.add(model)
    outgoing = {m.__name__ for m in api_doc.OUTGOING_MODELS}
    assert outgoing <= checked, outgoing - checked
    assert {"FunctionCallResult", "ToolPayload", "ArbitrationClaim"} <= checked
